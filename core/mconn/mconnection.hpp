// MConnection: channels multiplexed over the SecretConnection's plaintext stream, as a sans-I/O
// state machine. Bytes from the peer go in (on_plaintext), whole messages come out
// (take_received); messages to send go in (send), packets come out (poll_transmit) as the
// send rate and flush throttle allow; the caller arms one timer at next_deadline() and calls
// on_timer(). Ports p2p/conn/connection.go @ v0.34 without goroutines or its clock.
// Single-threaded; owned by one peer link.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <system_error>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "core/mconn/token_bucket.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/wire/delimited.hpp"

namespace seedscope::mconn {

using ChannelId = std::uint8_t;

struct ChannelDescriptor {
  ChannelId id = 0;
  int priority = 1;
  std::size_t send_queue_capacity = 1;
  std::size_t recv_message_capacity = 22020096;
};

struct MConnConfig {
  std::uint64_t send_rate = 5120000; // bytes/s; 0 = unlimited
  std::uint64_t recv_rate = 5120000; // bytes/s; 0 = unlimited
  std::size_t max_packet_msg_payload_size = 1024;
  // Largest packet we accept; 0 = the encoded size of a full packet at our payload size (1034
  // at 1024). A crawler may accept more than it ever sends.
  std::size_t max_recv_packet_size = 0;
  Millis flush_throttle{100};
  Millis ping_interval{60000};
  Millis pong_timeout{45000};
};

enum class MConnError {
  kPacketTooLarge = 1,  // delimited length over the packet maximum
  kMalformedPacket,     // undecodable Packet
  kUnknownPacketType,   // Packet with no ping, pong or msg
  kUnknownChannel,      // PacketMsg for a channel we did not register
  kMessageOverCapacity, // reassembled message over the channel's recv_message_capacity
  kPongTimeout,         // no pong within pong_timeout of a ping
};
const std::error_category& mconn_category();
std::error_code make_error_code(MConnError e);

// The failure reason of an MConnection error (stage kMConnection).
Reason classify_mconn_error(const std::error_code& code);

// Encoded size of Packet{PacketMsg{channel 1, eof, payload bytes}}: Go's maxPacketMsgSize.
std::size_t max_packet_size(std::size_t payload);

struct ReceivedMessage {
  ChannelId channel;
  Bytes data;
};

struct ChannelStats {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
};

class MConnection {
public:
  MConnection(std::vector<ChannelDescriptor> channels, MConnConfig config, TimePoint now);

  // Queues a whole message (it is split into packets). False if the channel is unknown or its
  // queue is full: the caller may retry later or drop it (Go waits 10 s, then drops).
  bool send(ChannelId channel, Bytes message);
  bool can_send(ChannelId channel) const;
  bool has_channel(ChannelId channel) const;

  // Plaintext from the peer, any split. Errors are fatal for the connection.
  Status on_plaintext(ByteSpan data, TimePoint now);
  std::vector<ReceivedMessage> take_received();

  // Ping schedule, pong timeout, stats decay. Errors (pong timeout) are fatal.
  Status on_timer(TimePoint now);

  // Plaintext to write now (may be empty): packets the send rate allows, released per the
  // flush throttle, pings and pongs at once.
  Bytes poll_transmit(TimePoint now);
  // Queues everything still pending and releases it ignoring the flush throttle (graceful
  // stop). Still honours nothing else: the caller is closing.
  Bytes flush_all();

  // When on_timer(), poll_transmit() or reading next have work to do, as seen at `now`: never
  // earlier than `now`, and never a time that is already past without work (a drained bucket
  // that has refilled since is not a deadline). With `transmitting` false (the caller holds
  // output back because the socket is backed up) the send rate and the flush throttle do not
  // count: the caller polls again when its writes drain.
  TimePoint next_deadline(TimePoint now, bool transmitting = true) const;
  // Bytes the receive rate allows to be read now; the caller stops reading at zero and
  // resumes at next_deadline().
  std::size_t recv_allowance(TimePoint now);

  bool has_pending_send() const;
  const ChannelStats* stats(ChannelId channel) const;

private:
  struct Channel {
    ChannelDescriptor desc;
    std::deque<Bytes> queue; // whole messages waiting; front is being sent
    std::size_t sent_of_front = 0;
    bool front_started = false;
    Bytes recving;
    double recently_sent = 0;
    ChannelStats stats;
  };

  Channel* find(ChannelId id);
  const Channel* find(ChannelId id) const;
  Status on_packet(ByteSpan body);
  // Writes one PacketMsg from the least recently-sent/priority channel; false if none.
  bool write_one_packet();
  void write_control(bool ping);
  void release_buffer();

  std::vector<Channel> channels_;
  MConnConfig config_;
  std::size_t max_recv_packet_;
  std::size_t max_send_packet_;
  wire::DelimitedReader reader_;
  std::vector<ReceivedMessage> received_;

  TokenBucket send_bucket_;
  TokenBucket recv_bucket_;
  Bytes write_buf_; // packets produced, waiting for the flush
  Bytes out_;       // released, waiting for poll_transmit's caller
  std::optional<TimePoint> flush_at_;
  bool pong_pending_ = false; // we owe the peer a pong
  TimePoint next_ping_;
  std::optional<TimePoint> pong_deadline_;
  TimePoint next_stats_decay_;
};

} // namespace seedscope::mconn

namespace std {
template <> struct is_error_code_enum<seedscope::mconn::MConnError> : true_type {};
} // namespace std
