// Fuzz target: MConnection, packets and reassembly, driven by a fake clock.
// Byte 0 picks the configuration (payload size, send rate, a small receive capacity) and the
// mode; the rest is a program of (op, argument) byte pairs run against connection A, whose
// transmissions go to an honest peer B (same channels):
//   raw mode:  A reads fuzz bytes, in fuzz-chosen pieces. Whatever A reassembled (and the
//              error it stopped at) must equal what a second connection fed the same bytes in
//              one piece reassembles.
//   loop mode: A reads what B transmits. Every message sent on either side must arrive whole,
//              in order per channel, as soon as the other side has flushed it.
// In both modes B must accept every byte A transmits, an error from on_timer can only be a
// pong timeout, send() must agree with can_send(), and the receive stats must count what
// take_received() returned.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <system_error>
#include <vector>

#include "core/mconn/mconnection.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;
using namespace seedscope::mconn;

namespace {

constexpr std::array<ChannelId, 4> kChannels = {0x00, 0x20, 0x30, 0x99}; // 0x99: unregistered

std::vector<ChannelDescriptor> channels(bool small_capacity) {
  return {{0x00, 1, 2, small_capacity ? std::size_t{64} : std::size_t{4096}},
          {0x20, 5, 4, 22020096},
          {0x30, 1, 1, 1024}};
}

// The honest peer takes any message size A may send.
std::vector<ChannelDescriptor> peer_channels() {
  return {{0x00, 1, 2, 22020096}, {0x20, 5, 4, 22020096}, {0x30, 1, 1, 22020096}};
}

using PerChannel = std::map<ChannelId, std::vector<Bytes>>;

using seedscope::fuzz::Input;

class Run {
public:
  Run(std::uint8_t setup)
      : raw_(setup & 0x04),
        config_(make_config(setup)),
        a_(channels(setup & 0x20), config_, now_),
        b_(peer_channels(), peer_config(config_), now_),
        reference_(channels(setup & 0x20), config_, now_) {}

  void step(std::uint8_t op, std::uint8_t arg, Input& in) {
    switch (op % 8) {
    case 0: return raw_ ? feed_raw(in.take(arg)) : deliver_b_to_a(arg);
    case 1: now_ += Millis(arg < 200 ? arg * 10 : (arg - 199) * 5000); return;
    case 2: return timer_a();
    case 3: return deliver_a_to_b(arg, false);
    case 4: return send(a_, a_sent_, arg, in.byte());
    case 5: return send(b_, b_sent_, arg, in.byte());
    case 6: (void)a_.recv_allowance(now_); return take_a();
    case 7: return deliver_a_to_b(arg, true);
    }
  }

  void finish() {
    if (raw_ && !timed_out_) reference_check();
    if (a_failed_) return;
    deliver_a_to_b(7, true);
    for (const auto& [ch, msgs] : a_sent_) FUZZ_INVARIANT(b_received_[ch] == msgs);
    if (raw_) return;
    deliver_b_to_a(0, true);
    if (a_failed_) return;
    take_a();
    for (const auto& [ch, msgs] : b_sent_) FUZZ_INVARIANT(a_received_[ch] == msgs);
  }

private:
  static MConnConfig make_config(std::uint8_t setup) {
    static constexpr std::array<std::size_t, 4> kPayload = {1, 7, 64, 1024};
    static constexpr std::array<std::uint64_t, 4> kRate = {0, 1000, 100000, 5120000};
    MConnConfig c;
    c.max_packet_msg_payload_size = kPayload[setup & 0x03];
    c.send_rate = kRate[(setup >> 3) & 0x03];
    c.recv_rate = kRate[(setup >> 6) & 0x03];
    c.flush_throttle = Millis(100);
    c.ping_interval = Millis(60000);
    c.pong_timeout = Millis(45000);
    return c;
  }
  static MConnConfig peer_config(MConnConfig c) {
    c.send_rate = 0;
    c.recv_rate = 0;
    return c;
  }

  void feed_raw(ByteSpan bytes) {
    if (a_failed_) return;
    append(raw_fed_, bytes);
    Status st = a_.on_plaintext(bytes, now_);
    if (!st) {
      FUZZ_INVARIANT(st.error().code.category() == mconn_category());
      FUZZ_INVARIANT(st.error().code != MConnError::kPongTimeout);
      a_failed_ = true;
      a_error_ = st.error().code;
    }
    take_a();
  }

  void timer_a() {
    if (a_failed_) return;
    Status st = a_.on_timer(now_);
    if (!st) {
      FUZZ_INVARIANT(st.error().code == MConnError::kPongTimeout);
      a_failed_ = true;
      timed_out_ = true;
    }
  }

