// The log lines of the real binary, as an operator sees them: every stderr line parses in the
// configured format (plain, logfmt, json) with its level and module, per-peer lines carry the
// peer's ID and address, --log_level filters per module, --log-file is reopened on SIGHUP
// (logrotate), and the node key never appears in any output.
#include <signal.h>

#include <sodium.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/log.hpp"
#include "core/crypto/keys.hpp"
#include "crawler/app/node_key_file.hpp"
#include "support/logfmt_parse.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using test::run_process;

const std::string kLogBinary = SEEDSCOPE_BINARY;

// One parsed log line, whatever its format.
struct LogLine {
  std::string level, module, message;
  std::map<std::string, std::string> fields; // everything but level, module, msg (and ts)
};

std::optional<LogLine> parse_line(const std::string& format, const std::string& line) {
  LogLine out;
  if (format == "json") {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      return std::nullopt;
    }
    if (!j.is_object() || !j.contains("ts") || !j.contains("level") || !j.contains("module") ||
        !j.contains("msg"))
      return std::nullopt;
    for (const auto& [k, v] : j.items()) {
      if (!v.is_string()) return std::nullopt;
      if (k == "level") out.level = v;
      else if (k == "module") out.module = v;
      else if (k == "msg") out.message = v;
      else if (k != "ts") out.fields[k] = v;
    }
    return out;
  }
  if (format == "logfmt") {
    auto kv = test::parse_logfmt(line);
    if (!kv || !kv->count("ts") || !kv->count("level") || !kv->count("module") || !kv->count("msg"))
      return std::nullopt;
    out.level = kv->at("level");
    out.module = kv->at("module");
    out.message = kv->at("msg");
    for (const auto& [k, v] : *kv)
      if (k != "ts" && k != "level" && k != "module" && k != "msg") out.fields[k] = v;
    return out;
  }
  auto plain = test::parse_plain_line(line);
  if (!plain) return std::nullopt;
  out.level = plain->level;
  out.message = plain->message;
  out.module = plain->fields.at("module");
  plain->fields.erase("module");
  out.fields = plain->fields;
  return out;
}

// Every line of `text` parsed; a line that does not parse fails the test, naming it.
std::vector<LogLine> parse_all(const std::string& format, const std::string& text) {
  std::vector<LogLine> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    INFO("format ", format, ", line: ", line);
    auto parsed = parse_line(format, line);
    REQUIRE(parsed);
    CHECK((parsed->level == "debug" || parsed->level == "info" || parsed->level == "error"));
    CHECK(std::find(std::begin(kLogModules), std::end(kLogModules), parsed->module) !=
          std::end(kLogModules));
    out.push_back(std::move(*parsed));
  }
  return out;
}

const LogLine* find_message(const std::vector<LogLine>& lines, const std::string& message) {
  for (const LogLine& l : lines)
    if (l.message == message) return &l;
  return nullptr;
}

struct LogHome {
  fs::path dir;
  std::string id;
  std::uint16_t port = 0;
  std::uint16_t closed_port = 0; // a persistent peer nobody listens on
};

