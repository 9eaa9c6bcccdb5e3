// config.toml and node_key.json parsing (no sockets; lives here because it links the app).
#include <doctest/doctest.h>

#include "crawler/app/config.hpp"
#include "crawler/app/node_key_file.hpp"

namespace seedscope::app {
namespace {

TEST_CASE("durations in Go's syntax") {
  CHECK(parse_duration("20s") == Millis(20000));
  CHECK(parse_duration("3s") == Millis(3000));
  CHECK(parse_duration("100ms") == Millis(100));
  CHECK(parse_duration("1m30s") == Millis(90000));
  CHECK(parse_duration("1.5s") == Millis(1500));
  CHECK(parse_duration("2h") == Millis(7200000));
  CHECK(parse_duration("0") == Millis(0));
  CHECK(parse_duration("500us") == Millis(1)); // rounded up
  CHECK_FALSE(parse_duration("").has_value());
  CHECK_FALSE(parse_duration("20").has_value());
  CHECK_FALSE(parse_duration("-3s").has_value());
  CHECK_FALSE(parse_duration("3 s").has_value());
  CHECK_FALSE(parse_duration("s").has_value());
  CHECK(format_duration(Millis(20000)) == "20s");
  CHECK(format_duration(Millis(100)) == "100ms");
  CHECK(format_duration(Millis(120000)) == "2m");
}

TEST_CASE("the rendered default config parses back to the defaults") {
  Config c = default_config();
  c.moniker = "round \"trip\"";
  Config back = parse_config(render_config(c), "config.toml");
  CHECK(back.moniker == c.moniker);
  CHECK(back.p2p.laddr == "tcp://0.0.0.0:26656");
  CHECK(back.p2p.max_num_inbound_peers == 40);
  CHECK(back.p2p.max_num_outbound_peers == 10);
  CHECK(back.p2p.handshake_timeout == Millis(20000));
  CHECK(back.p2p.dial_timeout == Millis(3000));
  CHECK(back.p2p.flush_throttle_timeout == Millis(100));
  CHECK(back.p2p.addr_book_strict);
  CHECK(back.node_key_file == "config/node_key.json");
  CHECK(back.network.empty());
}

TEST_CASE("config values and errors") {
  Config c = parse_config(R"(moniker = "m"
network = "cosmoshub-4"
[p2p]
laddr = "tcp://127.0.0.1:3000"
seeds = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@seed.example.com:26656, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@1.2.3.4:26656"
handshake_timeout = "5s"
addr_book_strict = false
[rpc]
laddr = "tcp://127.0.0.1:26657"
)",
                          "config.toml");
  CHECK(c.network == "cosmoshub-4");
  CHECK(c.p2p.laddr == "tcp://127.0.0.1:3000");
  CHECK(split_list(c.p2p.seeds).size() == 2);
  CHECK(c.p2p.handshake_timeout == Millis(5000));
  CHECK_FALSE(c.p2p.addr_book_strict);

  auto error_of = [](const char* text) {
    try {
      parse_config(text, "config.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("[p2p]\ndial_timeout = \"3 seconds\"\n").find("config.toml:2: dial_timeout: bad duration") == 0);
  CHECK(error_of("[p2p]\ndial_timeout = 3\n").find("expected a duration") != std::string::npos);
  CHECK(error_of("[p2p]\nhandshake_timeout = \"0s\"\n").find("greater than zero") != std::string::npos);
  CHECK(error_of("[p2p]\nmax_num_inbound_peers = -1\n").find("at least 0") != std::string::npos);
  CHECK(error_of("[p2p]\nladdr = \"tcp://example.com:1\"\n").find("laddr") != std::string::npos);
  CHECK(error_of("[p2p]\nseeds = \"1.2.3.4:26656\"\n").find("seeds") != std::string::npos);
  CHECK(error_of("moniker = \"\"\n").find("moniker") != std::string::npos);
  CHECK(error_of("p2p = 3\n").find("expected a table") != std::string::npos);
  CHECK(error_of("moniker = \n").find("malformed TOML") != std::string::npos);
}

TEST_CASE("node_key.json round trip in Tendermint's format") {
  crypto::init_sodium();
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i);
  crypto::NodeKey key = crypto::NodeKey::from_seed(seed);
  std::string json = encode_node_key_json(key);
  CHECK(json.rfind(R"({"priv_key":{"type":"tendermint/PrivKeyEd25519","value":")", 0) == 0);
  CHECK(json.size() == 57 + 88 + 3);
  crypto::NodeKey back = decode_node_key_json(json, "node_key.json");
  CHECK(back.node_id() == key.node_id());
  CHECK(back.seed() == seed);
  // Whitespace and key order as another writer may produce them.
  std::string value = json.substr(json.find("\"value\":\"") + 9, 88);
  std::string pretty = "{\n  \"priv_key\": {\n    \"value\": \"" + value +
                       "\",\n    \"type\": \"tendermint/PrivKeyEd25519\"\n  }\n}\n";
  CHECK(decode_node_key_json(pretty, "node_key.json").node_id() == key.node_id());
}

} // namespace
} // namespace seedscope::app
