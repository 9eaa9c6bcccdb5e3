// MConnection without sockets: two instances joined in memory, a fake clock.
#include <doctest/doctest.h>

#include <ostream> // doctest prints std::error_code through it

#include "core/mconn/mconnection.hpp"
#include "core/proto/p2p.pb.h"
#include "core/wire/delimited.hpp"

using namespace seedscope;
using namespace seedscope::mconn;

namespace {

TimePoint t0() { return TimePoint(Millis(1'000'000)); }

MConnConfig fast_config() {
  MConnConfig c;
  c.send_rate = 0;
  c.recv_rate = 0;
  c.flush_throttle = Millis(0);
  return c;
}

std::vector<ChannelDescriptor> channels() {
  return {{0x00, 1, 10, 64000}, {0x20, 5, 4, 1 << 22}, {0x30, 1, 4, 1 << 22}};
}

Bytes pattern(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 13);
  return b;
}

// Moves everything a can send into b (bounded).
void pump(MConnection& a, MConnection& b, TimePoint now) {
  for (int i = 0; i < 100000; ++i) {
    Bytes out = a.poll_transmit(now);
    if (out.empty()) return;
    REQUIRE(b.on_plaintext(out, now).ok());
  }
  FAIL("pump did not settle");
}

Bytes delimited_packet(const wire::Packet& p) {
  Bytes out;
  wire::write_delimited(out, p);
  return out;
}

} // namespace

TEST_CASE("packets are encoded exactly as Go encodes them") {
  MConnection c({{0x00, 1, 10, 64000}, {0x30, 1, 1, 1000}}, fast_config(), t0());
  SUBCASE("PEX request on channel 0 (PROTOCOL.md section 4)") {
    wire::Message m;
    m.mutable_pex_request();
    std::string body = m.SerializeAsString();
    REQUIRE(c.send(0x00, Bytes(body.begin(), body.end())));
    CHECK(to_hex(c.poll_transmit(t0())) == "081a0610011a020a00");
  }
  SUBCASE("empty message: one packet, eof, no data") {
    REQUIRE(c.send(0x30, {}));
    wire::Packet p;
    p.mutable_packet_msg()->set_channel_id(0x30);
    p.mutable_packet_msg()->set_eof(true);
    CHECK(c.poll_transmit(t0()) == delimited_packet(p));
  }
  SUBCASE("a 2500-byte message is three packets, the last with eof") {
    REQUIRE(c.send(0x30, pattern(2500, 1)));
    Bytes wire_bytes = c.poll_transmit(t0());
    wire::DelimitedReader r(2000);
    r.feed(wire_bytes);
    std::vector<std::size_t> sizes;
    std::vector<bool> eofs;
    for (int i = 0; i < 10; ++i) {
      auto next = r.next();
      REQUIRE(next.ok());
      if (!next->has_value()) break;
      wire::Packet p;
      REQUIRE(p.ParseFromArray((*next)->data(), static_cast<int>((*next)->size())));
      REQUIRE(p.has_packet_msg());
      // Every packet re-encodes to the same bytes through the generated encoder.
      Bytes again;
      wire::write_delimited(again, p);
      CHECK(again.size() == (*next)->size() + 1 + ((*next)->size() >= 128 ? 1 : 0));
      sizes.push_back(p.packet_msg().data().size());
      eofs.push_back(p.packet_msg().eof());
    }
    CHECK(sizes == std::vector<std::size_t>{1024, 1024, 452});
    CHECK(eofs == std::vector<bool>{false, false, true});
  }
  CHECK(max_packet_size(1024) == 1034);
}

