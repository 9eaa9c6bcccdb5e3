// config.toml and node_key.json parsing (no sockets; lives here because it links the app).
#include <unistd.h>

#include <doctest/doctest.h>

#include <filesystem>

#include <fmt/format.h>

#include "crawler/app/config.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "support/process.hpp"

namespace seedscope::app {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "config.toml");
  } catch (const ConfigError& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

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
  CHECK(back.log_level == "info");
  CHECK(back.log_format == "plain");
  c.log_level = "p2p:debug,*:error";
  c.log_format = "json";
  back = parse_config(render_config(c), "config.toml");
  CHECK(back.log_level == "p2p:debug,*:error");
  CHECK(back.log_format == "json");
}

TEST_CASE("config: log_level and log_format are checked, with the line and the nearest name") {
  auto error_of = [](const std::string& text) {
    try {
      parse_config(text, "config.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(parse_config("log_level = \"crawler:debug,*:none\"\n", "config.toml").log_level ==
        "crawler:debug,*:none");
  CHECK(error_of("moniker = \"m\"\nlog_level = \"p2p:loud\"\n") ==
        "config.toml:2: log_level: unknown log level \"loud\" (levels: debug, info, error, none)");
  CHECK(error_of("log_level = \"crawlr:debug\"\n") ==
        "config.toml:1: log_level: unknown module \"crawlr\"; did you mean \"crawler\"? "
        "(modules: main, p2p, pex, crawler, storage, metrics, geo, api, netsim)");
  CHECK(error_of("log_format = \"jsno\"\n") ==
        "config.toml:1: log_format: unknown log format \"jsno\"; did you mean \"json\"? "
        "(formats: plain, json, logfmt)");
  CHECK(error_of("log_format = 1\n").find("config.toml:1: log_format: ") == 0);
}

TEST_CASE("config values and errors") {
  Config c = parse_config(R"(moniker = "m"
network = "cosmoshub-4"
[p2p]
laddr = "tcp://127.0.0.1:3000"
seeds = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@seed.example.com:26656, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@1.2.3.4:26656"
handshake_timeout = "5s"
addr_book_strict = false
external_address = "tcp://seed.example.com:26656"
)",
                          "config.toml");
  CHECK(c.network == "cosmoshub-4");
  CHECK(c.p2p.laddr == "tcp://127.0.0.1:3000");
  CHECK(split_list(c.p2p.seeds).size() == 2);
  CHECK(c.p2p.handshake_timeout == Millis(5000));
  CHECK_FALSE(c.p2p.addr_book_strict);
  CHECK(c.p2p.external_address == "tcp://seed.example.com:26656");

  CHECK(error_of("[p2p]\ndial_timeout = \"3 seconds\"\n")
            .find("config.toml:2: dial_timeout: bad duration") == 0);
  CHECK(error_of("[p2p]\ndial_timeout = 3\n").find("expected a duration") != std::string::npos);
  CHECK(error_of("[p2p]\nhandshake_timeout = \"0s\"\n").find("greater than zero") !=
        std::string::npos);
  CHECK(error_of("[p2p]\nmax_num_inbound_peers = -1\n").find("must be from 0 to") !=
        std::string::npos);
  CHECK(error_of("[p2p]\nladdr = \"tcp://example.com:1\"\n").find("laddr") != std::string::npos);
  CHECK(error_of("[p2p]\nseeds = \"1.2.3.4:26656\"\n").find("seeds") != std::string::npos);
  CHECK(error_of("moniker = \"\"\n").find("moniker") != std::string::npos);
  CHECK(error_of("p2p = 3\n").find("expected a table") != std::string::npos);
  CHECK(error_of("moniker = \n").find("malformed TOML") != std::string::npos);
}

