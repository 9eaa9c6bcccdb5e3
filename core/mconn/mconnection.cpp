// p2p/conn/connection.go @ v0.34: packet framing, channel scheduling, ping/pong, rates.
#include "core/mconn/mconnection.hpp"
#include "core/base/error_category.hpp"

#include <algorithm>
#include <limits>

#include "core/proto/p2p.pb.h"
#include "core/wire/varint.hpp"

namespace seedscope::mconn {

namespace {

constexpr Millis kStatsDecayPeriod{2000}; // Go's updateStats
constexpr double kStatsDecay = 0.8;
constexpr std::size_t kFlushBufferSize = 65536; // Go's bufio writer: a full buffer flushes
constexpr std::size_t kMaxBatchBytes = 65536;   // output produced per poll_transmit

std::string_view describe(MConnError e) {
  switch (e) {
  case MConnError::kPacketTooLarge: return "packet too large";
  case MConnError::kMalformedPacket: return "malformed packet";
  case MConnError::kUnknownPacketType: return "unknown packet type";
  case MConnError::kUnknownChannel: return "packet for an unknown channel";
  case MConnError::kMessageOverCapacity: return "message exceeds the channel's capacity";
  case MConnError::kPongTimeout: return "pong timeout";
  }
  return "unknown mconnection error";
}

// Appends delimited Packet{PacketMsg{channel, eof, data}}, encoded as Go encodes it (default
// values omitted).
void put_packet_msg(Bytes& out, ChannelId channel, bool eof, ByteSpan data) {
  std::size_t inner = 0;
  if (channel != 0) inner += 1 + wire::uvarint_size(channel);
  if (eof) inner += 2;
  if (!data.empty()) inner += 1 + wire::uvarint_size(data.size()) + data.size();
  const std::size_t outer = 1 + wire::uvarint_size(inner) + inner;
  wire::put_uvarint(out, outer);
  out.push_back(0x1a); // Packet.packet_msg
  wire::put_uvarint(out, inner);
  if (channel != 0) {
    out.push_back(0x08);
    wire::put_uvarint(out, channel);
  }
  if (eof) {
    out.push_back(0x10);
    out.push_back(0x01);
  }
  if (!data.empty()) {
    out.push_back(0x1a);
    wire::put_uvarint(out, data.size());
    append(out, data);
  }
}

} // namespace

const std::error_category& mconn_category() {
  return enum_category<MConnError>("mconnection", describe);
}

std::error_code make_error_code(MConnError e) { return {static_cast<int>(e), mconn_category()}; }

Reason classify_mconn_error(const std::error_code& code) {
  if (code.category() != mconn_category()) return Reason::kIoError;
  switch (static_cast<MConnError>(code.value())) {
  case MConnError::kPacketTooLarge: return Reason::kMessageTooLarge;
  case MConnError::kMalformedPacket: return Reason::kMalformed;
  case MConnError::kUnknownPacketType: return Reason::kUnknownPacketType;
  case MConnError::kUnknownChannel: return Reason::kUnknownChannel;
  case MConnError::kMessageOverCapacity: return Reason::kOverCapacity;
  case MConnError::kPongTimeout: return Reason::kPongTimeout;
  }
  return Reason::kIoError;
}

std::size_t max_packet_size(std::size_t payload) {
  const std::size_t inner = 2 + 2 + 1 + wire::uvarint_size(payload) + payload;
  return 1 + wire::uvarint_size(inner) + inner;
}

MConnection::MConnection(std::vector<ChannelDescriptor> channels, MConnConfig config, TimePoint now)
    : config_(config),
      max_recv_packet_(config.max_recv_packet_size != 0
                           ? config.max_recv_packet_size
                           : max_packet_size(config.max_packet_msg_payload_size)),
      max_send_packet_(max_packet_size(config.max_packet_msg_payload_size)),
      reader_(max_recv_packet_),
      // A tenth of a second of traffic, and at least ten packets, may go out in one burst.
      send_bucket_(config.send_rate,
                   std::max<std::uint64_t>(config.send_rate / 10, 10 * max_send_packet_), now),
      recv_bucket_(config.recv_rate,
                   std::max<std::uint64_t>(config.recv_rate / 10, 10 * max_recv_packet_), now),
      next_ping_(now + config.ping_interval),
      next_stats_decay_(now + kStatsDecayPeriod) {
  channels_.reserve(channels.size());
  for (auto& d : channels) channels_.push_back(Channel{d, {}, 0, false, {}, 0, {}});
}

MConnection::Channel* MConnection::find(ChannelId id) {
  for (auto& c : channels_)
    if (c.desc.id == id) return &c;
  return nullptr;
}

const MConnection::Channel* MConnection::find(ChannelId id) const {
  return const_cast<MConnection*>(this)->find(id);
}

bool MConnection::has_channel(ChannelId channel) const { return find(channel) != nullptr; }

bool MConnection::can_send(ChannelId channel) const {
  const Channel* c = find(channel);
  if (c == nullptr) return false;
  const std::size_t waiting = c->queue.size() - (c->front_started ? 1 : 0);
  return waiting < c->desc.send_queue_capacity;
}

bool MConnection::send(ChannelId channel, Bytes message) {
  if (!can_send(channel)) return false;
  find(channel)->queue.push_back(std::move(message));
  return true;
}

Status MConnection::on_plaintext(ByteSpan data, TimePoint now) {
  recv_bucket_.spend(data.size(), now);
  reader_.feed(data);
  while (true) {
    auto next = reader_.next();
    if (!next) {
      if (next.error().code == wire::WireError::kMessageTooLarge)
        return make_error(MConnError::kPacketTooLarge, next.error().detail);
      return make_error(MConnError::kMalformedPacket, next.error().message());
    }
    if (!next->has_value()) return ok_status();
    if (Status st = on_packet(**next); !st) return st;
  }
}

Status MConnection::on_packet(ByteSpan body) {
  wire::Packet packet;
  if (!packet.ParseFromArray(body.data(), static_cast<int>(body.size())))
    return make_error(MConnError::kMalformedPacket);
  switch (packet.sum_case()) {
  case wire::Packet::kPacketPing: pong_pending_ = true; return ok_status();
  case wire::Packet::kPacketPong: pong_deadline_.reset(); return ok_status();
  case wire::Packet::kPacketMsg: break;
  case wire::Packet::SUM_NOT_SET: return make_error(MConnError::kUnknownPacketType);
  }
  const wire::PacketMsg& msg = packet.packet_msg();
  const std::int32_t id = msg.channel_id();
  Channel* ch = (id >= 0 && id <= 0xff) ? find(static_cast<ChannelId>(id)) : nullptr;
  if (ch == nullptr) return make_error(MConnError::kUnknownChannel, std::to_string(id));
  if (ch->recving.size() + msg.data().size() > ch->desc.recv_message_capacity)
    return make_error(MConnError::kMessageOverCapacity,
                      "channel " + std::to_string(id) + ": over " +
                          std::to_string(ch->desc.recv_message_capacity) + " bytes");
  append(ch->recving, as_bytes(msg.data()));
  ch->stats.bytes_received += body.size();
  if (msg.eof()) {
    ++ch->stats.messages_received;
    received_.push_back({ch->desc.id, std::exchange(ch->recving, {})});
  }
  return ok_status();
}

std::vector<ReceivedMessage> MConnection::take_received() { return std::exchange(received_, {}); }

Status MConnection::on_timer(TimePoint now) {
  if (pong_deadline_ && now >= *pong_deadline_) return make_error(MConnError::kPongTimeout);
  if (now >= next_ping_) {
    write_control(true);
    if (!pong_deadline_) pong_deadline_ = now + config_.pong_timeout;
    next_ping_ = now + config_.ping_interval;
  }
  while (now >= next_stats_decay_) {
    for (auto& c : channels_) c.recently_sent *= kStatsDecay;
    next_stats_decay_ += kStatsDecayPeriod;
  }
  return ok_status();
}

void MConnection::write_control(bool ping) {
  // Packet{packet_ping{}} = 0a 00, Packet{packet_pong{}} = 12 00; flushed at once.
  write_buf_.push_back(0x02);
  write_buf_.push_back(ping ? 0x0a : 0x12);
  write_buf_.push_back(0x00);
  release_buffer();
}

void MConnection::release_buffer() {
  append(out_, write_buf_);
  write_buf_.clear();
  flush_at_.reset();
}

bool MConnection::write_one_packet() {
  Channel* best = nullptr;
  double best_ratio = std::numeric_limits<double>::max();
  for (auto& c : channels_) {
    if (c.queue.empty()) continue;
    const double ratio = c.recently_sent / double(std::max(c.desc.priority, 1));
    if (ratio < best_ratio) {
      best_ratio = ratio;
      best = &c;
    }
  }
  if (best == nullptr) return false;
  const Bytes& msg = best->queue.front();
  const std::size_t n =
      std::min(config_.max_packet_msg_payload_size, msg.size() - best->sent_of_front);
  const bool eof = best->sent_of_front + n == msg.size();
  const std::size_t before = write_buf_.size();
  put_packet_msg(write_buf_, best->desc.id, eof, ByteSpan(msg).subspan(best->sent_of_front, n));
  const std::size_t written = write_buf_.size() - before;
  best->recently_sent += double(written);
  best->stats.bytes_sent += written;
  if (eof) {
    ++best->stats.messages_sent;
    best->queue.pop_front();
    best->sent_of_front = 0;
    best->front_started = false;
  } else {
    best->sent_of_front += n;
    best->front_started = true;
  }
  return true;
}

Bytes MConnection::poll_transmit(TimePoint now) {
  if (pong_pending_) {
    pong_pending_ = false;
    write_control(false);
  }
  std::size_t produced = 0;
  while (produced < kMaxBatchBytes && send_bucket_.available(now) > 0) {
    const std::size_t before = write_buf_.size();
    if (!write_one_packet()) break;
    const std::size_t n = write_buf_.size() - before;
    send_bucket_.spend(n, now);
    produced += n;
  }
  if (!write_buf_.empty()) {
    if (!flush_at_) flush_at_ = now + config_.flush_throttle;
    if (now >= *flush_at_ || write_buf_.size() >= kFlushBufferSize) release_buffer();
  }
  return std::exchange(out_, {});
}

Bytes MConnection::flush_all() {
  if (pong_pending_) {
    pong_pending_ = false;
    write_control(false);
  }
  while (write_one_packet()) {}
  release_buffer();
  return std::exchange(out_, {});
}

TimePoint MConnection::next_deadline(TimePoint now, bool transmitting) const {
  TimePoint t = std::min(next_ping_, next_stats_decay_);
  if (pong_deadline_) t = std::min(t, *pong_deadline_);
  if (transmitting) {
    if (flush_at_) t = std::min(t, *flush_at_);
    // The send rate matters only while something waits for it.
    const bool queued = std::any_of(channels_.begin(), channels_.end(),
                                    [](const Channel& c) { return !c.queue.empty(); });
    if (queued && send_bucket_.available(now) < 1)
      t = std::min(t, send_bucket_.when_available(1, now));
  }
  // Judged at `now`, not at the last spend: a bucket drained by a burst and refilled since (the
  // peer went quiet) is no deadline. Judging it at the last spend gave a time in the past for
  // ever, and a timer re-armed at 0 ms in its own callback never lets the loop go on.
  if (recv_bucket_.available(now) < 1) t = std::min(t, recv_bucket_.when_available(1, now));
  return std::max(t, now);
}

std::size_t MConnection::recv_allowance(TimePoint now) {
  const double a = recv_bucket_.available(now);
  if (a >= double(std::numeric_limits<std::size_t>::max() / 2))
    return std::numeric_limits<std::size_t>::max();
  return a <= 0 ? 0 : static_cast<std::size_t>(a);
}

bool MConnection::has_pending_send() const {
  if (!write_buf_.empty() || !out_.empty() || pong_pending_) return true;
  return std::any_of(channels_.begin(), channels_.end(),
                     [](const Channel& c) { return !c.queue.empty(); });
}

const ChannelStats* MConnection::stats(ChannelId channel) const {
  const Channel* c = find(channel);
  return c ? &c->stats : nullptr;
}

} // namespace seedscope::mconn
