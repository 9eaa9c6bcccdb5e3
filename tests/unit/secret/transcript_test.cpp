// Go v0.34.24's own handshake transcripts (testdata/handshake_transcripts.json): with the
// same keys and ephemeral secrets our endpoints must write the same bytes, and must read the
// Go side's bytes back into its identity, NodeInfo and first packet.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "core/crypto/keys.hpp"
#include "core/p2p/handshake.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/proto/p2p.pb.h"
#include "core/wire/delimited.hpp"
#include "support/testdata.hpp"

using namespace seedscope;

namespace {

struct Side {
  crypto::NodeKey key;
  std::string id;
  NodeInfo info;
  crypto::X25519KeyPair ephemeral;
  Bytes wire;
};

Bytes hex(const std::string& s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

template <std::size_t N> std::array<std::uint8_t, N> hex_array(const std::string& s) {
  Bytes b = hex(s);
  REQUIRE(b.size() == N);
  std::array<std::uint8_t, N> out;
  std::copy(b.begin(), b.end(), out.begin());
  return out;
}

Side load_side(const nlohmann::json& j) {
  auto key = crypto::NodeKey::from_seed(hex_array<32>(j["node_key_seed_hex"]));
  CHECK(to_hex(key.public_key()) == j["node_pub_key_hex"].get<std::string>());
  CHECK(key.node_id() == j["node_id"].get<std::string>());
  auto info = decode_node_info(hex(j["node_info_protobuf_hex"]));
  REQUIRE(info.ok());
  return Side{key, j["node_id"], *info,
              crypto::x25519_from_secret(hex_array<32>(j["ephemeral_secret_hex"])),
              hex(j["wire_hex"])};
}

Handshake make_handshake(const Side& me, std::optional<std::string> dialed = {}) {
  HandshakeConfig cfg;
  cfg.our_info = me.info;
  cfg.ephemeral = me.ephemeral;
  cfg.expected_peer_id = std::move(dialed);
  return Handshake(me.key, std::move(cfg));
}

// Feeds `input` to `hs` in pieces of `chunk` bytes (0 = whole) until the handshake ends;
// returns how many bytes it consumed.
std::size_t feed_until_done(Handshake& hs, ByteSpan input, std::size_t chunk) {
  std::size_t at = 0;
  while (at < input.size() && hs.state() != Handshake::State::kDone &&
         hs.state() != Handshake::State::kFailed) {
    std::size_t n = chunk == 0 ? input.size() - at : std::min(chunk, input.size() - at);
    hs.on_receive(input.subspan(at, n));
    at += n;
  }
  return at;
}

// The peer's first MConnection packet from whatever remains of its stream.
wire::Packet read_packet(secret::SecretConnection& conn, Bytes leftover, ByteSpan rest) {
  REQUIRE(conn.on_receive(rest).ok());
  append(leftover, conn.take_plaintext());
  wire::DelimitedReader reader(1 << 16);
  reader.feed(leftover);
  auto body = reader.next();
  REQUIRE(body.ok());
  REQUIRE(body->has_value());
  wire::Packet packet;
  REQUIRE(packet.ParseFromArray((*body)->data(), static_cast<int>((*body)->size())));
  CHECK(reader.buffered() == 0);
  return packet;
}

Bytes delimited(const google::protobuf::MessageLite& m) {
  Bytes out;
  wire::write_delimited(out, m);
  return out;
}

} // namespace

TEST_CASE("Go handshake transcripts: we write Go's bytes and read Go's bytes") {
  crypto::init_sodium();
  auto doc = nlohmann::json::parse(test::read_testdata("handshake_transcripts.json"));
  REQUIRE(doc.size() == 2);
  int cases = 0;
  for (const auto& c : doc) {
    const std::string name = c["name"];
    Side a = load_side(c["a"]);
    Side b = load_side(c["b"]);
    for (std::size_t chunk :
         {std::size_t{0}, std::size_t{1}, std::size_t{700}, std::size_t{1044}}) {
      CAPTURE(name);
      CAPTURE(chunk);
      // Our a reads Go's b (a dialed b, so the dialed-ID check is exercised too), and our b
      // reads Go's a.
      Handshake ours_a = make_handshake(a, b.id);
      Handshake ours_b = make_handshake(b);
      ours_a.start();
      ours_b.start();
      const std::size_t used_b = feed_until_done(ours_a, b.wire, chunk);
      const std::size_t used_a = feed_until_done(ours_b, a.wire, chunk);
      REQUIRE(ours_a.state() == Handshake::State::kDone);
      REQUIRE(ours_b.state() == Handshake::State::kDone);
      CHECK(ours_a.peer_id() == b.id);
      CHECK(ours_b.peer_id() == a.id);
      REQUIRE(ours_a.peer_info().has_value());
      CHECK(*ours_a.peer_info() == b.info);
      CHECK(*ours_b.peer_info() == a.info);

      // First packets: a's PexRequest, b's PexAddrs with one IPv4 and one IPv6 address.
      auto conn_a = ours_a.release_connection();
      auto conn_b = ours_b.release_connection();
      REQUIRE(conn_a);
      REQUIRE(conn_b);
      wire::Packet from_b =
          read_packet(*conn_a, ours_a.take_leftover_plaintext(), ByteSpan(b.wire).subspan(used_b));
      wire::Packet from_a =
          read_packet(*conn_b, ours_b.take_leftover_plaintext(), ByteSpan(a.wire).subspan(used_a));
      REQUIRE(from_a.has_packet_msg());
      CHECK(from_a.packet_msg().channel_id() == 0);
      CHECK(from_a.packet_msg().eof());
      wire::Message req;
      REQUIRE(req.ParseFromString(from_a.packet_msg().data()));
      CHECK(req.has_pex_request());
      REQUIRE(from_b.has_packet_msg());
      wire::Message addrs;
      REQUIRE(addrs.ParseFromString(from_b.packet_msg().data()));
      REQUIRE(addrs.has_pex_addrs());
      REQUIRE(addrs.pex_addrs().addrs_size() == 2);
      CHECK(addrs.pex_addrs().addrs(0).ip().find(':') == std::string::npos);
      CHECK(addrs.pex_addrs().addrs(1).ip().find(':') != std::string::npos);
      // Our PEX codec reads Go's messages and writes them back byte for byte.
      CHECK(to_hex(as_bytes(from_a.packet_msg().data())) == to_hex(pex::encode_pex_request()));
      auto go_addrs = pex::decode_pex_message(as_bytes(from_b.packet_msg().data()));
      REQUIRE(go_addrs.ok());
      REQUIRE(go_addrs->addrs.size() == 2);
      CHECK(go_addrs->addrs[0].ip.is_v4());
      CHECK_FALSE(go_addrs->addrs[1].ip.is_v4());
      CHECK(to_hex(pex::encode_pex_message(*go_addrs)) ==
            to_hex(as_bytes(from_b.packet_msg().data())));

      // Byte for byte: everything our a wrote, then its packet, is Go's a; same for b.
      REQUIRE(conn_a->send(delimited(from_a)).ok());
      REQUIRE(conn_b->send(delimited(from_b)).ok());
      Bytes wrote_a = ours_a.take_output();
      append(wrote_a, conn_a->take_output());
      Bytes wrote_b = ours_b.take_output();
      append(wrote_b, conn_b->take_output());
      CHECK(to_hex(wrote_a) == to_hex(a.wire));
      CHECK(to_hex(wrote_b) == to_hex(b.wire));
    }
    ++cases;
  }
  CHECK(cases == 2);
}

TEST_CASE("Go handshake transcripts: our two sides talk to each other") {
  crypto::init_sodium();
  auto doc = nlohmann::json::parse(test::read_testdata("handshake_transcripts.json"));
  for (const auto& c : doc) {
    Side a = load_side(c["a"]);
    Side b = load_side(c["b"]);
    Handshake ha = make_handshake(a, b.id);
    Handshake hb = make_handshake(b);
    ha.start();
    hb.start();
    for (int round = 0; round < 10; ++round) {
      Bytes to_b = ha.take_output();
      Bytes to_a = hb.take_output();
      if (to_a.empty() && to_b.empty()) break;
      hb.on_receive(to_b);
      ha.on_receive(to_a);
    }
    REQUIRE(ha.state() == Handshake::State::kDone);
    REQUIRE(hb.state() == Handshake::State::kDone);
    CHECK(ha.peer_id() == b.id);
    CHECK(hb.peer_id() == a.id);
  }
}