// Found by config_fuzz: toml++ quotes the bad spot raw, newline included, and a quoted key may
// hold any character, so some messages ran over two lines.
TEST_CASE("config: a message quoting the input stays on one line") {
  for (const char* text : {"[p2p]\nseed_mode = tru\n", "\"seed\\nmode\" = 1\n",
                           "[p2p]\n\"lad\\tdr\" = 1\n", "[p2p]\nladdr = \"a\\nb\"\n"}) {
    INFO(text);
    const std::string e = error_of(text);
    CHECK(e.rfind("config.toml:", 0) == 0);
    CHECK(e.find('\n') == std::string::npos);
    CHECK(e.find('\t') == std::string::npos);
  }
  CHECK(error_of("[p2p]\nseed_mode = tru\n").find("saw 'tru\\n'") != std::string::npos);
}

TEST_CASE("config: an unknown key or section names file:line and the nearest known key") {
  struct Case {
    std::string text;
    std::string error; // the whole message
  };
  const Case cases[] = {
      {"moniker = \"m\"\n[p2p]\nseed_mod = true\n",
       "config.toml:3: seed_mod: unknown key in [p2p]; did you mean \"seed_mode\"?"},
      {"monikr = \"m\"\n", "config.toml:1: monikr: unknown key; did you mean \"moniker\"?"},
      {"[crawler]\nmax_concurent_dials = 5\n",
       "config.toml:2: max_concurent_dials: unknown key in [crawler]; did you mean "
       "\"max_concurrent_dials\"?"},
      {"[instrumentation]\nnamespac = \"x\"\n",
       "config.toml:2: namespac: unknown key in [instrumentation]; did you mean \"namespace\"?"},
      {"\n[crawlr]\ncrawl = true\n",
       "config.toml:2: crawlr: unknown section; did you mean \"crawler\"?"},
      {"[p2p]\ncolour = 1\n", "config.toml:2: colour: unknown key in [p2p]"},
      {"[weather]\nsunny = true\n", "config.toml:1: weather: unknown section"},
      {"colour = 1\n", "config.toml:1: colour: unknown key"},
      // Right key, wrong place.
      {"[p2p]\ncrawl = true\n",
       "config.toml:2: crawl: unknown key in [p2p]; crawl belongs in [crawler]"},
      {"[p2p]\nladdr = \"tcp://127.0.0.1:1\"\nnetwork = \"x\"\n",
       "config.toml:3: network: unknown key in [p2p]; network is a top-level key: put it before "
       "the first [section]"},
      // A Tendermint config.toml's settings we have no use for.
      {"proxy_app = \"tcp://127.0.0.1:26658\"\n",
       "config.toml:1: proxy_app: a Tendermint setting seedscope does not use; remove it"},
      {"[rpc]\nladdr = \"tcp://127.0.0.1:26657\"\n",
       "config.toml:1: rpc: a Tendermint setting seedscope does not use; remove it"},
      {"[p2p]\nupnp = false\n",
       "config.toml:2: upnp: a Tendermint setting seedscope does not use; remove it"},
      // Nested tables inside a section are keys of it too.
      {"[p2p.extra]\nx = 1\n", "config.toml:1: extra: unknown key in [p2p]"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    CHECK(error_of(c.text) == c.error);
  }
  // The rendered config uses every key, so every key is known.
  CHECK_NOTHROW(parse_config(render_config(default_config()), "config.toml"));
}

TEST_CASE("config: every integer and duration key has a range") {
  struct Case {
    const char* section;
    const char* key;
    const char* low;  // out of range below
    const char* high; // out of range above
    const char* ok;   // a value at an edge of the range
    const char* range;
  };
  const Case cases[] = {
      {"p2p", "max_num_inbound_peers", "-1", "10001", "0", "must be from 0 to 10000"},
      {"p2p", "max_num_outbound_peers", "-1", "10001", "10000", "must be from 0 to 10000"},
      {"p2p", "max_packet_msg_payload_size", "0", "99999999999", "65536",
       "must be from 1 to 65536"},
      {"p2p", "send_rate", "0", "10000000001", "1", "must be from 1 to 10000000000"},
      {"p2p", "recv_rate", "-5", "99999999999", "10000000000", "must be from 1 to 10000000000"},
      {"p2p", "persistent_peers_max_dial_period", nullptr, "\"25h\"", "\"0s\"",
       "must be at most 24h"},
      {"p2p", "flush_throttle_timeout", nullptr, "\"11s\"", "\"0s\"", "must be at most 10s"},
      {"p2p", "handshake_timeout", "\"0s\"", "\"11m\"", "\"10m\"",
       "must be greater than zero and at most 10m"},
      {"p2p", "dial_timeout", "\"0\"", "\"1h\"", "\"1ms\"",
       "must be greater than zero and at most 10m"},
      {"crawler", "max_concurrent_dials", "0", "100001", "1", "must be from 1 to 100000"},
      {"crawler", "max_inbound", "0", "100001", "100000", "must be from 1 to 100000"},
      {"crawler", "recrawl_interval", "\"0s\"", "\"721h\"", "\"720h\"",
       "must be greater than zero and at most 720h"},
      {"crawler", "retire_after", "\"0s\"", "\"8761h\"", "\"8760h\"",
       "must be greater than zero and at most 8760h"},
      {"crawler", "handshake_timeout", "\"0s\"", "\"601s\"", "\"1s\"",
       "must be greater than zero and at most 10m"},
      {"crawler", "pex_timeout", "\"0s\"", "\"601s\"", "\"600s\"",
       "must be greater than zero and at most 10m"},
      {"crawler", "contact_retention", "\"0s\"", "\"87601h\"", "\"87600h\"",
       "must be greater than zero and at most 87600h"},
      {"crawler", "status_interval", "\"0s\"", "\"25h\"", "\"24h\"",
       "must be greater than zero and at most 24h"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key);
    const std::string head = fmt::format("[{}]\n", c.section);
    const std::string prefix = fmt::format("config.toml:2: {}: ", c.key);
    for (const char* bad : {c.low, c.high}) {
      if (bad == nullptr) continue;
      CAPTURE(bad);
      CHECK(error_of(fmt::format("{}{} = {}\n", head, c.key, bad)) == prefix + c.range);
    }
    CHECK(error_of(fmt::format("{}{} = {}\n", head, c.key, c.ok)) == "no error");
  }
  // retry_base and retry_cap: bounded, and the cap not below the base.
  CHECK(error_of("[crawler]\nretry_base = \"721h\"\n") ==
        "config.toml:2: retry_base: must be greater than zero and at most 720h");
  CHECK(error_of("[crawler]\nretry_cap = \"0s\"\n") ==
        "config.toml:2: retry_cap: must be greater than zero and at most 720h");
  CHECK(error_of("[crawler]\nretry_base = \"2h\"\nretry_cap = \"1h\"\n") ==
        "config.toml:3: retry_cap: must be at least retry_base");
  // Past int64: TOML itself refuses it.
  CHECK(error_of("[p2p]\nsend_rate = 99999999999999999999\n").find("config.toml:2:") == 0);
}

TEST_CASE("config: external_address is empty or host:port and says what is wrong") {
  for (const char* ok : {"", "203.0.113.7:26656", "tcp://203.0.113.7:26656", "seed.example.com:1",
                         "[2001:db8::1]:26656", "tcp://[::1]:65535"}) {
    CAPTURE(ok);
    CHECK(error_of(fmt::format("[p2p]\nexternal_address = \"{}\"\n", ok)) == "no error");
  }
  struct Case {
    const char* value;
    const char* why;
  };
  const Case cases[] = {
      {"203.0.113.7", "cannot split host and port (expected host:port, e.g. 203.0.113.7:26656)"},
      {"203.0.113.7:0", "the port must be from 1 to 65535"},
      {"203.0.113.7:65536", "the port must be from 1 to 65535"},
      {"203.0.113.7:http", "the port must be from 1 to 65535"},
      {"udp://203.0.113.7:26656", "only tcp:// is supported"},
      {"bad_host!:26656", "host is empty or not a valid IP or host name (expected host:port, e.g. "
                          "203.0.113.7:26656)"},
      {":26656", "host is empty or not a valid IP or host name (expected host:port, e.g. "
                 "203.0.113.7:26656)"},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@203.0.113.7:26656",
       "give host:port without a node ID (ours is added)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    CHECK(error_of(fmt::format("moniker = \"m\"\n[p2p]\nexternal_address = \"{}\"\n", c.value)) ==
          fmt::format("config.toml:3: external_address: \"{}\": {}", c.value, c.why));
  }
}