TEST_CASE("messages of every size cross between two connections, on several channels") {
  MConnection a(channels(), fast_config(), t0());
  MConnection b(channels(), fast_config(), t0());
  const std::vector<std::size_t> sizes = {0, 1, 1023, 1024, 1025, 64000, 1 << 21};
  std::vector<ReceivedMessage> got;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const ChannelId ch = (i % 2 == 0) ? 0x20 : 0x30;
    if (sizes[i] > 64000 && ch == 0x00) continue;
    REQUIRE(a.send(ch, pattern(sizes[i], static_cast<std::uint8_t>(i))));
    pump(a, b, t0());
    for (auto& m : b.take_received()) got.push_back(std::move(m));
  }
  REQUIRE(got.size() == sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    CHECK(got[i].channel == ((i % 2 == 0) ? 0x20 : 0x30));
    CHECK(got[i].data == pattern(sizes[i], static_cast<std::uint8_t>(i)));
  }
  CHECK(b.stats(0x20)->messages_received == 4);
  CHECK(a.stats(0x30)->messages_sent == 3);
}

TEST_CASE("input split at every byte boundary reassembles the same messages") {
  MConnection a(channels(), fast_config(), t0());
  REQUIRE(a.send(0x20, pattern(3000, 7)));
  REQUIRE(a.send(0x30, pattern(10, 9)));
  Bytes stream = a.poll_transmit(t0());
  for (std::size_t split = 1; split < stream.size(); split += 97) {
    MConnection b(channels(), fast_config(), t0());
    REQUIRE(b.on_plaintext(ByteSpan(stream).first(split), t0()).ok());
    REQUIRE(b.on_plaintext(ByteSpan(stream).subspan(split), t0()).ok());
    auto got = b.take_received();
    REQUIRE(got.size() == 2);
  }
  MConnection b(channels(), fast_config(), t0());
  for (std::uint8_t byte : stream) REQUIRE(b.on_plaintext(ByteSpan(&byte, 1), t0()).ok());
  CHECK(b.take_received().size() == 2);
}

TEST_CASE("send queues have a capacity") {
  MConnection a({{0x30, 1, 1, 1000}}, fast_config(), t0());
  CHECK(a.send(0x30, pattern(5000, 1)));
  CHECK_FALSE(a.send(0x30, pattern(10, 1)));
  CHECK_FALSE(a.send(0x31, pattern(10, 1))); // unknown channel
  a.poll_transmit(t0());
  CHECK(a.send(0x30, pattern(10, 1)));
}

TEST_CASE("priorities shape the send order under backlog") {
  // Channel 0x20 has priority 5, 0x30 priority 1: while both have backlog, 0x20 gets about
  // five times the packets.
  MConnection a({{0x20, 5, 100, 1 << 22}, {0x30, 1, 100, 1 << 22}}, fast_config(), t0());
  for (int i = 0; i < 20; ++i) {
    REQUIRE(a.send(0x20, pattern(10 * 1024, 1)));
    REQUIRE(a.send(0x30, pattern(10 * 1024, 2)));
  }
  // Take the first 120 packets and count per channel.
  Bytes stream = a.poll_transmit(t0());
  wire::DelimitedReader r(2000);
  r.feed(stream);
  int n20 = 0, n30 = 0;
  for (int i = 0; i < 60; ++i) {
    auto next = r.next();
    REQUIRE(next.ok());
    REQUIRE(next->has_value());
    wire::Packet p;
    REQUIRE(p.ParseFromArray((*next)->data(), static_cast<int>((*next)->size())));
    (p.packet_msg().channel_id() == 0x20 ? n20 : n30)++;
  }
  CHECK(n20 >= 45);
  CHECK(n30 >= 8);
  CHECK(n20 + n30 == 60);
}

TEST_CASE("the flush throttle holds packets back, pings and pongs go at once") {
  MConnConfig cfg = fast_config();
  cfg.flush_throttle = Millis(100);
  MConnection a(channels(), cfg, t0());
  REQUIRE(a.send(0x20, pattern(10, 1)));
  CHECK(a.poll_transmit(t0()).empty());
  CHECK(a.next_deadline(t0()) == t0() + Millis(100));
  CHECK(a.poll_transmit(t0() + Millis(99)).empty());
  CHECK_FALSE(a.poll_transmit(t0() + Millis(100)).empty());

  // A ping from the peer is answered with a pong without waiting for the throttle.
  MConnection b(channels(), cfg, t0());
  wire::Packet ping;
  ping.mutable_packet_ping();
  REQUIRE(b.on_plaintext(delimited_packet(ping), t0()).ok());
  CHECK(to_hex(b.poll_transmit(t0())) == "021200");
}

