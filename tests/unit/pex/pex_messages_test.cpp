// PEX message vectors: wire bytes and fields side by side, decoded and re-encoded; Go's rules
// for addresses in a PexAddrs (p2p/netaddress.go NetAddressFromProto @ v0.34).
#include <doctest/doctest.h>

#include "core/pex/pex_messages.hpp"
#include "core/proto/p2p.pb.h"

using namespace seedscope;
using namespace seedscope::pex;

namespace {

Bytes hex(const std::string& s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}

Bytes raw_addrs(const std::vector<std::tuple<std::string, std::string, std::uint32_t>>& entries) {
  wire::Message m;
  auto* list = m.mutable_pex_addrs();
  for (const auto& [id, ip, port] : entries) {
    auto* a = list->add_addrs();
    a->set_id(id);
    a->set_ip(ip);
    a->set_port(port);
  }
  std::string s = m.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

const std::string kIdA(40, 'a');
const std::string kIdB(40, 'b');

} // namespace

TEST_CASE("PexRequest is 0a 00 both ways") {
  CHECK(to_hex(encode_pex_request()) == "0a00");
  CHECK(to_hex(encode_pex_message(PexMessage::request())) == "0a00");
  auto m = decode_pex_message(hex("0a00"));
  REQUIRE(m.ok());
  CHECK(m->is_request());
}

TEST_CASE("PexAddrs with one IPv4 and one IPv6 address, byte for byte") {
  // Hand-encoded: Message{pex_addrs{addrs:[{id a*40, ip "1.2.3.4", port 26656},
  //                                        {id b*40, ip "2001:db8::1", port 26656}]}}.
  const std::string wire_hex = "12760a370a28" + to_hex(as_bytes(kIdA)) +
                               "1207312e322e332e3418a0d001" + "0a3b0a28" + to_hex(as_bytes(kIdB)) +
                               "120b323030313a6462383a3a3118a0d001";
  PexMessage fields = PexMessage::addresses({});
  fields.addrs.push_back(NetAddress{kIdA, IpAddress::v4(1, 2, 3, 4), 26656});
  fields.addrs.push_back(NetAddress{kIdB, *IpAddress::parse("2001:db8::1"), 26656});
  CHECK(to_hex(encode_pex_addrs(fields.addrs)) == wire_hex);
  auto m = decode_pex_message(hex(wire_hex));
  REQUIRE(m.ok());
  CHECK(*m == fields);
  CHECK(to_hex(encode_pex_message(*m)) == wire_hex);
}

TEST_CASE("an empty PexAddrs is 12 00") {
  CHECK(to_hex(encode_pex_addrs({})) == "1200");
  auto m = decode_pex_message(hex("1200"));
  REQUIRE(m.ok());
  CHECK(m->addrs.empty());
}

TEST_CASE("ports are uint32 on the wire: 65536 and above reject the message, 0 passes") {
  auto ok = decode_pex_message(raw_addrs({{kIdA, "1.2.3.4", 65535}, {kIdB, "1.2.3.5", 0}}));
  REQUIRE(ok.ok());
  CHECK(ok->addrs.at(0).port == 65535);
  CHECK(ok->addrs.at(1).port == 0);
  for (std::uint32_t port : {65536u, 70000u, 0xffffffffu}) {
    auto bad = decode_pex_message(raw_addrs({{kIdA, "1.2.3.4", 26656}, {kIdB, "1.2.3.5", port}}));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == PexMessageError::kBadAddress);
  }
}

TEST_CASE("an IP net.ParseIP refuses rejects the whole message") {
  for (const char* ip : {"", "[::1]", "1.2.3", "1.2.3.4.5", "example.com", "1.2.3.4:80",
                         "fe80::1%eth0", "01.2.3.4", "<nil>"}) {
    CAPTURE(ip);
    auto bad = decode_pex_message(raw_addrs({{kIdA, "1.2.3.4", 26656}, {kIdB, ip, 26656}}));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == PexMessageError::kBadAddress);
  }
  for (const char* ip : {"::1", "::ffff:1.2.3.4", "2001:db8::1", "0.0.0.0"}) {
    CAPTURE(ip);
    CHECK(decode_pex_message(raw_addrs({{kIdA, ip, 26656}})).ok());
  }
}

TEST_CASE("IDs are not judged by the decoder") {
  auto m = decode_pex_message(raw_addrs({{"not-an-id", "1.2.3.4", 26656}, {"", "1.2.3.5", 1}}));
  REQUIRE(m.ok());
  CHECK(m->addrs.at(0).id == "not-an-id");
}

TEST_CASE("undecodable or empty messages are malformed") {
  for (const char* h : {"", "ff", "0a", "12ff", "0a05", "1a00"}) {
    CAPTURE(h);
    auto m = decode_pex_message(hex(h));
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == PexMessageError::kMalformed);
  }
}