TEST_CASE("config: no error message repeats its file:line: key: prefix") {
  // One case per kind of error the config code produces.
  const char* cases[] = {
      "[p2p]\nladdr = \"tcp://example.com:1\"\n", // host not an IP
      "[p2p]\nladdr = \"udp://127.0.0.1:1\"\n",   // scheme
      "[p2p]\nladdr = \"127.0.0.1\"\n",           // no port
      "[p2p]\nladdr = \"127.0.0.1:99999\"\n",     // bad port
      "[p2p]\nexternal_address = \"x\"\n",
      "[p2p]\nseeds = \"1.2.3.4:26656\"\n",
      "[p2p]\npersistent_peers = \"zz@1.2.3.4:26656\"\n",
      "[p2p]\nprivate_peer_ids = \"nope\"\n",
      "[p2p]\nunconditional_peer_ids = \"nope\"\n",
      "[p2p]\ndial_timeout = \"soon\"\n",
      "[p2p]\ndial_timeout = 3\n",
      "[p2p]\npex = \"yes\"\n",
      "[p2p]\nseeds = 3\n",
      "[p2p]\nsend_rate = 1.5\n",
      "[p2p]\nsend_rate = 0\n",
      "[p2p]\nseed_mod = true\n",
      "[crawler]\nretry_base = \"2h\"\nretry_cap = \"1h\"\n",
      "[instrumentation]\nnamespace = \"1x\"\n",
      "p2p = 3\n",
      "moniker = \"\"\n",
      "network = \"\\u0001\"\n",
      "db_file = \" \"\n",
      "moniker = \n",
  };
  for (const char* text : cases) {
    CAPTURE(text);
    const std::string e = error_of(text);
    CHECK(e != "no error");
    CHECK(e.find("config.toml:") == 0);
    CHECK(count(e, "config.toml") == 1);
    CHECK(e.find('\n') == std::string::npos);
  }
}