TEST_CASE("ping every interval, pong timeout kills the connection") {
  MConnConfig cfg = fast_config();
  cfg.ping_interval = Millis(60000);
  cfg.pong_timeout = Millis(45000);
  MConnection a(channels(), cfg, t0());
  MConnection b(channels(), cfg, t0());
  CHECK(a.next_deadline(t0()) <= t0() + Millis(60000));
  TimePoint now = t0();
  // Idle for ten minutes with a peer that answers: still alive.
  for (int step = 0; step < 600; ++step) {
    now += Millis(1000);
    REQUIRE(a.on_timer(now).ok());
    REQUIRE(b.on_timer(now).ok());
    pump(a, b, now);
    pump(b, a, now);
  }
  // Now b stops answering: a sends its next ping and gives up 45 s later.
  (void)a.poll_transmit(now); // a pong it may still owe b
  TimePoint ping_at = now;
  std::string sent;
  for (int i = 0; i < 100 && sent != "020a00"; ++i) {
    ping_at = a.next_deadline(ping_at);
    REQUIRE(a.on_timer(ping_at).ok());
    sent = to_hex(a.poll_transmit(ping_at));
  }
  REQUIRE(sent == "020a00");
  REQUIRE(a.on_timer(ping_at + Millis(44999)).ok());
  auto st = a.on_timer(ping_at + Millis(45000));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == MConnError::kPongTimeout);
}

TEST_CASE("protocol violations are fatal with a classified error") {
  MConnection b(channels(), fast_config(), t0());
  SUBCASE("unknown channel") {
    wire::Packet p;
    p.mutable_packet_msg()->set_channel_id(0x55);
    p.mutable_packet_msg()->set_eof(true);
    auto st = b.on_plaintext(delimited_packet(p), t0());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == MConnError::kUnknownChannel);
  }
  SUBCASE("channel id out of byte range") {
    wire::Packet p;
    p.mutable_packet_msg()->set_channel_id(256);
    CHECK(b.on_plaintext(delimited_packet(p), t0()).error().code == MConnError::kUnknownChannel);
  }
  SUBCASE("oversized packet, refused from its length prefix") {
    Bytes prefix = {0x8b, 0x08}; // 1035
    auto st = b.on_plaintext(prefix, t0());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == MConnError::kPacketTooLarge);
  }
  SUBCASE("message over the channel's capacity") {
    MConnection a(channels(), fast_config(), t0());
    REQUIRE(a.send(0x00, pattern(64001, 3)));
    auto st = b.on_plaintext(a.poll_transmit(t0()), t0());
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == MConnError::kMessageOverCapacity);
  }
  SUBCASE("undecodable packet") {
    Bytes junk = {0x03, 0xff, 0xff, 0xff};
    CHECK(b.on_plaintext(junk, t0()).error().code == MConnError::kMalformedPacket);
  }
  SUBCASE("empty packet (no type)") {
    Bytes empty = {0x00};
    CHECK(b.on_plaintext(empty, t0()).error().code == MConnError::kUnknownPacketType);
  }
}

TEST_CASE("send rate limit paces output") {
  MConnConfig cfg = fast_config();
  cfg.send_rate = 100'000; // 100 kB/s
  MConnection a(channels(), cfg, t0());
  MConnection b(channels(), cfg, t0());
  const std::size_t total = 500'000;
  REQUIRE(a.send(0x20, pattern(total, 1)));
  TimePoint now = t0();
  std::size_t moved = 0;
  int steps = 0;
  while (b.take_received().empty() && steps < 100000) {
    Bytes out = a.poll_transmit(now);
    moved += out.size();
    if (!out.empty()) REQUIRE(b.on_plaintext(out, now).ok());
    const TimePoint next = a.next_deadline(now);
    now = std::max(now + Millis(1), std::min(next, now + Millis(50)));
    ++steps;
  }
  const double seconds = double((now - t0()).count()) / 1000.0;
  // 500 kB plus framing at 100 kB/s, less the initial burst of 10 kB: about 5 s.
  CHECK(seconds > 4.5);
  CHECK(seconds < 5.6);
  CHECK(moved > total);
}

