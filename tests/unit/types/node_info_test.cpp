#include <doctest/doctest.h>

#include <ostream> // doctest prints std::error_code through it

#include <nlohmann/json.hpp>

#include "core/types/node_info.hpp"
#include "core/wire/delimited.hpp"
#include "support/testdata.hpp"

using namespace seedscope;
using json = nlohmann::json;

namespace {

Bytes hex(std::string_view s) {
  auto b = from_hex(s);
  REQUIRE(b);
  return *b;
}

// Field replacement as described in nodeinfo_vectors.json (channels given as hex).
void apply_patch(NodeInfo& info, const json& patch) {
  for (const auto& [key, value] : patch.items()) {
    if (key == "protocol_version") {
      info.protocol_version.p2p = value.at("p2p").get<std::uint64_t>();
      info.protocol_version.block = value.at("block").get<std::uint64_t>();
      info.protocol_version.app = value.at("app").get<std::uint64_t>();
    } else if (key == "default_node_id") {
      info.node_id = value.get<std::string>();
    } else if (key == "listen_addr") {
      info.listen_addr = value.get<std::string>();
    } else if (key == "network") {
      info.network = value.get<std::string>();
    } else if (key == "version") {
      info.version = value.get<std::string>();
    } else if (key == "channels_hex") {
      info.channels = hex(value.get<std::string>());
    } else if (key == "moniker") {
      info.moniker = value.get<std::string>();
    } else if (key == "other") {
      info.tx_index = value.at("tx_index").get<std::string>();
      info.rpc_address = value.at("rpc_address").get<std::string>();
    } else {
      FAIL("unknown patch key " << key);
    }
  }
}

NodeInfo from_json(const json& base) {
  NodeInfo info;
  apply_patch(info, base);
  return info;
}

const json& vectors() {
  static const json j = json::parse(test::read_testdata("nodeinfo_vectors.json"));
  return j;
}

} // namespace

TEST_CASE("node_info: Validate() vectors") {
  const json& v = vectors();
  const NodeInfo base = from_json(v.at("base"));
  std::size_t count = 0;
  for (const json& c : v.at("validate")) {
    const std::string name = c.at("name").get<std::string>();
    CAPTURE(name);
    NodeInfo info = base;
    apply_patch(info, c.at("patch"));
    Status s = validate_node_info(info);
    const bool expect_error = c.at("expect_error").get<bool>();
    CHECK(s.ok() == !expect_error);
    if (!s.ok()) {
      CHECK(s.error().code == NodeInfoError::kInvalid);
      CHECK_FALSE(s.error().detail.empty());
      INFO(s.error().message());
    }
    ++count;
  }
  CHECK(count == 37);
}

TEST_CASE("node_info: CompatibleWith() vectors") {
  const json& v = vectors();
  const NodeInfo base = from_json(v.at("base"));
  std::size_t count = 0;
  for (const json& c : v.at("compatible_with")) {
    const std::string name = c.at("name").get<std::string>();
    CAPTURE(name);
    NodeInfo ours = base;
    if (c.contains("our_patch")) apply_patch(ours, c.at("our_patch"));
    NodeInfo theirs = base;
    apply_patch(theirs, c.at("their_patch"));
    Status s = check_compatible(ours, theirs);
    CHECK(s.ok() == !c.at("expect_error").get<bool>());
    ++count;
  }
  CHECK(count == 10); // 37 + 10 = the 47 cases checked against Go
}

TEST_CASE("node_info: compatibility error codes") {
  const NodeInfo base = from_json(vectors().at("base"));
  NodeInfo theirs = base;
  theirs.protocol_version.block = 12;
  theirs.network = "other"; // version is checked first, as in Go
  auto s = check_compatible(base, theirs);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == NodeInfoError::kIncompatibleVersion);

  theirs = base;
  theirs.network = "other";
  s = check_compatible(base, theirs);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == NodeInfoError::kIncompatibleNetwork);

  theirs = base;
  theirs.channels = {0x20, 0x21};
  s = check_compatible(base, theirs);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == NodeInfoError::kNoCommonChannel);
  CHECK(s.error().code.category() == node_info_category());

  // With no channels of our own any channel set is accepted ("just testing" in Go).
  NodeInfo ours = base;
  ours.channels.clear();
  CHECK(check_compatible(ours, theirs).ok());
  theirs.channels.clear();
  CHECK(check_compatible(ours, theirs).ok());
}