TEST_CASE("config: a config.toml that is a directory or a dangling link is a one-line error") {
  test::TempDir dir;
  const fs::path file = dir.path() / "config" / "config.toml";
  fs::create_directories(file);
  auto load_error = [](const fs::path& home) {
    try {
      open_home(home, /*require_config=*/false);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(load_error(dir.path()) == file.string() + ": is a directory, not a config file");
  fs::remove(file);
  fs::create_symlink(dir.path() / "missing.toml", file);
  CHECK(load_error(dir.path()) == file.string() + ": cannot read: No such file or directory");
  fs::remove(file);
  CHECK(load_error(dir.path()) == "no error"); // no file at all: the defaults
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

TEST_CASE("node_key.json is written whole under its name, 0600, and never over another") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path file = dir.path() / "node_key.json";
  const crypto::NodeKey key = crypto::NodeKey::generate();
  // A temporary file of a crashed save by a process that had our pid is no obstacle.
  const fs::path stale = file.string() + fmt::format(".tmp-{}", static_cast<long>(::getpid()));
  test::write_file(stale, "{\"priv_key\":");
  save_node_key(file, key);
  CHECK(load_node_key(file).node_id() == key.node_id());
  CHECK((fs::status(file).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    CAPTURE(e.path().string());
    ++entries;
  }
  CHECK(entries == 1); // no temporary file left beside it
  // An existing key is never replaced, and stays as it was.
  const std::string before = test::read_file(file);
  CHECK_THROWS_WITH_AS(
      save_node_key(file, crypto::NodeKey::generate()),
      ("node key " + file.string() + " already exists; refusing to overwrite it").c_str(),
      NodeKeyFileError);
  CHECK(test::read_file(file) == before);
  entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);
  // A directory that cannot be written: one line naming the file, nothing left behind.
  CHECK_THROWS_AS(save_node_key(dir.path() / "missing" / "node_key.json", key), NodeKeyFileError);
}

} // namespace
} // namespace seedscope::app