// An initialised home: a node on a free loopback port with one persistent peer that refuses
// (a "connection failed" line per dial), no metrics, and `extra` top-level settings.
LogHome make_log_home(const fs::path& dir, const std::string& extra = "") {
  LogHome h;
  h.dir = dir;
  auto r = run_process({kLogBinary, "init", "--home", dir.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  h.id = r.out.substr(0, 40);
  h.port = test::free_tcp_port();
  h.closed_port = test::free_tcp_port();
  test::write_file(dir / "config" / "config.toml",
                   fmt::format("moniker = \"logs-test\"\n{}\n[p2p]\nladdr = "
                               "\"tcp://127.0.0.1:{}\"\npersistent_peers = "
                               "\"{}@127.0.0.1:{}\"\n[instrumentation]\nprometheus_listen_addr = "
                               "\"off\"\n",
                               extra, h.port, std::string(40, 'a'), h.closed_port));
  return h;
}

bool probe_node(const LogHome& h, const fs::path& scratch) {
  auto r = run_process({kLogBinary, "probe", fmt::format("{}@127.0.0.1:{}", h.id, h.port), "--home",
                        (scratch / "prober").string(), "--timeout", "5s", "--network", "logs-net"});
  return r.exit_code == 0;
}

// Runs `start` with `flags`, probes it once, stops it with SIGTERM; returns its stderr.
std::string run_node(const LogHome& h, const fs::path& scratch,
                     const std::vector<std::string>& flags) {
  std::vector<std::string> argv{kLogBinary, "start", "--home", h.dir.string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const fs::path err = scratch / "node.err";
  fs::remove(err);
  test::ChildProcess node(argv, scratch / "node.out", err);
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  CHECK(probe_node(h, scratch));
  // The probe's peer removed, and at least one failed dial of the persistent peer, logged.
  for (int i = 0; i < 100; ++i) {
    const std::string text = test::read_file(err);
    if (text.find("peer removed") != std::string::npos &&
        text.find("connection failed") != std::string::npos)
      break;
    std::this_thread::sleep_for(Millis(50));
  }
  node.signal(SIGTERM);
  const auto code = node.wait(Millis(10000));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  return test::read_file(err);
}

} // namespace

TEST_CASE("logs: every stderr line of a node parses in each format, per-peer lines name the peer") {
  test::TempDir dir;
  const LogHome h = make_log_home(dir.path() / "home");
  for (const std::string format : {"plain", "logfmt", "json"}) {
    INFO("format: ", format);
    std::vector<std::string> flags;
    if (format != "plain") flags = {"--log_format", format}; // plain is the default
    const auto lines = parse_all(format, run_node(h, dir.path(), flags));
    const LogLine* started = find_message(lines, "node started");
    REQUIRE(started);
    CHECK(started->module == "main");
    CHECK(started->level == "info");
    CHECK(started->fields.at("node_id") == h.id);
    CHECK(started->fields.at("port") == std::to_string(h.port));

    const LogLine* added = find_message(lines, "peer added");
    REQUIRE(added);
    CHECK(added->module == "p2p");
    CHECK(added->fields.at("peer").size() == 40);
    CHECK(added->fields.at("addr").rfind("127.0.0.1:", 0) == 0);
    CHECK(added->fields.at("network") == "logs-net");
    const LogLine* removed = find_message(lines, "peer removed");
    REQUIRE(removed);
    CHECK(removed->fields.at("peer") == added->fields.at("peer"));
    CHECK(removed->fields.at("addr") == added->fields.at("addr"));
    const LogLine* failed = find_message(lines, "connection failed");
    REQUIRE(failed);
    CHECK(failed->fields.at("peer") == std::string(40, 'a'));
    CHECK(failed->fields.at("addr") == fmt::format("127.0.0.1:{}", h.closed_port));
    CHECK(failed->fields.at("stage") == "dial");
    CHECK(find_message(lines, "stopped"));
  }
}

TEST_CASE("logs: --log_level filters per module; the flag overrides config.toml's") {
  test::TempDir dir;
  // The config asks for JSON and debug; the flags win where they are given.
  const LogHome h =
      make_log_home(dir.path() / "home", "log_level = \"debug\"\nlog_format = \"json\"");

  const auto all = parse_all("json", run_node(h, dir.path(), {}));
  CHECK(find_message(all, "peer added"));
  CHECK(find_message(all, "node started"));

  const auto errors_only = parse_all("json", run_node(h, dir.path(), {"--log_level", "*:error"}));
  for (const LogLine& l : errors_only) {
    INFO(l.message);
    CHECK(l.level == "error");
  }
  CHECK_FALSE(find_message(errors_only, "node started"));

  const auto no_p2p = parse_all(
      "plain", run_node(h, dir.path(), {"--log_level", "p2p:error", "--log_format", "plain"}));
  CHECK(find_message(no_p2p, "node started")); // main stays at info
  for (const LogLine& l : no_p2p) {
    INFO(l.message);
    CHECK((l.module != "p2p" || l.level == "error"));
  }
  CHECK_FALSE(find_message(no_p2p, "peer added"));

  // A bad value is a usage error naming the flag, or the config's line.
  auto bad =
      run_process({kLogBinary, "start", "--home", h.dir.string(), "--log_level", "p2p:loud"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("seedscope: --log_level: unknown log level") == 0);
  auto format =
      run_process({kLogBinary, "show-node-id", "--home", h.dir.string(), "--log_format", "jsn"});
  CHECK(format.exit_code == 2);
  CHECK(format.err ==
        "seedscope: --log_format: unknown log format \"jsn\"; did you mean \"json\"? (formats: "
        "plain, json, logfmt)\n");
  const LogHome typo = make_log_home(dir.path() / "typo", "log_level = \"crawlr:debug\"");
  auto config = run_process({kLogBinary, "start", "--home", typo.dir.string()});
  CHECK(config.exit_code == 1);
  CHECK(config.err.find("config.toml:2: log_level: unknown module \"crawlr\"; did you mean "
                        "\"crawler\"?") != std::string::npos);
}

TEST_CASE("logs: SIGHUP reopens --log-file (logrotate) and the node goes on") {
  test::TempDir dir;
  const LogHome h = make_log_home(dir.path() / "home");
  const fs::path log = dir.path() / "seedscope.log";
  const fs::path rotated = dir.path() / "seedscope.log.1";
  test::ChildProcess node(
      {kLogBinary, "start", "--home", h.dir.string(), "--log-file", log.string()},
      dir.path() / "out", dir.path() / "err");
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  CHECK(test::wait_for_match(log, "(node started)") == "node started");

  fs::rename(log, rotated); // what logrotate does, then its postrotate sends SIGHUP
  node.signal(SIGHUP);
  CHECK(test::wait_for_match(log, "(reopened the log file)") == "reopened the log file");
  CHECK_FALSE(node.wait(Millis(200)).has_value()); // still running
  CHECK(probe_node(h, dir.path()));                // and serving; its lines go to the new file
  CHECK(test::wait_for_match(log, "(peer removed)") == "peer removed");

  // Without --log-file there is nothing to reopen: logged, ignored (see process_test).
  node.signal(SIGTERM);
  const auto code = node.wait(Millis(10000));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const std::string before = test::read_file(rotated);
  const std::string after = test::read_file(log);
  parse_all("plain", before);
  const auto lines = parse_all("plain", after);
  CHECK(before.find("node started") != std::string::npos);
  CHECK(before.find("peer added") == std::string::npos);
  CHECK(after.find("node started") == std::string::npos);
  CHECK(find_message(lines, "peer added"));
  CHECK(find_message(lines, "stopped"));
  CHECK(test::read_file(dir.path() / "err").empty()); // every line went to the file

  // A file that cannot be opened is an error at start, naming it.
  auto bad = run_process({kLogBinary, "show-node-id", "--home", h.dir.string(), "--log-file",
                          (dir.path() / "no" / "such" / "dir.log").string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("seedscope: --log-file ") == 0);
  CHECK(bad.err.find("cannot open: No such file or directory") != std::string::npos);
}

TEST_CASE("logs: the node key's private key never appears in any output, at any level") {
  test::TempDir dir;
  REQUIRE(sodium_init() >= 0);
  LogHome h = make_log_home(dir.path() / "home");
  // A key of our own, so that we know its private half.
  const auto key = crypto::NodeKey::generate();
  fs::remove(h.dir / "config" / "node_key.json");
  app::save_node_key(h.dir / "config" / "node_key.json", key);
  h.id = key.node_id();
  const auto file = nlohmann::json::parse(test::read_file(h.dir / "config" / "node_key.json"));
  const std::string b64 = file["priv_key"]["value"];
  REQUIRE(b64.size() == 88); // 64 bytes: seed || public key
  std::vector<unsigned char> raw(64);
  std::size_t len = 0;
  REQUIRE(sodium_base642bin(raw.data(), raw.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                            sodium_base64_VARIANT_ORIGINAL) == 0);
  REQUIRE(len == 64);
  std::string hex;
  for (std::size_t i = 0; i < 32; ++i) hex += fmt::format("{:02x}", raw[i]); // the seed
  std::string hex_upper = hex;
  std::transform(hex_upper.begin(), hex_upper.end(), hex_upper.begin(), ::toupper);
  // The seed's own base64 (as a 32-byte value would be written).
  std::string seed_b64(sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(seed_b64.data(), seed_b64.size(), raw.data(), 32,
                    sodium_base64_VARIANT_ORIGINAL);
  seed_b64.resize(seed_b64.find('\0'));

  std::string everything;
  for (const std::string format : {"plain", "json", "logfmt"})
    everything += run_node(h, dir.path(), {"--log_level", "debug", "--log_format", format});
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"init"},
           {"show-node-id"},
           {"crawl", "--duration", "1s", "--loopback-only", "--laddr", "127.0.0.1:0", "--db",
            (dir.path() / "crawl.db").string()}}) {
    std::vector<std::string> argv{kLogBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& extra :
         std::vector<std::string>{"--home", h.dir.string(), "--log_level", "debug"})
      argv.push_back(extra);
    auto r = run_process(argv);
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    everything += r.out + r.err;
  }
  REQUIRE(everything.find(key.node_id()) != std::string::npos); // the output is not empty
  CHECK(everything.find(b64) == std::string::npos);
  CHECK(everything.find(b64.substr(0, 43)) == std::string::npos); // its seed part
  CHECK(everything.find(seed_b64.substr(0, 40)) == std::string::npos);
  CHECK(everything.find(hex) == std::string::npos);
  CHECK(everything.find(hex_upper) == std::string::npos);
}

} // namespace seedscope
