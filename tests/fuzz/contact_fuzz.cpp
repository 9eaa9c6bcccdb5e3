// Fuzz target: the crawler's contact state machine (core/crawl/contact), outbound or inbound,
// fed a fuzz-chosen sequence of events: upgrade done/failed/rejected, PEX messages (a
// PexRequest, a PexAddrs, or raw bytes), the peer failing, time passing on a fake clock,
// ticks, abandon. Checks: every send is a PEX message, at most one PexRequest (outbound only,
// never before request_delay after the handshake) and at most one answer per contact; one
// close, last, graceful exactly for ok/served/no_answer/idle; at most one NodeSeen and one
// ContactRecord, the record matching outcome() and none after abandon; nothing happens after
// the end; ok only after our request, with what the answer held.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/crawl/contact.hpp"
#include "core/pex/pex_messages.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/fuzz_invariant.hpp"
#include "support/fake_clock.hpp"

using namespace seedscope;
using namespace seedscope::crawl;

namespace {

constexpr std::array<Reason, 8> kReasons = {Reason::kClosed,      Reason::kIoError,
                                            Reason::kRefused,     Reason::kTimeout,
                                            Reason::kMalformed,   Reason::kIncompatibleNetwork,
                                            Reason::kPongTimeout, Reason::kAuthFailure};
constexpr std::array<Stage, 4> kStages = {Stage::kDial, Stage::kSecretHandshake, Stage::kNodeInfo,
                                          Stage::kMConnection};

using seedscope::fuzz::Input;

NodeInfo node(std::uint8_t b) {
  NodeInfo n;
  n.node_id = (b & 0x01) ? std::string(40, 'c') : "";
  n.network = (b & 0x02) ? "chain-a" : ((b & 0x04) ? "" : "bad chain id");
  n.listen_addr = "tcp://127.0.0.1:26656";
  n.version = "0.34.24";
  n.channels = {0x00};
  return n;
}

Failure failure(std::uint8_t b) {
  return {kStages[b % kStages.size()], kReasons[(b >> 2) % kReasons.size()]};
}

struct Tally {
  int requests = 0, answers = 0, closes = 0, seen = 0, records = 0;
  std::optional<TimePoint> upgraded_at;
  std::optional<std::vector<NetAddress>> last_addrs; // of the last PexAddrs delivered
  bool addrs_after_request = false;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 8192) return 0;
  const std::uint8_t setup = data[0];
  test::FakeClock clock;
  ContactConfig config;
  config.request_delay = Millis(250);
  config.pex_timeout = Millis(10000);
  config.full_window = Millis(2000);
  config.inbound_hold = Millis(30000);
  const NetAddress remote{std::string(40, 'c'), IpAddress::v4(127, 0, 0, 9), 26656};
  SeedDirectory directory = [&](const NodeInfo&) {
    return std::vector<NetAddress>{remote, NetAddress{"", IpAddress::v4(127, 0, 0, 8), 1}};
  };
  const bool inbound = setup & 0x01;
  ScheduledAddress dialed;
  dialed.addr = remote;
  dialed.network = "chain-a";
  Contact c = inbound ? Contact::inbound(remote, config, clock, directory)
                      : Contact::outbound(dialed, config, clock,
                                          (setup & 0x02) ? directory : SeedDirectory{});
  Tally t;
  bool ended = false; // finished or abandoned, as seen after the previous event
  Input in{data, size, 1};
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    const std::uint8_t arg = in.byte();
    switch (op % 9) {
    case 0:
      if (!c.finished() && !t.upgraded_at) t.upgraded_at = clock.mono(); // it takes effect
      c.on_upgraded(node(arg), {1.0, 2.0});
      break;
    case 1:
      c.on_upgrade_failed(failure(arg), "upgrade failed",
                          (arg & 0x80) ? std::optional<NodeInfo>(node(arg)) : std::nullopt, {});
      break;
    case 2:
      c.on_rejected(failure(arg), "rejected",
                    (arg & 0x80) ? std::optional<NodeInfo>(node(arg)) : std::nullopt);
      break;
    case 3: c.on_message(pex::encode_pex_request()); break;
    case 4: {
      std::vector<NetAddress> addrs(arg % 4, remote);
      t.last_addrs = addrs;
      t.addrs_after_request = t.requests > 0;
      c.on_message(pex::encode_pex_addrs(addrs));
      break;
    }
    case 5: {
      const ByteSpan raw = in.take(arg);
      auto decoded = pex::decode_pex_message(raw);
      if (decoded && !decoded->is_request()) {
        t.last_addrs = decoded->addrs;
        t.addrs_after_request = t.requests > 0;
      }
      c.on_message(raw);
      break;
    }
    case 6: c.on_peer_failed(failure(arg), "peer failed"); break;
    case 7: clock.advance(Millis(std::int64_t{arg} << (in.byte() % 16))); break;
    case 8:
      if (arg & 0x80) c.abandon();
      else if (clock.mono() >= c.next_deadline()) c.on_tick();
      break;
    }
    const auto actions = c.take_actions();
    const auto observations = c.take_observations();
    if (ended) FUZZ_INVARIANT(actions.empty() && observations.empty());
    for (std::size_t i = 0; i < actions.size(); ++i) {
      const ContactAction& a = actions[i];
      if (a.kind == ContactAction::Kind::kClose) {
        ++t.closes;
        FUZZ_INVARIANT(i + 1 == actions.size());
        FUZZ_INVARIANT(c.finished());
        if (!c.abandoned()) {
          const Outcome o = c.outcome();
          const bool graceful = o == Outcome::kOk || o == Outcome::kServed ||
                                o == Outcome::kNoAnswer || o == Outcome::kIdle;
          FUZZ_INVARIANT(a.graceful == graceful);
        }
        continue;
      }
      auto decoded = pex::decode_pex_message(a.pex_message);
      FUZZ_INVARIANT(decoded.ok());
      if (decoded->is_request()) {
        ++t.requests;
        FUZZ_INVARIANT(!inbound);
        FUZZ_INVARIANT(t.upgraded_at && clock.mono() >= *t.upgraded_at + config.request_delay);
      } else {
        ++t.answers;
        FUZZ_INVARIANT(decoded->addrs.size() == c.served());
      }
    }
    for (const auto& o : observations) {
      if (std::holds_alternative<observe::NodeSeen>(o)) ++t.seen;
      if (const auto* r = std::get_if<observe::ContactRecord>(&o)) {
        ++t.records;
        FUZZ_INVARIANT(c.finished() && !c.abandoned());
        FUZZ_INVARIANT(r->outcome == c.outcome());
        FUZZ_INVARIANT(r->inbound == inbound);
        if (r->outcome == Outcome::kOk) {
          FUZZ_INVARIANT(!inbound && t.requests == 1 && t.addrs_after_request);
          FUZZ_INVARIANT(t.last_addrs && c.learnt() == *t.last_addrs);
          FUZZ_INVARIANT(r->addrs_received == static_cast<std::int64_t>(c.learnt().size()));
        }
        if (r->outcome == Outcome::kServed) FUZZ_INVARIANT(inbound && t.answers == 1);
      }
    }
    FUZZ_INVARIANT(t.requests <= 1 && t.answers <= 1 && t.closes <= 1);
    FUZZ_INVARIANT(t.seen <= 1 && t.records <= 1);
    FUZZ_INVARIANT(c.finished() == (t.closes == 1));
    if (c.finished()) FUZZ_INVARIANT(c.next_deadline() == TimePoint::max());
    if (c.abandoned()) FUZZ_INVARIANT(t.records == 0);
    ended = c.finished();
  }
  return 0;
}