#include "crawler/app/crawl_run.hpp"
#include "support/recording_log.hpp"

TEST_CASE("status line: contacts per second over the time since the previous log line") {
  using namespace seedscope;
  test::RecordingLog log;
  app::StatusPrinter p(Millis(10'000), false, log.logger("crawler"));
  engine::CrawlerStats s;
  const TimePoint t0(Millis(1'000'000));
  for (int sec = 0; sec <= 10; ++sec) {
    s.contacts = 456 + 67 * static_cast<std::uint64_t>(sec) / 10; // 67 contacts in 10 s
    if (sec == 9) s.contacts += 40; // a burst in one second does not set the line's rate
    p.update(s, t0 + Millis(1000 * sec));
  }
  const auto lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].find("status ") == 0);
  CHECK(lines[1].find(" contacts_per_second=6.7 contacts=523") != std::string::npos);
}

TEST_CASE("status line: the contacts saved to the database and the records still pending") {
  using namespace seedscope;
  engine::CrawlerStats s;
  s.contacts = 40;
  storage::WriterStats saved;
  saved.contacts_written = 37;
  saved.pending = 5;
  const std::string line = app::status_line(s, 2.0, &saved);
  CHECK(line.find("| 40 contacts | saved 37 contacts, 5 records pending") != std::string::npos);
  CHECK(app::status_line(s, 2.0).find("saved") == std::string::npos); // no database: no claim
}

namespace seedscope::app {

TEST_CASE("config: [crawler] exclude_file, the per-subnet cap and contact; the crawler's moniker") {
  Config d = parse_config("moniker = \"m\"\n", "config.toml");
  CHECK(d.crawler.exclude_file == "config/exclude.txt");
  CHECK(d.crawler.max_contacts_per_subnet_per_second == 2);
  CHECK(d.crawler.contact.empty());
  CHECK(crawler_moniker(d) == "m (seedscope crawler)");
  CHECK(our_node_info(d).moniker == "m"); // a plain node keeps its moniker
  d.p2p.seed_mode = true;
  CHECK(our_node_info(d).moniker == "m (seedscope crawler)"); // a seed crawls too

  Config c = parse_config("moniker = \"m\"\n[crawler]\nexclude_file = \"\"\n"
                          "max_contacts_per_subnet_per_second = 5\n"
                          "contact = \"https://example.org/seedscope or ops@example.org\"\n",
                          "config.toml");
  CHECK(c.crawler.exclude_file.empty());
  CHECK(c.crawler.max_contacts_per_subnet_per_second == 5);
  CHECK(crawler_moniker(c) ==
        "m (seedscope crawler; contact: https://example.org/seedscope or ops@example.org)");
  CHECK(render_config(c).find("contact = \"https://example.org") != std::string::npos);
  CHECK(parse_config(render_config(c), "config.toml").crawler.contact == c.crawler.contact);

  CHECK(error_of("[crawler]\ncontact = \"tab\there\"\n").rfind("config.toml:2: contact: ", 0) == 0);
  CHECK(error_of("[crawler]\n\ncontact = \"" + std::string(201, 'x') + "\"\n")
            .rfind("config.toml:3: contact: ", 0) == 0);
  CHECK(error_of("[crawler]\ncontact = \"   \"\n").find("printable ASCII") != std::string::npos);
  CHECK(error_of("[crawler]\nmax_contacts_per_subnet_per_second = 0\n") ==
        "config.toml:2: max_contacts_per_subnet_per_second: must be from 1 to 10000");
  CHECK(error_of("[crawler]\nexclude_file = 3\n").rfind("config.toml:2: exclude_file: ", 0) == 0);
}

} // namespace seedscope::app