  // A's transmission, as B reads it in pieces of `piece` bytes (at least 1).
  void deliver_a_to_b(std::uint8_t piece, bool flush) {
    if (a_failed_) return;
    const Bytes out = flush ? a_.flush_all() : a_.poll_transmit(now_);
    const std::size_t step = std::size_t(piece % 64) + 1;
    for (std::size_t at = 0; at < out.size(); at += step) {
      Status st = b_.on_plaintext(ByteSpan(out).subspan(at, std::min(step, out.size() - at)), now_);
      FUZZ_INVARIANT(st.ok()); // A only ever writes well-formed packets
    }
    for (auto& m : b_.take_received()) b_received_[m.channel].push_back(std::move(m.data));
    for (const auto& [ch, got] : b_received_) {
      const auto& sent = a_sent_[ch];
      FUZZ_INVARIANT(got.size() <= sent.size());
      for (std::size_t i = 0; i < got.size(); ++i) FUZZ_INVARIANT(got[i] == sent[i]);
    }
  }

  void deliver_b_to_a(std::uint8_t piece, bool flush = false) {
    if (a_failed_) return;
    const Bytes out = flush ? b_.flush_all() : b_.poll_transmit(now_);
    const std::size_t step = std::size_t(piece % 64) + 1;
    for (std::size_t at = 0; at < out.size(); at += step) {
      Status st = a_.on_plaintext(ByteSpan(out).subspan(at, std::min(step, out.size() - at)), now_);
      // B sends only on A's channels, but a message may be over A's small capacity.
      if (!st) {
        FUZZ_INVARIANT(st.error().code == MConnError::kMessageOverCapacity);
        a_failed_ = true;
        return;
      }
    }
    take_a();
    for (const auto& [ch, got] : a_received_) {
      const auto& sent = b_sent_[ch];
      FUZZ_INVARIANT(got.size() <= sent.size());
      for (std::size_t i = 0; i < got.size(); ++i) FUZZ_INVARIANT(got[i] == sent[i]);
    }
  }

  void send(MConnection& conn, PerChannel& log, std::uint8_t which, std::uint8_t length) {
    const ChannelId ch = kChannels[which % kChannels.size()];
    Bytes msg(std::size_t{length} * 13 % 3001);
    for (std::size_t i = 0; i < msg.size(); ++i)
      msg[i] = static_cast<std::uint8_t>(counter_ * 31 + i);
    ++counter_;
    const bool could = conn.can_send(ch);
    const bool sent = conn.send(ch, msg);
    FUZZ_INVARIANT(sent == could);
    FUZZ_INVARIANT(sent || ch == 0x99 || conn.has_channel(ch));
    if (sent) log[ch].push_back(std::move(msg));
  }

  void take_a() {
    for (auto& m : a_.take_received()) {
      FUZZ_INVARIANT(a_.has_channel(m.channel));
      a_received_[m.channel].push_back(std::move(m.data));
    }
    for (const auto& [ch, msgs] : a_received_) {
      const ChannelStats* stats = a_.stats(ch);
      FUZZ_INVARIANT(stats != nullptr && stats->messages_received == msgs.size());
    }
  }

  // Raw mode: the same bytes in one piece give the same messages and the same error.
  void reference_check() {
    take_a();
    Status st = reference_.on_plaintext(raw_fed_, now_);
    PerChannel got;
    for (auto& m : reference_.take_received()) got[m.channel].push_back(std::move(m.data));
    std::optional<std::error_code> error;
    if (!st) error = st.error().code;
    FUZZ_INVARIANT(error == a_error_);
    for (auto& [ch, msgs] : got) FUZZ_INVARIANT(a_received_[ch] == msgs);
    for (auto& [ch, msgs] : a_received_) FUZZ_INVARIANT(got[ch] == msgs);
  }

  bool raw_;
  MConnConfig config_;
  TimePoint now_{Millis(1'000'000)};
  MConnection a_;
  MConnection b_;
  MConnection reference_;
  PerChannel a_sent_, b_sent_, a_received_, b_received_;
  Bytes raw_fed_;
  bool a_failed_ = false;
  bool timed_out_ = false;
  std::optional<std::error_code> a_error_;
  std::size_t counter_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 65536) return 0;
  Input in{data, size, 1};
  Run run(data[0]);
  while (!in.empty()) {
    const std::uint8_t op = in.byte();
    const std::uint8_t arg = in.byte();
    run.step(op, arg, in);
  }
  run.finish();
  return 0;
}