TEST_CASE("node_info: transcript NodeInfos decode and re-encode byte for byte") {
  const json transcripts = json::parse(test::read_testdata("handshake_transcripts.json"));
  std::size_t count = 0;
  for (const json& c : transcripts) {
    for (const char* side : {"a", "b"}) {
      const json& s = c.at(side);
      CAPTURE(c.at("name").get<std::string>());
      CAPTURE(side);
      const Bytes wire = hex(s.at("node_info_protobuf_hex").get<std::string>());
      auto decoded = decode_node_info(wire);
      REQUIRE(decoded.ok());
      const NodeInfo& info = *decoded;
      CHECK(info.protocol_version == ProtocolVersion{8, 11, 0});
      CHECK(info.node_id == s.at("node_id").get<std::string>());
      const bool is_a = std::string(side) == "a";
      CHECK(info.listen_addr == (is_a ? "tcp://127.0.0.1:26656" : "tcp://127.0.0.1:26666"));
      CHECK(info.network == "test-chain-seedscope");
      CHECK(info.version == "0.34.24");
      CHECK(to_hex(info.channels) == "40202122233038606100");
      CHECK(info.moniker == (is_a ? "node-a" : "node-b"));
      CHECK(info.tx_index == "on");
      CHECK(info.rpc_address == (is_a ? "tcp://127.0.0.1:26657" : "tcp://127.0.0.1:26667"));
      CHECK(validate_node_info(info).ok());
      CHECK(encode_node_info(info) == wire);
      ++count;
    }
  }
  CHECK(count == 4);
}

TEST_CASE("node_info: an empty NodeInfo still encodes protocol_version and other") {
  NodeInfo empty;
  empty.protocol_version = ProtocolVersion{0, 0, 0};
  CHECK(to_hex(encode_node_info(empty)) == "0a004200");

  auto decoded = decode_node_info(hex("0a004200"));
  REQUIRE(decoded.ok());
  CHECK(*decoded == empty);

  // Decoders accept the form without the embedded messages too (and the empty input).
  decoded = decode_node_info({});
  REQUIRE(decoded.ok());
  CHECK(*decoded == empty);
}

TEST_CASE("node_info: garbage fails with kDecode") {
  for (const char* garbage :
       {"0a05aa", "ff", "12", "0a0208", "0a040808100b12ffffffffffffffffffff01"}) {
    CAPTURE(garbage);
    auto r = decode_node_info(hex(garbage));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == NodeInfoError::kDecode);
  }
}

TEST_CASE("node_info: non-UTF-8 moniker decodes, then fails validation") {
  const NodeInfo base = from_json(vectors().at("base"));
  NodeInfo info = base;
  info.moniker = std::string("\xff\xfe bad", 6);
  const Bytes wire = encode_node_info(info);
  auto decoded = decode_node_info(wire);
  REQUIRE(decoded.ok());
  CHECK(decoded->moniker == info.moniker);
  auto s = validate_node_info(*decoded);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == NodeInfoError::kInvalid);
  CHECK(s.error().detail.find("moniker") != std::string::npos);
  // Peer bytes are escaped in the detail.
  CHECK(s.error().detail.find("\\xff") != std::string::npos);
}

TEST_CASE("node_info: validation details name the rule") {
  const NodeInfo base = from_json(vectors().at("base"));
  auto rule_of = [](const NodeInfo& info) {
    auto s = validate_node_info(info);
    REQUIRE_FALSE(s.ok());
    return s.error().detail;
  };
  NodeInfo info = base;
  info.listen_addr = "nope";
  CHECK(rule_of(info).rfind("listen_addr", 0) == 0);
  info = base;
  info.node_id = "abc"; // the ID is checked through the listen address
  CHECK(rule_of(info).rfind("listen_addr", 0) == 0);
  info = base;
  info.version = " ";
  CHECK(rule_of(info).rfind("version", 0) == 0);
  info = base;
  info.channels = {1, 1};
  CHECK(rule_of(info).rfind("channels", 0) == 0);
  info = base;
  info.moniker = "";
  CHECK(rule_of(info).rfind("moniker", 0) == 0);
  info = base;
  info.tx_index = "null";
  CHECK(rule_of(info).rfind("other.tx_index", 0) == 0);
  info = base;
  info.rpc_address = "\t";
  CHECK(rule_of(info).rfind("other.rpc_address", 0) == 0);
}

TEST_CASE("node_info: delimited NodeInfo within the 10240-byte limit") {
  const NodeInfo base = from_json(vectors().at("base"));
  Bytes framed;
  wire::write_delimited(framed, encode_node_info(base));
  wire::DelimitedReader reader(kMaxNodeInfoSize);
  for (std::uint8_t b : framed) reader.feed(ByteSpan(&b, 1));
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r.value());
  auto decoded = decode_node_info(*r.value());
  REQUIRE(decoded.ok());
  CHECK(*decoded == base);
}
