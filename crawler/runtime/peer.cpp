#include "crawler/runtime/peer.hpp"

#include <algorithm>

namespace seedscope::runtime {

namespace {
// Stop producing packets while this much is queued on the socket (Go's bufio writer plus a
// few frames in flight).
constexpr std::size_t kWriteHighWater = 256 * 1024;
} // namespace

Peer::Peer(Loop& loop, std::unique_ptr<Connection> connection, PeerInfo info,
           const std::vector<mconn::ChannelDescriptor>& channels, const mconn::MConnConfig& config)
    : loop_(loop),
      conn_(std::move(connection)),
      info_(std::move(info)),
      mconn_(channels, config, loop.now()),
      timer_(loop) {}

Peer::~Peer() {
  timer_.stop();
  if (conn_) conn_->abort();
}

void Peer::start(MessageHandler on_message, ErrorHandler on_error) {
  on_message_ = std::move(on_message);
  on_error_ = std::move(on_error);
  conn_->set_handlers([this](ByteSpan data) { on_data(data); },
                      [this](const Failure& why, const std::string& detail) { fail(why, detail); });
  conn_->set_drain_handler([this] { pump(); });
  Bytes early = conn_->take_leftover_plaintext();
  if (!early.empty()) {
    on_data(early);
    if (stopped_) return;
  }
  pump();
}

bool Peer::send(mconn::ChannelId channel, Bytes msg) {
  if (stopped_ || !mconn_.send(channel, std::move(msg))) return false;
  pump();
  return true;
}

bool Peer::can_send(mconn::ChannelId channel) const {
  return !stopped_ && mconn_.can_send(channel);
}

void Peer::on_data(ByteSpan data) {
  if (stopped_) return;
  if (Status st = mconn_.on_plaintext(data, loop_.now()); !st) {
    fail({Stage::kMConnection, mconn::classify_mconn_error(st.error().code)}, st.error().message());
    return;
  }
  for (auto& m : mconn_.take_received()) {
    on_message_(*this, m.channel, std::move(m.data));
    if (stopped_) return; // a reactor stopped this peer
  }
  pump(); // a pong may be owed, and the receive rate may say stop reading
}

void Peer::pump() {
  if (stopped_) return;
  const TimePoint now = loop_.now();
  bool backed_up = false;
  while (!(backed_up = conn_->write_queue_size() >= kWriteHighWater)) {
    Bytes out = mconn_.poll_transmit(now);
    if (out.empty()) break;
    if (!conn_->send(out)) {
      fail({Stage::kMConnection, Reason::kIoError}, "write failed");
      return;
    }
  }
  const bool allow_read = mconn_.recv_allowance(now) > 0;
  if (!allow_read && !paused_) conn_->pause_reading();
  if (allow_read && paused_) conn_->resume_reading();
  paused_ = !allow_read;
  // Backed up, the drain handler pumps again. The wait is at least 1 ms: a 0 ms timer re-armed
  // in its own callback runs again in the same loop turn (libuv 1.44), and nothing else would.
  const auto wait = std::max(Millis(1), mconn_.next_deadline(now, !backed_up) - now);
  timer_.start(wait, [this] { on_timer(); });
}

void Peer::on_timer() {
  if (stopped_) return;
  if (Status st = mconn_.on_timer(loop_.now()); !st) {
    fail({Stage::kMConnection, mconn::classify_mconn_error(st.error().code)}, st.error().message());
    return;
  }
  pump();
}

void Peer::fail(Failure why, std::string detail) {
  if (stopped_) return;
  ErrorHandler handler = on_error_;
  if (handler) handler(*this, why, detail);
}

void Peer::stop(bool graceful, Millis linger) {
  if (stopped_) return;
  stopped_ = true;
  timer_.stop();
  on_message_ = {};
  on_error_ = {};
  conn_->set_drain_handler({});
  if (graceful) {
    Bytes rest = mconn_.flush_all();
    if (!rest.empty()) conn_->send(rest);
    conn_->close(linger);
  } else {
    conn_->abort();
  }
}

} // namespace seedscope::runtime
