#include <doctest/doctest.h>

#include <ostream> // doctest prints std::error_code through it

#include <algorithm>
#include <string>
#include <vector>

#include "core/proto/p2p.pb.h"
#include "core/wire/delimited.hpp"
#include "core/wire/varint.hpp"

using namespace seedscope;
using namespace seedscope::wire;

namespace {

Bytes hex(std::string_view s) { return from_hex(s).value(); }

Bytes filled(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i);
  return b;
}

// Bodies of several sizes, including empty and one needing a 2-byte length.
std::vector<Bytes> sample_bodies() {
  return {filled(3, 1), Bytes{}, filled(1, 9), filled(200, 7), filled(127, 3), filled(128, 5)};
}

Bytes concat_delimited(const std::vector<Bytes>& bodies) {
  Bytes out;
  for (const Bytes& b : bodies) write_delimited(out, b);
  return out;
}

// Reads every whole message currently available; fails the test on an error.
void drain(DelimitedReader& reader, std::vector<Bytes>& got) {
  while (true) {
    auto r = reader.next();
    REQUIRE(r.ok());
    if (!r.value()) return;
    got.push_back(std::move(*r.value()));
  }
}

} // namespace

TEST_CASE("delimited: several messages fed whole") {
  const auto bodies = sample_bodies();
  const Bytes stream = concat_delimited(bodies);
  DelimitedReader reader(1024);
  reader.feed(stream);
  std::vector<Bytes> got;
  drain(reader, got);
  CHECK(got == bodies);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("delimited: several messages fed in two parts at every split point") {
  const auto bodies = sample_bodies();
  const Bytes stream = concat_delimited(bodies);
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    DelimitedReader reader(1024);
    std::vector<Bytes> got;
    reader.feed(ByteSpan(stream).first(split));
    drain(reader, got);
    reader.feed(ByteSpan(stream).subspan(split));
    drain(reader, got);
    CHECK(got == bodies);
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("delimited: several messages fed one byte at a time") {
  const auto bodies = sample_bodies();
  const Bytes stream = concat_delimited(bodies);
  DelimitedReader reader(1024);
  std::vector<Bytes> got;
  for (std::uint8_t b : stream) {
    reader.feed(ByteSpan(&b, 1));
    drain(reader, got);
  }
  CHECK(got == bodies);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("delimited: a length over the maximum is rejected before the body arrives") {
  DelimitedReader reader(100);
  Bytes prefix;
  put_uvarint(prefix, 101);
  reader.feed(prefix);
  auto r = reader.next();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == WireError::kMessageTooLarge);
  CHECK(r.error().message().find("101") != std::string::npos);

  // Sticky: more input does not revive the reader.
  reader.feed(filled(101, 0));
  r = reader.next();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == WireError::kMessageTooLarge);
}

TEST_CASE("delimited: a length equal to the maximum is accepted (Go: length > max fails)") {
  DelimitedReader reader(100);
  Bytes stream;
  write_delimited(stream, filled(100, 0));
  reader.feed(stream);
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r.value());
  CHECK(r.value()->size() == 100);
}

TEST_CASE("delimited: huge length (2^64-1) is too large, not an overflow") {
  DelimitedReader reader(1 << 20);
  reader.feed(hex("ffffffffffffffffff01"));
  auto r = reader.next();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == WireError::kMessageTooLarge);
}

TEST_CASE("delimited: bad varint length is kVarintOverflow, sticky") {
  DelimitedReader reader(1024);
  reader.feed(hex("8080808080808080808001"));
  auto r = reader.next();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == WireError::kVarintOverflow);
  CHECK_FALSE(reader.next().ok());
}

TEST_CASE("delimited: zero-length message") {
  DelimitedReader reader(16);
  reader.feed(hex("00"));
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r.value());
  CHECK(r.value()->empty());
  r = reader.next();
  REQUIRE(r.ok());
  CHECK_FALSE(r.value());
}

TEST_CASE("delimited: take_remaining after a message") {
  DelimitedReader reader(16);
  reader.feed(hex("02aabb0301"));
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r.value());
  CHECK(to_hex(*r.value()) == "aabb");
  // The next message is incomplete: 03 01.
  r = reader.next();
  REQUIRE(r.ok());
  CHECK_FALSE(r.value());
  CHECK(reader.buffered() == 2);
  CHECK(to_hex(reader.take_remaining()) == "0301");
  CHECK(reader.buffered() == 0);
  CHECK(reader.take_remaining().empty());
}

TEST_CASE("delimited: long stream in chunks that never align with messages") {
  // Chunk sizes prime to the 52-byte message size, so a partial message is always left
  // behind and the reader must compact its buffer instead of clearing it.
  for (std::size_t chunk : {std::size_t{37}, std::size_t{4099}}) {
    CAPTURE(chunk);
    Bytes one;
    write_delimited(one, filled(50, 1));
    const std::size_t total = 4000;
    Bytes stream;
    for (std::size_t i = 0; i < total; ++i) append(stream, one);
    DelimitedReader reader(64);
    std::size_t count = 0;
    for (std::size_t off = 0; off < stream.size(); off += chunk) {
      reader.feed(ByteSpan(stream).subspan(off, std::min(chunk, stream.size() - off)));
      while (true) {
        auto r = reader.next();
        REQUIRE(r.ok());
        if (!r.value()) break;
        REQUIRE(*r.value() == filled(50, 1));
        ++count;
      }
      CHECK(reader.buffered() < one.size());
    }
    CHECK(count == total);
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("delimited: write_delimited of a message and parse_message") {
  BytesValue msg;
  msg.set_value(std::string(32, '\x07'));
  Bytes out;
  write_delimited(out, msg);
  CHECK(out.size() == 35);
  CHECK(to_hex(ByteSpan(out).first(3)) == "220a20");

  BytesValue back;
  REQUIRE(parse_message(ByteSpan(out).subspan(1), back).ok());
  CHECK(back.value() == msg.value());

  // An empty message is a single zero length byte.
  Bytes empty;
  write_delimited(empty, PexRequest{});
  CHECK(to_hex(empty) == "00");
  PexRequest req;
  CHECK(parse_message({}, req).ok());
}

TEST_CASE("delimited: parse_message reports kDecode") {
  BytesValue msg;
  auto s = parse_message(hex("0a05aa"), msg); // length 5, only 1 byte
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == WireError::kDecode);
  CHECK(s.error().code.category() == wire_category());
  CHECK_FALSE(s.error().code.message().empty());
}

TEST_CASE("delimited: PROTOCOL.md section 4 PEX request packet bytes") {
  Message pex;
  pex.mutable_pex_request();
  std::string data;
  REQUIRE(pex.SerializeToString(&data));

  Packet packet;
  PacketMsg* pm = packet.mutable_packet_msg();
  pm->set_channel_id(0);
  pm->set_eof(true);
  pm->set_data(data);

  Bytes out;
  write_delimited(out, packet);
  CHECK(to_hex(out) == "081a0610011a020a00");

  // And back: unframe, then decode.
  DelimitedReader reader(1034);
  reader.feed(out);
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r.value());
  Packet back;
  REQUIRE(parse_message(*r.value(), back).ok());
  REQUIRE(back.has_packet_msg());
  CHECK(back.packet_msg().channel_id() == 0);
  CHECK(back.packet_msg().eof());
  Message inner;
  REQUIRE(parse_message(as_bytes(back.packet_msg().data()), inner).ok());
  CHECK(inner.has_pex_request());
}
