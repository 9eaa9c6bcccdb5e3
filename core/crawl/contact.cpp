#include "core/crawl/contact.hpp"

#include <fmt/format.h>

#include "core/pex/addr_book.hpp"
#include "core/pex/pex_messages.hpp"

namespace seedscope::crawl {

// Whoever asks, on either side, is answered once: a connection carries one exchange.
Contact::Contact(bool inbound, ContactConfig config, const Clock& clock)
    : inbound_(inbound),
      config_(config),
      clock_(&clock),
      rules_(pex::PexPeerRules::Serving::kOnce) {}

Contact Contact::outbound(const ScheduledAddress& dialed, ContactConfig config, const Clock& clock,
                          SeedDirectory directory) {
  Contact c(false, config, clock);
  c.dialed_ = dialed;
  c.remote_ = dialed.addr;
  c.directory_ = std::move(directory);
  return c;
}

Contact Contact::inbound(const NetAddress& remote, ContactConfig config, const Clock& clock,
                         SeedDirectory directory) {
  Contact c(true, config, clock);
  c.remote_ = remote;
  c.directory_ = std::move(directory);
  return c;
}

std::string Contact::network() const { return info_ ? info_->network : dialed_.network; }

void Contact::saw_node(const NodeInfo& info) {
  info_ = info;
  if (inbound_) remote_.id = info.node_id;
  observations_.push_back(observe::NodeSeen{info, clock_->wall(), !inbound_});
}

// --- events ----------------------------------------------------------------------------------

void Contact::on_upgraded(const NodeInfo& peer, ContactTimings timings) {
  if (state_ != State::kUpgrading) return;
  timings_ = timings;
  saw_node(peer);
  handshaken_at_ = clock_->mono();
  if (inbound_) {
    state_ = State::kHolding;
    deadline_ = handshaken_at_ + config_.inbound_hold;
  } else {
    state_ = State::kWaiting;
    deadline_ = handshaken_at_ + config_.request_delay;
  }
}

void Contact::on_upgrade_failed(const Failure& failure, std::string detail,
                                const std::optional<NodeInfo>& peer, ContactTimings timings) {
  if (state_ != State::kUpgrading) return;
  timings_ = timings;
  // An authenticated node of another chain or version is still a node we now know (an inbound
  // one only under a chain ID a chain can have).
  const bool refused_for_its_info = failure.reason == Reason::kIncompatibleNetwork ||
                                    failure.reason == Reason::kIncompatibleVersion ||
                                    failure.reason == Reason::kNoCommonChannel;
  if (!inbound_ && peer && refused_for_its_info && !peer->node_id.empty()) saw_node(*peer);
  else if (inbound_ && peer && validate_chain_id(peer->network)) info_ = peer;
  finish(classify(failure, false), failure, std::move(detail));
}

void Contact::on_rejected(const Failure& failure, std::string detail,
                          const std::optional<NodeInfo>& peer) {
  if (state_ == State::kDone) return;
  info_ = peer;
  if (peer && inbound_) remote_.id = peer->node_id;
  finish(Outcome::kRejected, failure, std::move(detail));
}

void Contact::on_message(ByteSpan pex_message) {
  if (state_ == State::kDone || state_ == State::kUpgrading) return;
  got_message_ = true;
  auto decoded = pex::decode_pex_message(pex_message);
  if (!decoded) {
    const bool bad_addr = decoded.error().code == pex::PexMessageError::kBadAddress;
    return finish(Outcome::kMisbehaving,
                  {Stage::kPex, bad_addr ? Reason::kBadAddrs : Reason::kMalformed},
                  decoded.error().message());
  }
  if (decoded->is_request()) return on_request();
  on_addrs(std::move(decoded->addrs));
}

void Contact::on_request() {
  const auto verdict = rules_.on_request(clock_->mono());
  if (verdict != pex::PexPeerRules::Verdict::kAnswer) return; // one answer per connection
  std::vector<NetAddress> answer;
  if (directory_ && info_) answer = directory_(*info_);
  served_ = answer.size();
  actions_.push_back({ContactAction::Kind::kSend, pex::encode_pex_addrs(answer), false});
  if (inbound_) {
    // The seed rule: one answer, then hang up once it is flushed.
    finish(Outcome::kServed, {Stage::kLocalPolicy, Reason::kDone},
           fmt::format("answered with {} addresses", answer.size()));
  }
}

void Contact::on_addrs(std::vector<NetAddress> addrs) {
  if (inbound_ || !rules_.take_answer()) {
    return finish(Outcome::kMisbehaving, {Stage::kPex, Reason::kUnsolicitedAddrs},
                  fmt::format("PexAddrs of {} addresses nobody asked for", addrs.size()));
  }
  received_ = addrs.size();
  // Go never sends more than GetSelection's 250; what a peer sends beyond is not taken.
  if (addrs.size() > pex::kMaxGetSelection) addrs.resize(pex::kMaxGetSelection);
  learnt_ = std::move(addrs);
  finish(Outcome::kOk, {}, "");
}

void Contact::on_peer_failed(const Failure& failure, std::string detail) {
  if (state_ == State::kDone || state_ == State::kUpgrading) return;
  const bool closed = failure.reason == Reason::kClosed || failure.reason == Reason::kIoError;
  if (inbound_)
    return finish(closed ? Outcome::kIdle : Outcome::kMisbehaving, failure, std::move(detail));
  if (closed && !got_message_ && clock_->mono() - handshaken_at_ <= config_.full_window)
    return finish(Outcome::kFull, {Stage::kLocalPolicy, Reason::kFullAfterHandshake},
                  "hung up right after the handshake: " + detail);
  if (closed || failure.reason == Reason::kPongTimeout)
    return finish(Outcome::kNoAnswer, failure, std::move(detail));
  finish(Outcome::kMisbehaving, failure, std::move(detail));
}

void Contact::on_tick() {
  if (state_ == State::kDone || clock_->mono() < deadline_) return;
  switch (state_) {
  case State::kWaiting: return send_request();
  case State::kAsked:
    return finish(Outcome::kNoAnswer, {Stage::kPex, Reason::kTimeout},
                  "no PexAddrs within pex_timeout");
  case State::kHolding:
    return finish(Outcome::kIdle, {Stage::kLocalPolicy, Reason::kDone},
                  "asked nothing; let go after inbound_hold");
  default: return;
  }
}

void Contact::send_request() {
  if (!rules_.begin_request()) return;
  actions_.push_back({ContactAction::Kind::kSend, pex::encode_pex_request(), false});
  state_ = State::kAsked;
  deadline_ = clock_->mono() + config_.pex_timeout;
}

void Contact::abandon() {
  if (state_ == State::kDone) return;
  abandoned_ = true;
  state_ = State::kDone;
  deadline_ = TimePoint::max();
  actions_.push_back({ContactAction::Kind::kClose, {}, false});
}

// --- the verdict -----------------------------------------------------------------------------

void Contact::finish(Outcome outcome, Failure failure, std::string detail) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  deadline_ = TimePoint::max();
  outcome_ = outcome;
  failure_ = failure;
  const bool graceful = outcome == Outcome::kOk || outcome == Outcome::kServed ||
                        outcome == Outcome::kNoAnswer || outcome == Outcome::kIdle;
  actions_.push_back({ContactAction::Kind::kClose, {}, graceful});
  observe::ContactRecord c;
  c.at = clock_->wall();
  c.inbound = inbound_;
  c.addr = remote_;
  c.network = network();
  c.outcome = outcome;
  c.failure = outcome == Outcome::kOk ? Failure{} : failure;
  c.detail = std::move(detail);
  c.connect_ms = timings_.connect_ms;
  c.handshake_ms = timings_.handshake_ms;
  c.addrs_received = static_cast<std::int64_t>(received_);
  observations_.push_back(std::move(c));
}

} // namespace seedscope::crawl