TEST_CASE("receive rate limit: allowance runs out and comes back") {
  MConnConfig cfg = fast_config();
  cfg.recv_rate = 10'000;
  MConnection b(channels(), cfg, t0());
  const std::size_t start = b.recv_allowance(t0());
  CHECK(start >= 10'000); // the bucket starts full (ten packets)
  MConnection a(channels(), fast_config(), t0());
  REQUIRE(a.send(0x20, pattern(30'000, 1)));
  Bytes stream = a.poll_transmit(t0());
  REQUIRE(b.on_plaintext(stream, t0()).ok());
  CHECK(b.recv_allowance(t0()) == 0);
  CHECK(b.next_deadline(t0()) > t0());
  // About two seconds later reading may resume.
  CHECK(b.recv_allowance(t0() + Millis(3000)) > 0);
}

TEST_CASE("a burst over the receive bucket, then silence: one pong, and no deadline in the past") {
  MConnConfig cfg = fast_config();
  cfg.recv_rate = 5'120'000; // the default: a 512 kB burst
  MConnection b(channels(), cfg, t0());
  Bytes flood;
  for (int i = 0; i < 349'525; ++i) append(flood, Bytes{0x02, 0x0a, 0x00}); // 1 MiB of pings
  REQUIRE(b.on_plaintext(flood, t0()).ok());
  CHECK(b.recv_allowance(t0()) == 0);
  const TimePoint resume = b.next_deadline(t0());
  CHECK(resume > t0());
  CHECK(resume < t0() + Millis(200)); // 536 kB over at 5.12 MB/s
  CHECK(b.recv_allowance(resume) > 0);
  // Every ping is answered by the one pong owed, however many arrived.
  CHECK(to_hex(b.poll_transmit(resume)) == "021200");
  CHECK(b.poll_transmit(resume).empty());
  // The peer is silent from now on: each deadline lies ahead of the time it is asked at (a
  // deadline at or before `now` with nothing to do is a timer that fires for ever).
  TimePoint now = resume;
  int wakeups = 0;
  while (now < resume + Millis(30000) && wakeups < 1000) {
    REQUIRE(b.on_timer(now).ok());
    (void)b.poll_transmit(now);
    const TimePoint next = b.next_deadline(now);
    REQUIRE(next > now);
    now = next;
    ++wakeups;
  }
  CHECK(wakeups <= 16); // the stats decay every 2 s, nothing in between
}

TEST_CASE("held-back output: the send rate and flush throttle are no deadline") {
  MConnConfig cfg = fast_config();
  cfg.flush_throttle = Millis(100);
  cfg.send_rate = 1000;
  MConnection a(channels(), cfg, t0());
  REQUIRE(a.send(0x20, pattern(100'000, 1)));
  (void)a.poll_transmit(t0()); // spends the burst; the rest waits for the bucket and the flush
  CHECK(a.next_deadline(t0()) <= t0() + Millis(100));
  // A caller whose socket is backed up does not poll: only pings and stats wake it.
  CHECK(a.next_deadline(t0(), false) == t0() + Millis(2000));
}

TEST_CASE("flush_all drains everything for a graceful stop") {
  MConnConfig cfg = fast_config();
  cfg.send_rate = 1000;
  cfg.flush_throttle = Millis(100);
  MConnection a(channels(), cfg, t0());
  REQUIRE(a.send(0x20, pattern(20'000, 1)));
  Bytes all = a.flush_all();
  MConnection b(channels(), fast_config(), t0());
  REQUIRE(b.on_plaintext(all, t0()).ok());
  auto got = b.take_received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].data.size() == 20'000);
  CHECK_FALSE(a.has_pending_send());
}
