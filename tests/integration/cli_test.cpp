// The seedscope binary: init, show-node-id, key file errors, start + probe over loopback.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crawler/app/node_key_file.hpp"
#include "crawler/app/version.hpp"
#include "crawler/netsim/sim_network.hpp"
#include "storage/addrbook_json.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using test::run_process;
using test::trim;

const std::string kBinary = SEEDSCOPE_BINARY;

std::string init_home(const fs::path& home) {
  auto r = run_process({kBinary, "init", "--home", home.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return trim(r.out);
}

TEST_CASE("init writes the config and the node key and show-node-id prints the key's ID") {
  crypto::init_sodium();
  test::TempDir dir;
  fs::path home = dir.path() / "home";
  std::string id = init_home(home);
  CHECK(id.size() == 40);

  fs::path key_file = home / "config" / "node_key.json";
  REQUIRE(fs::exists(key_file));
  REQUIRE(fs::exists(home / "config" / "config.toml"));
  CHECK(fs::is_directory(home / "data"));
  struct stat st {};
  REQUIRE(::stat(key_file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(app::load_node_key(key_file).node_id() == id);
  std::string config = test::read_file(home / "config" / "config.toml");
  CHECK(config.find("laddr = \"tcp://0.0.0.0:26656\"") != std::string::npos);
  CHECK(config.find("handshake_timeout = \"20s\"") != std::string::npos);

  auto show = run_process({kBinary, "show-node-id", "--home", home.string()});
  CHECK(show.exit_code == 0);
  CHECK(trim(show.out) == id);
}

TEST_CASE("init run again keeps node_key.json and config.toml and writes only what is missing") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  const fs::path key_file = home / "config" / "node_key.json";
  const fs::path config_file = home / "config" / "config.toml";
  const std::string id = init_home(home);
  // An edited config survives a second init.
  const std::string config = "moniker = \"edited\"\n";
  test::write_file(config_file, config);
  const std::string key_text = test::read_file(key_file);

  auto again = run_process({kBinary, "--home", home.string(), "init"});
  INFO(again.err);
  CHECK(again.exit_code == 0);
  CHECK(trim(again.out) == id);
  CHECK(again.err.find("kept existing node key") != std::string::npos);
  CHECK(again.err.find("file=" + key_file.string()) != std::string::npos);
  CHECK(again.err.find("kept existing config") != std::string::npos);
  CHECK(again.err.find("file=" + config_file.string()) != std::string::npos);
  CHECK(again.err.find("kept existing data directory") != std::string::npos);
  CHECK(again.err.find("wrote") == std::string::npos);
  CHECK(test::read_file(key_file) == key_text);
  CHECK(test::read_file(config_file) == config);

  // What is missing is written; the key stays.
  fs::remove(config_file);
  fs::remove_all(home / "data");
  auto fill = run_process({kBinary, "init", "--home", home.string()});
  INFO(fill.err);
  CHECK(fill.exit_code == 0);
  CHECK(trim(fill.out) == id);
  CHECK(fill.err.find("wrote config") != std::string::npos);
  CHECK(fill.err.find("file=" + config_file.string()) != std::string::npos);
  CHECK(fill.err.find("created data directory") != std::string::npos);
  CHECK(fill.err.find("dir=" + (home / "data").string()) != std::string::npos);
  CHECK(fill.err.find("kept existing node key") != std::string::npos);
  CHECK(test::read_file(key_file) == key_text);
  CHECK(fs::is_directory(home / "data"));
}

TEST_CASE("init keeps and uses a node_key.json copied from another node") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  const fs::path key_file = home / "config" / "node_key.json";
  fs::create_directories(key_file.parent_path());
  const crypto::NodeKey key = crypto::NodeKey::generate();
  // Pretty-printed, as another writer may leave it: kept byte for byte.
  const std::string compact = app::encode_node_key_json(key);
  const std::string text = "{\n  " + compact.substr(1, compact.size() - 2) + "\n}\n";
  test::write_file(key_file, text);

  auto r = run_process({kBinary, "init", "--home", home.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(trim(r.out) == key.node_id());
  CHECK(test::read_file(key_file) == text);
  CHECK(fs::exists(home / "config" / "config.toml"));
  auto show = run_process({kBinary, "show-node-id", "--home", home.string()});
  CHECK(trim(show.out) == key.node_id());

  // A broken key is an error, never replaced; nothing else is written.
  const fs::path other = dir.path() / "other";
  fs::create_directories(other / "config");
  test::write_file(other / "config" / "node_key.json", "{\"priv_key\": {");
  auto broken = run_process({kBinary, "init", "--home", other.string()});
  CHECK(broken.exit_code == 1);
  CHECK(broken.err.find("node_key.json") != std::string::npos);
  CHECK(test::read_file(other / "config" / "node_key.json") == "{\"priv_key\": {");
  CHECK_FALSE(fs::exists(other / "config" / "config.toml"));
}

TEST_CASE("a bad node_key.json gives a clear error and a non-zero exit") {
  crypto::init_sodium();
  test::TempDir dir;
  fs::path home = dir.path();
  init_home(home);
  fs::path key_file = home / "config" / "node_key.json";

  struct Case {
    const char* name;
    std::string json;
    const char* message;
  };
  std::string good = app::encode_node_key_json(crypto::NodeKey::generate());
  std::string wrong_type = good;
  wrong_type.replace(wrong_type.find("PrivKeyEd25519"), 14, "PrivKeySecp256k1");
  const Case cases[] = {
      {"malformed JSON", "{\"priv_key\": {", "malformed JSON"},
      {"wrong type", wrong_type, "unsupported key type"},
      {"wrong length", R"({"priv_key":{"type":"tendermint/PrivKeyEd25519","value":"AAAA"}})",
       "expected 64"},
      {"not base64", R"({"priv_key":{"type":"tendermint/PrivKeyEd25519","value":"!!!"}})",
       "base64"},
      {"public key not matching the seed",
       R"({"priv_key":{"type":"tendermint/PrivKeyEd25519","value":")" + std::string(86, 'A') +
           "==\"}}",
       "does not match"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    test::write_file(key_file, c.json);
    auto r = run_process({kBinary, "show-node-id", "--home", home.string()});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.find("node_key.json") != std::string::npos);
  }
}

TEST_CASE("a malformed config.toml gives file, line and reason") {
  test::TempDir dir;
  fs::path home = dir.path();
  init_home(home);
  fs::path config = home / "config" / "config.toml";
  test::write_file(config, "moniker = \"x\"\n[p2p]\nmax_num_inbound_peers = \"forty\"\n");
  auto r = run_process({kBinary, "start", "--home", home.string()});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("config.toml:3") != std::string::npos);
  CHECK(r.err.find("max_num_inbound_peers") != std::string::npos);

  test::write_file(config, "moniker = \"x\"\n[p2p\n");
  r = run_process({kBinary, "start", "--home", home.string()});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("malformed TOML") != std::string::npos);
}

TEST_CASE("`start` refuses a config.toml with an unknown key or one that is a directory") {
  test::TempDir dir;
  const fs::path home = dir.path();
  init_home(home);
  const fs::path config = home / "config" / "config.toml";
  test::write_file(config,
                   "moniker = \"x\"\n[p2p]\nladdr = \"tcp://127.0.0.1:0\"\nseed_mod = true\n");
  auto r = run_process({kBinary, "start", "--home", home.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "seedscope: " + config.string() +
                     ":4: seed_mod: unknown key in [p2p]; did you mean \"seed_mode\"?\n");

  fs::remove(config);
  fs::create_directory(config);
  r = run_process({kBinary, "start", "--home", home.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "seedscope: " + config.string() + ": is a directory, not a config file\n");
}

TEST_CASE("probe against a running `seedscope start`") {
  crypto::init_sodium();
  test::TempDir dir;
  fs::path home = dir.path() / "node";
  std::string node_id = init_home(home);
  std::uint16_t port = test::free_tcp_port();
  test::write_file(home / "config" / "config.toml",
                   fmt::format("moniker = \"cli-test-node\"\nnetwork = \"{}\"\n[p2p]\n"
                               "laddr = \"tcp://127.0.0.1:{}\"\nhandshake_timeout = \"5s\"\n"
                               "[instrumentation]\nprometheus_listen_addr = \"off\"\n",
                               "", port));

  test::ChildProcess node({kBinary, "start", "--home", home.string()}, dir.path() / "node.out",
                          dir.path() / "node.err");
  REQUIRE_MESSAGE(test::wait_for_port(port, Millis(10000)),
                  "seedscope start did not listen: " << test::read_file(dir.path() / "node.err"));
  std::string address = fmt::format("{}@127.0.0.1:{}", node_id, port);
  fs::path probe_home = dir.path() / "no-such-home"; // probe works without a home

  SUBCASE("success: JSON with the node's ID and NodeInfo") {
    auto r = run_process(
        {kBinary, "probe", address, "--home", probe_home.string(), "--network", "chain-y"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["ok"] == true);
    CHECK(j["peer_id"] == node_id);
    CHECK(j["remote_address"] == fmt::format("127.0.0.1:{}", port));
    CHECK(j["node_info"]["id"] == node_id);
    CHECK(j["node_info"]["moniker"] == "cli-test-node");
    CHECK(j["node_info"]["channels"] == "00");
    CHECK(j["node_info"]["protocol_version"]["block"] == 11);
    CHECK(j["node_info"]["protocol_version"]["p2p"] == 8);
    // The release and the revision the binary was built from (what `version` prints).
    CHECK(j["node_info"]["version"] == app::node_version());
    CHECK(j["tcp_connect_ms"].is_number());
    CHECK(j["handshake_ms"].is_number());
  }
  SUBCASE("two ends that adopt the other's chain have none to agree on: a clear failure") {
    auto r = run_process({kBinary, "probe", address, "--home", probe_home.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("probe failed: node_info/invalid_node_info: ", 0) == 0);
    CHECK(r.err.find("names no chain ID") != std::string::npos);
  }
  SUBCASE("a given network is answered in; the node adopts it") {
    auto r = run_process(
        {kBinary, "probe", address, "--network", "chain-z", "--home", probe_home.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["node_info"]["network"] == "chain-z");
  }
  SUBCASE("wrong ID: failure line on stderr, non-zero exit") {
    std::string wrong = fmt::format("{}@127.0.0.1:{}", crypto::NodeKey::generate().node_id(), port);
    auto r = run_process({kBinary, "probe", wrong, "--home", probe_home.string()});
    CHECK(r.exit_code != 0);
    CHECK(r.err.rfind("probe failed: secret_handshake/id_mismatch: ", 0) == 0);
  }

  node.signal(SIGTERM);
  auto code = node.wait(Millis(10000));
  REQUIRE_MESSAGE(code.has_value(), "seedscope start ignored SIGTERM");
  CHECK(*code == 0);
  std::string log = test::read_file(dir.path() / "node.err");
  CHECK(log.find("node started") != std::string::npos);
  CHECK(log.find("shutting down") != std::string::npos);
}

TEST_CASE("probe of an incompatible node prints its NodeInfo and the failure") {
  crypto::init_sodium();
  test::TempDir dir;
  fs::path home = dir.path() / "node";
  std::string node_id = init_home(home);
  std::uint16_t port = test::free_tcp_port();
  test::write_file(
      home / "config" / "config.toml",
      fmt::format(
          "moniker = \"chain-a-node\"\nnetwork = \"chain-a\"\n[p2p]\n"
          "laddr = \"tcp://127.0.0.1:{}\"\n[instrumentation]\nprometheus_listen_addr = \"off\"\n",
          port));
  test::ChildProcess node({kBinary, "start", "--home", home.string()}, dir.path() / "node.out",
                          dir.path() / "node.err");
  REQUIRE(test::wait_for_port(port, Millis(10000)));
  auto r = run_process({kBinary, "probe", fmt::format("{}@127.0.0.1:{}", node_id, port),
                        "--network", "chain-b", "--home", (dir.path() / "probe").string()});
  CHECK(r.exit_code != 0);
  CHECK(r.err.rfind("probe failed: node_info/incompatible_network: ", 0) == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == false);
  CHECK(j["node_info"]["network"] == "chain-a");
  CHECK(j["failure"]["reason"] == "incompatible_network");
  node.signal(SIGTERM);
  CHECK(node.wait(Millis(10000)) == std::optional<int>(0));
}

TEST_CASE("probe of a closed port fails with dial/refused") {
  test::TempDir dir;
  std::string id = std::string(40, 'a');
  auto r = run_process({kBinary, "probe", fmt::format("{}@127.0.0.1:{}", id, test::free_tcp_port()),
                        "--home", dir.path().string()});
  CHECK(r.exit_code != 0);
  CHECK(r.err.rfind("probe failed: dial/refused: ", 0) == 0);
}

// Polls `file` until it contains every one of `needles` (bounded).
bool wait_for_log(const fs::path& file, const std::vector<std::string>& needles, Millis limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    const std::string text = test::read_file(file);
    bool all = true;
    for (const auto& n : needles) all = all && text.find(n) != std::string::npos;
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

TEST_CASE("`seedscope start` as a seed and as a node that bootstraps from it") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path seed_home = dir.path() / "seed";
  const fs::path node_home = dir.path() / "node";
  const std::string seed_id = init_home(seed_home);
  const std::string node_id = init_home(node_home);
  const std::uint16_t seed_port = test::free_tcp_port();
  std::uint16_t node_port = test::free_tcp_port();
  while (node_port == seed_port) node_port = test::free_tcp_port();
  const std::string common =
      "network = \"cli-pex\"\n[p2p]\naddr_book_strict = false\nallow_duplicate_ip = true\n"
      "flush_throttle_timeout = \"10ms\"\n";
  test::write_file(
      seed_home / "config" / "config.toml",
      fmt::format("moniker = \"the-seed\"\n{}laddr = \"tcp://127.0.0.1:{}\"\n"
                  "seed_mode = true\n[instrumentation]\nprometheus_listen_addr = \"off\"\n",
                  common, seed_port));
  test::write_file(
      node_home / "config" / "config.toml",
      fmt::format(
          "moniker = \"the-node\"\n{}laddr = \"tcp://127.0.0.1:{}\"\n"
          "seeds = \"{}@127.0.0.1:{}\"\n[instrumentation]\nprometheus_listen_addr = \"off\"\n",
          common, node_port, seed_id, seed_port));

  test::ChildProcess seed({kBinary, "start", "--home", seed_home.string()}, dir.path() / "seed.out",
                          dir.path() / "seed.err");
  REQUIRE(test::wait_for_port(seed_port, Millis(10000)));
  test::ChildProcess node({kBinary, "start", "--home", node_home.string()}, dir.path() / "node.out",
                          dir.path() / "node.err");

  // The node dials its seed and asks; the seed answers once and hangs up.
  CHECK_MESSAGE(
      wait_for_log(dir.path() / "seed.err",
                   {"mode=seed", "peer added", fmt::format("peer={} addr=127.0.0.1:", node_id),
                    " dir=in ", "peer removed", "stage=pex reason=done"},
                   Millis(15000)),
      test::read_file(dir.path() / "seed.err"));
  CHECK_MESSAGE(wait_for_log(dir.path() / "node.err",
                             {"mode=normal", "peer added", fmt::format("peer={} addr=", seed_id),
                              " dir=out "},
                             Millis(15000)),
                test::read_file(dir.path() / "node.err"));

  // SIGTERM: both stop gracefully and say so.
  node.signal(SIGTERM);
  seed.signal(SIGTERM);
  CHECK(node.wait(Millis(10000)) == std::optional<int>(0));
  CHECK(seed.wait(Millis(10000)) == std::optional<int>(0));
  CHECK(test::read_file(dir.path() / "node.err").find("stopped") != std::string::npos);
}

TEST_CASE(
    "addrbook import and export move a book through addrbook.json; bad input changes nothing") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  init_home(home);
  // A Go-format book of 50 addresses, 10 of them old.
  pex::AddrBookSnapshot snap;
  snap.key_hex = "a1b2c3d4e5f6a7b8c9d0e1f2";
  for (int i = 0; i < 50; ++i) {
    pex::KnownAddress ka;
    ka.addr = NetAddress{fmt::format("{:040x}", 0x77000 + i),
                         IpAddress::v4(static_cast<std::uint8_t>(20 + i), 1, 2, 3), 26656};
    ka.src = ka.addr;
    ka.bucket_type = i < 10 ? pex::BucketType::kOld : pex::BucketType::kNew;
    ka.buckets = {i % 60};
    ka.attempts = i % 3;
    snap.addrs.push_back(ka);
  }
  const fs::path in = dir.path() / "addrbook.json";
  test::write_file(in, storage::to_addrbook_json(snap));

  auto r = run_process({kBinary, "addrbook", "import", in.string(), "--home", home.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("imported 50 addresses (40 new, 10 old)") != std::string::npos);
  CHECK(fs::exists(home / "data" / "seedscope.db"));

  const fs::path out = dir.path() / "exported.json";
  r = run_process({kBinary, "addrbook", "export", out.string(), "--home", home.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(test::read_file(out) == test::read_file(in));

  // A truncated file: refused with the file's name, the database keeps the old book.
  const fs::path broken = dir.path() / "broken.json";
  const std::string text = test::read_file(in);
  test::write_file(broken, text.substr(0, text.size() / 3));
  r = run_process({kBinary, "addrbook", "import", broken.string(), "--home", home.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("broken.json") != std::string::npos);
  CHECK(r.err.find("not valid JSON") != std::string::npos);
  r = run_process({kBinary, "addrbook", "export", out.string(), "--home", home.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(test::read_file(out) == test::read_file(in));
}

TEST_CASE("addrbook export to - writes stdout and an empty file replaces a stored book only with "
          "--force") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  init_home(home);
  pex::AddrBookSnapshot snap;
  snap.key_hex = "a1b2c3d4e5f6a7b8c9d0e1f2";
  for (int i = 0; i < 5; ++i) {
    pex::KnownAddress ka;
    ka.addr = NetAddress{fmt::format("{:040x}", 0x88000 + i),
                         IpAddress::v4(static_cast<std::uint8_t>(30 + i), 1, 2, 3), 26656};
    ka.src = ka.addr;
    ka.buckets = {i};
    snap.addrs.push_back(ka);
  }
  const fs::path full = dir.path() / "full.json";
  test::write_file(full, storage::to_addrbook_json(snap));
  pex::AddrBookSnapshot none;
  none.key_hex = snap.key_hex;
  const fs::path empty = dir.path() / "empty.json";
  test::write_file(empty, storage::to_addrbook_json(none));

  // An empty file over no book at all needs nothing.
  auto r = run_process({kBinary, "addrbook", "import", empty.string(), "--home", home.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = run_process({kBinary, "addrbook", "import", full.string(), "--home", home.string()});
  REQUIRE(r.exit_code == 0);

  // "-": the JSON alone on stdout, the summary on stderr.
  r = run_process({kBinary, "addrbook", "export", "-", "--home", home.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == test::read_file(full));
  CHECK(r.err.find("exported 5 addresses (5 new, 0 old) to stdout") != std::string::npos);

  // An empty file over the 5 stored addresses: refused, the book stays.
  r = run_process({kBinary, "addrbook", "import", empty.string(), "--home", home.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("has no addresses") != std::string::npos);
  CHECK(r.err.find("5 addresses") != std::string::npos);
  CHECK(r.err.find("--force") != std::string::npos);
  r = run_process({kBinary, "addrbook", "export", "-", "--home", home.string()});
  CHECK(r.out == test::read_file(full));

  // --force does it.
  r = run_process(
      {kBinary, "addrbook", "import", "--force", empty.string(), "--home", home.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("imported 0 addresses") != std::string::npos);
  r = run_process({kBinary, "addrbook", "export", "-", "--home", home.string()});
  CHECK(r.exit_code == 0);
  CHECK(r.out == test::read_file(empty));
}

TEST_CASE("`seedscope start` refuses a database that is not its own, and leaves it alone") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  init_home(home);
  fs::create_directories(home / "data");
  const std::string junk = "not a database at all\n";
  test::write_file(home / "data" / "seedscope.db", junk);
  auto r = run_process({kBinary, "start", "--home", home.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("not an SQLite file") != std::string::npos);
  CHECK(test::read_file(home / "data" / "seedscope.db") == junk);
}

TEST_CASE("`seedscope crawl` refuses a foreign database untouched; `start` with crawl = true runs "
          "the crawler") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  init_home(home);
  const std::string junk = "not a database at all\n";
  test::write_file(dir.path() / "junk.db", junk);
  auto r = run_process({kBinary, "crawl", "--home", home.string(), "--db",
                        (dir.path() / "junk.db").string(), "--laddr", "127.0.0.1:0"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("not an SQLite file") != std::string::npos);
  CHECK(test::read_file(dir.path() / "junk.db") == junk);
  auto bad = run_process({kBinary, "crawl", "--home", home.string(), "--seed", "nonsense"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("--seed") != std::string::npos);

  // [crawler] crawl = true: `start` is the crawler (and a seed on laddr).
  std::string config = test::read_file(home / "config" / "config.toml");
  auto pos = config.find("crawl = false");
  REQUIRE(pos != std::string::npos);
  config.replace(pos, 13, "crawl = true");
  const std::string laddr_line = "laddr = \"tcp://0.0.0.0:26656\"";
  pos = config.find(laddr_line);
  REQUIRE(pos != std::string::npos);
  config.replace(pos, laddr_line.size(), "laddr = \"tcp://127.0.0.1:0\"");
  const std::string metrics_line = "prometheus_listen_addr = \"127.0.0.1:26660\"";
  pos = config.find(metrics_line);
  REQUIRE(pos != std::string::npos);
  config.replace(pos, metrics_line.size(),
                 "prometheus_listen_addr = \"off\""); // tests run side by side
  test::write_file(home / "config" / "config.toml", config);
  test::ChildProcess child({kBinary, "start", "--home", home.string()}, dir.path() / "out",
                           dir.path() / "err");
  CHECK_MESSAGE(
      wait_for_log(dir.path() / "err", {"crawler started", "every network"}, Millis(10000)),
      test::read_file(dir.path() / "err"));
  child.signal(SIGTERM);
  auto code = child.wait(Millis(10000));
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(test::read_file(dir.path() / "err").find("stopped") != std::string::npos);
  CHECK(test::read_file(dir.path() / "out").find("crawl summary: ") != std::string::npos);
  CHECK(fs::exists(home / "data" / "seedscope.db"));
}

TEST_CASE("`seedscope netsim` prints each chain's seed list on stdout when it starts") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path scenario = dir.path() / "sim.toml";
  test::write_file(scenario, "seed = 4\naddress_offset = 50000\n"
                             "[[network]]\nchain_id = \"one-1\"\nnodes = 20\nseed_nodes = 2\n"
                             "[[network]]\nchain_id = \"two-2\"\nnodes = 10\nseed_nodes = 1\n"
                             "[[network]]\nchain_id = \"three-3\"\nnodes = 5\nseed_nodes = 0\n");
  test::ChildProcess sim({kBinary, "netsim", "--scenario", scenario.string(), "--duration", "30s"},
                         dir.path() / "out", dir.path() / "err");
  REQUIRE_MESSAGE(wait_for_log(dir.path() / "out", {"three-3 seeds:"}, Millis(15000)),
                  test::read_file(dir.path() / "err"));
  const std::string out = test::read_file(dir.path() / "out");
  // The seeds of each chain, from the scenario's ground truth.
  const netsim::SimNetwork expected(netsim::load_scenario(scenario));
  std::vector<std::vector<std::string>> seeds(3);
  for (const auto& n : expected.nodes())
    if (n.behaviour == netsim::Behaviour::kSeed)
      seeds[n.network].push_back(fmt::format("{}@{}:26656", n.id, n.ip.to_string()));
  REQUIRE(seeds[0].size() == 2);
  REQUIRE(seeds[1].size() == 1);
  CHECK(out.find("one-1 seeds: " + seeds[0][0] + "," + seeds[0][1] + "\n") != std::string::npos);
  CHECK(out.find("two-2 seeds: " + seeds[1][0] + "\n") != std::string::npos);
  CHECK(out.find("three-3 seeds: (no seed nodes)\n") != std::string::npos);
  // A listed seed is a live node of its chain.
  auto probe =
      run_process({kBinary, "probe", seeds[0][1], "--home", (dir.path() / "home").string()});
  INFO(probe.err);
  CHECK(probe.exit_code == 0);
  CHECK(probe.out.find("\"network\": \"one-1\"") != std::string::npos);
  sim.signal(SIGTERM);
  CHECK(sim.wait(Millis(10000)) == std::optional<int>(0));
}

TEST_CASE("usage errors exit with 2 and one line; --help and --version with 0") {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"bogus"},
                                             {"init", "--bogus"},
                                             {"--home"},
                                             {"export", "--network", "x", "--min-score", "2"},
                                             {"export", "--network", "x", "--min-score", "abc"},
                                             {"export", "--network", "x", "--format", "xml"},
                                             {"export", "--network", "x", "--ipv4", "--ipv6"},
                                             {"crawl", "--max-concurrent-dials", "abc"},
                                             {"crawl", "--max-concurrent-dials", "0"},
                                             {"demo", "--preset", "bogus"},
                                             {"probe"}}) {
    std::vector<std::string> argv = {kBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    CAPTURE(fmt::format("{}", fmt::join(args, " ")));
    auto r = run_process(argv);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  CHECK(run_process({kBinary, "--help"}).exit_code == 0);
  auto v = run_process({kBinary, "--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind(SEEDSCOPE_VERSION_STRING "\n", 0) == 0);
  CHECK(v.err.empty());
  // The same text as `seedscope version` (version_test.cpp checks each field).
  auto sub = run_process({kBinary, "version"});
  CHECK(sub.exit_code == 0);
  CHECK(sub.out == v.out);
  CHECK(run_process({kBinary, "version", "extra"}).exit_code == 2);
}

TEST_CASE("`demo` on a kept database counts only its own contacts") {
  test::TempDir dir;
  const std::string db = (dir.path() / "demo.db").string();
  auto demo = [&](const char* duration) {
    return run_process({kBinary, "demo", "--preset", "small", "--db", db, "--duration", duration,
                        "--metrics-addr", "off", "--address-offset", "95000"},
                       Millis(60000));
  };
  auto first = demo("30s");
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("target reached") != std::string::npos);
  // Again on the same file: the nodes verified a moment ago are not due, so it does not claim
  // to have reached them.
  auto again = demo("3s");
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("holds") != std::string::npos);
  CHECK(again.err.find("target reached") == std::string::npos);
  CHECK(again.out.find("99 % at not reached") != std::string::npos);
}

TEST_CASE(
    "`demo` beside a netsim on its addresses names --address-offset and runs elsewhere with it") {
  crypto::init_sodium();
  test::TempDir dir;
  const fs::path scenario = dir.path() / "busy.toml";
  test::write_file(scenario, "seed = 6\naddress_offset = 90000\n"
                             "[[network]]\nchain_id = \"busy-1\"\nnodes = 20\nseed_nodes = 1\n");
  test::ChildProcess sim({kBinary, "netsim", "--scenario", scenario.string(), "--duration", "60s"},
                         dir.path() / "out", dir.path() / "err");
  REQUIRE_MESSAGE(wait_for_log(dir.path() / "out", {"busy-1 seeds:"}, Millis(15000)),
                  test::read_file(dir.path() / "err"));

  auto clash = run_process({kBinary, "demo", "--preset", "small", "--address-offset", "90000",
                            "--metrics-addr", "off", "--duration", "5s"},
                           Millis(30000));
  CHECK(clash.exit_code == 1);
  const std::string line = clash.err.substr(clash.err.find("seedscope: "));
  CHECK(line.find("address already in use") != std::string::npos);
  CHECK(line.find("the simulated nodes' addresses are in use") != std::string::npos);
  CHECK(line.find("--address-offset") != std::string::npos);
  CHECK(line.find("--port") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);

  // Past the netsim's 20 addresses: the demo runs.
  auto moved = run_process({kBinary, "demo", "--preset", "small", "--address-offset", "90020",
                            "--metrics-addr", "off", "--duration", "3s"},
                           Millis(30000));
  INFO(moved.err);
  CHECK(moved.exit_code == 0);
  CHECK(moved.err.find("addr=127.x.y.z:26656 address_offset=90020 ") != std::string::npos);
  CHECK(moved.out.find("seedscope demo summary") != std::string::npos);
  sim.signal(SIGTERM);
  CHECK(sim.wait(Millis(10000)) == std::optional<int>(0));

  for (const auto& [option, value] :
       std::vector<std::pair<std::string, std::string>>{{"--port", "0"},
                                                        {"--port", "65536"},
                                                        {"--port", "x"},
                                                        {"--address-offset", "-1"},
                                                        {"--address-offset", "100001"}}) {
    CAPTURE(option);
    CAPTURE(value);
    auto bad = run_process({kBinary, "demo", option, value});
    CHECK(bad.exit_code == 2); // a usage error
    CHECK(bad.err.find("seedscope: " + option + ": \"" + value + "\" is not a whole number") == 0);
  }
}

} // namespace
} // namespace seedscope
