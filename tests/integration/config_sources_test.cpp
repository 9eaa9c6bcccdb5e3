// Where settings come from: config.toml, SEEDSCOPE_* variables and flags (resolve_config),
// `seedscope config show|check`, SEEDSCOPE_HOME and `start`'s Tendermint flag names.
#include <signal.h>

#include <algorithm>

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "crawler/app/config.hpp"
#include "support/process.hpp"

namespace seedscope::app {
namespace {

namespace fs = std::filesystem;
using test::run_process;

const std::string kBinary = SEEDSCOPE_BINARY;

// A value for every setting that is not its default, as TOML.
const std::map<std::string, std::string>& samples() {
  static const std::map<std::string, std::string> all = {
      {"moniker", "\"sample-moniker\""},
      {"node_key_file", "\"keys/node.json\""},
      {"network", "\"cosmoshub-4\""},
      {"db_file", "\"/var/lib/seedscope/db.sqlite\""},
      {"log_level", "\"p2p:debug,*:error\""},
      {"log_format", "\"json\""},
      {"p2p.laddr", "\"tcp://127.0.0.1:36656\""},
      {"p2p.external_address", "\"seed.example.com:26656\""},
      {"p2p.seeds", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@198.51.100.1:26656\""},
      {"p2p.persistent_peers", "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@198.51.100.2:26656\""},
      {"p2p.unconditional_peer_ids", "\"cccccccccccccccccccccccccccccccccccccccc\""},
      {"p2p.private_peer_ids", "\"dddddddddddddddddddddddddddddddddddddddd\""},
      {"p2p.addr_book_strict", "false"},
      {"p2p.max_num_inbound_peers", "41"},
      {"p2p.max_num_outbound_peers", "11"},
      {"p2p.persistent_peers_max_dial_period", "\"30s\""},
      {"p2p.flush_throttle_timeout", "\"50ms\""},
      {"p2p.max_packet_msg_payload_size", "2048"},
      {"p2p.send_rate", "1000000"},
      {"p2p.recv_rate", "2000000"},
      {"p2p.pex", "false"},
      {"p2p.seed_mode", "true"},
      {"p2p.allow_duplicate_ip", "true"},
      {"p2p.loopback_only", "true"},
      {"p2p.handshake_timeout", "\"7s\""},
      {"p2p.dial_timeout", "\"2s\""},
      {"p2p.handshake_pool_size", "100"},
      {"p2p.handshake_pool_per_ip", "4"},
      {"p2p.handshake_pool_per_subnet", "32"},
      {"crawler.crawl", "true"},
      {"crawler.max_concurrent_dials", "64"},
      {"crawler.max_inbound", "128"},
      {"crawler.max_unconfirmed_networks", "8"},
      {"crawler.recrawl_interval", "\"15m\""},
      {"crawler.retry_base", "\"2m\""},
      {"crawler.retry_cap", "\"2h\""},
      {"crawler.retire_after", "\"48h\""},
      {"crawler.handshake_timeout", "\"5s\""},
      {"crawler.pex_timeout", "\"6s\""},
      {"crawler.contact_retention", "\"240h\""},
      {"crawler.status_interval", "\"30s\""},
      {"crawler.exclude_file", "\"config/others.txt\""},
      {"crawler.max_contacts_per_subnet_per_second", "5"},
      {"crawler.contact", "\"ops@example.org\""},
      {"instrumentation.prometheus", "false"},
      {"instrumentation.prometheus_listen_addr", "\"127.0.0.1:36660\""},
      {"instrumentation.namespace", "\"scope\""},
      {"geo.country_db", "\"geo/country.mmdb\""},
      {"geo.asn_db", "\"geo/asn.mmdb\""},
      {"geo.check_interval", "\"5m\""},
  };
  return all;
}

// The TOML literal as an environment variable or flag takes it (strings unquoted).
std::string as_text(const std::string& toml) {
  if (toml.size() >= 2 && toml.front() == '"') return toml.substr(1, toml.size() - 2);
  return toml;
}

std::string section_of(const std::string& name) {
  const auto dot = name.find('.');
  return dot == std::string::npos ? "" : name.substr(0, dot);
}
std::string key_of(const std::string& name) { return name.substr(name.find('.') + 1); }

// A config.toml setting every sample; `lines` gets each setting's line number.
std::string sample_file(std::map<std::string, std::uint32_t>& lines) {
  std::string text;
  std::uint32_t line = 1;
  std::string section;
  for (const std::string& name : setting_names()) {
    if (section_of(name) != section) {
      section = section_of(name);
      text += fmt::format("[{}]\n", section);
      ++line;
    }
    text += fmt::format("{} = {}\n", key_of(name), samples().at(name));
    lines[name] = line++;
  }
  return text;
}

// Each setting's value in the effective config as TOML: the line of render_effective.
std::map<std::string, std::string> rendered_values(const EffectiveConfig& e) {
  std::map<std::string, std::string> out;
  std::string section;
  const std::string text = render_effective(e);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::string line = text.substr(at, text.find('\n', at) - at);
    at += line.size() + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const auto eq = line.find(" = ");
    const auto hash = line.rfind("  # ");
    REQUIRE(eq != std::string::npos);
    REQUIRE(hash != std::string::npos);
    const std::string key = line.substr(0, eq);
    out[section.empty() ? key : section + "." + key] = line.substr(eq + 3, hash - eq - 3);
  }
  return out;
}

std::string error_of(const ConfigInputs& in) {
  try {
    resolve_config(in);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST_CASE("config sources: the samples cover every setting and none is a default") {
  const std::vector<std::string> names = setting_names();
  CHECK(names.size() == samples().size());
  const EffectiveConfig defaults = resolve_config({});
  const auto default_values = rendered_values(defaults);
  for (const std::string& name : names) {
    CAPTURE(name);
    REQUIRE(samples().count(name) == 1);
    CHECK(samples().at(name) != default_values.at(name));
    CHECK(defaults.origins.at(name).source == ConfigSource::kDefault);
    CHECK(!setting_type(name).empty());
  }
  // The file `init` writes names every setting.
  ConfigInputs in;
  in.file_text = render_config(default_config());
  const EffectiveConfig rendered = resolve_config(in);
  for (const std::string& name : names) {
    CAPTURE(name);
    CHECK(rendered.origins.at(name).source == ConfigSource::kFile);
  }
}

TEST_CASE("config sources: every setting round-trips file -> effective config with its line") {
  std::map<std::string, std::uint32_t> lines;
  ConfigInputs in;
  in.file_text = sample_file(lines);
  in.file_name = "home/config.toml";
  const EffectiveConfig e = resolve_config(in);
  const auto values = rendered_values(e);
  for (const std::string& name : setting_names()) {
    CAPTURE(name);
    CHECK(values.at(name) == samples().at(name));
    const ValueOrigin& o = e.origins.at(name);
    CHECK(o.source == ConfigSource::kFile);
    CHECK(o.line == lines.at(name));
    CHECK(o.where == fmt::format("home/config.toml:{}", lines.at(name)));
  }
  // What `config show` prints is TOML that reads back to the same configuration.
  ConfigInputs again;
  again.file_text = render_effective(e);
  CHECK(render_config(resolve_config(again).config) == render_config(e.config));
}

TEST_CASE("config sources: file < environment < flags, for every setting") {
  std::map<std::string, std::uint32_t> lines;
  const EffectiveConfig defaults = resolve_config({});
  const auto default_values = rendered_values(defaults);
  for (const std::string& name : setting_names()) {
    CAPTURE(name);
    // The file sets the sample; the environment sets the default back; a flag the sample.
    ConfigInputs in;
    in.file_text = sample_file(lines);
    in.environment = {"PATH=/usr/bin",
                      environment_name(name) + "=" + as_text(default_values.at(name)),
                      "SEEDSCOPE_TESTS_RAN=/tmp/x"};
    EffectiveConfig e = resolve_config(in);
    CHECK(rendered_values(e).at(name) == default_values.at(name));
    CHECK(e.origins.at(name).source == ConfigSource::kEnvironment);
    CHECK(e.origins.at(name).where == environment_name(name));

    in.flags = {{name, as_text(samples().at(name)), "--" + name}};
    e = resolve_config(in);
    CHECK(rendered_values(e).at(name) == samples().at(name));
    CHECK(e.origins.at(name).source == ConfigSource::kFlag);
    CHECK(e.origins.at(name).where == "--" + name);
  }
  CHECK(environment_name("p2p.laddr") == "SEEDSCOPE_P2P_LADDR");
  CHECK(environment_name("moniker") == "SEEDSCOPE_MONIKER");
}

TEST_CASE("config sources: each kind of bad value names its key and where it was given") {
  struct Case {
    const char* name;
    const char* value;
    const char* why;
  };
  const Case cases[] = {
      {"p2p.max_num_inbound_peers", "many", "\"many\": expected an integer"},
      {"p2p.max_num_inbound_peers", "99999999999999999999",
       "\"99999999999999999999\": expected "
       "an integer"},
      {"p2p.max_num_inbound_peers", "10001", "must be from 0 to 10000"},
      {"p2p.seed_mode", "yes", "\"yes\": expected true or false"},
      {"p2p.dial_timeout", "3 seconds",
       "bad duration \"3 seconds\" (expected e.g. \"20s\", \"3s\", \"100ms\")"},
      {"p2p.dial_timeout", "0s", "must be greater than zero and at most 10m"},
      {"p2p.laddr", "tcp://example.com:1",
       "cannot listen on tcp://example.com:1: host \"example.com\" is not an IP address"},
      {"p2p.seeds", "1.2.3.4:26656", ""},
      {"moniker", " ", "must be non-empty printable ASCII"},
      {"instrumentation.namespace", "1x", "must be a Prometheus name: letters, digits, _"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(c.value);
    ConfigInputs env;
    env.environment = {environment_name(c.name) + "=" + c.value};
    const std::string from_env = error_of(env);
    ConfigInputs flag;
    flag.flags = {{c.name, c.value, std::string("--") + c.name}};
    const std::string from_flag = error_of(flag);
    ConfigInputs file;
    const std::string type(setting_type(c.name));
    const bool quoted = type == "text" || type == "duration" || std::string(c.value) == "many" ||
                        std::string(c.value) == "yes";
    const std::string section = section_of(c.name);
    file.file_text = (section.empty() ? "" : "[" + section + "]\n") +
                     fmt::format("{} = {}\n", key_of(c.name),
                                 quoted ? fmt::format("\"{}\"", c.value) : std::string(c.value));
    const std::string from_file = error_of(file);
    const std::uint32_t line = section.empty() ? 1 : 2;
    CHECK(from_env.rfind(environment_name(c.name) + ": ", 0) == 0);
    CHECK(from_flag.rfind(std::string("--") + c.name + ": ", 0) == 0);
    if (std::string_view(c.value).size() < 20) // past int64, TOML itself refuses the file
      CHECK(from_file.rfind(fmt::format("config.toml:{}: {}: ", line, key_of(c.name)), 0) == 0);
    if (std::string_view(c.why).empty()) continue;
    CHECK(from_env == environment_name(c.name) + ": " + c.why);
    CHECK(from_flag == std::string("--") + c.name + ": " + c.why);
    if (type != "integer" && type != "bool")
      CHECK(from_file == fmt::format("config.toml:{}: {}: {}", line, key_of(c.name), c.why));
  }
}

TEST_CASE("config sources: every problem is listed at once, the file's in line order first") {
  ConfigInputs in;
  in.file_text = "moniker = \"\"\n"
                 "[p2p]\n"
                 "seed_mod = true\n"
                 "dial_timeout = \"soon\"\n"
                 "[crawler]\n"
                 "retry_base = \"2h\"\n"
                 "retry_cap = \"1h\"\n";
  in.environment = {"SEEDSCOPE_P2P_PEX=maybe", "SEEDSCOPE_P2P_LADR=tcp://127.0.0.1:1",
                    "SEEDSCOPE_TESTS_RAN=/tmp/x", "SEEDSCOPE_CRASH_SEED=1", "SEEDSCOPE_HOME=/x"};
  in.flags = {{"p2p.max_num_outbound_peers", "-1", "--p2p.max_num_outbound_peers"}};
  CHECK(error_of(in) ==
        "config.toml:1: moniker: must be non-empty printable ASCII\n"
        "config.toml:3: seed_mod: unknown key in [p2p]; did you mean \"seed_mode\"?\n"
        "config.toml:4: dial_timeout: bad duration \"soon\" (expected e.g. \"20s\", \"3s\", "
        "\"100ms\")\n"
        "config.toml:7: retry_cap: must be at least retry_base\n"
        "SEEDSCOPE_P2P_PEX: \"maybe\": expected true or false\n"
        "SEEDSCOPE_P2P_LADR: unknown setting; did you mean \"SEEDSCOPE_P2P_LADDR\"?\n"
        "--p2p.max_num_outbound_peers: must be from 0 to 10000");
  // A rule between two settings is reported where the later one was given.
  ConfigInputs env;
  env.environment = {"SEEDSCOPE_CRAWLER_RETRY_BASE=5h"};
  CHECK(error_of(env) == "SEEDSCOPE_CRAWLER_RETRY_BASE: must be at most retry_cap (4h)");
}

TEST_CASE("`config show` and `config check` on a home, with SEEDSCOPE_HOME and flags") {
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  REQUIRE(run_process({kBinary, "init", "--home", home.string()}).exit_code == 0);
  const fs::path file = home / "config" / "config.toml";
  std::string text = test::read_file(file);
  const auto at = text.find("seed_mode = false");
  REQUIRE(at != std::string::npos);
  text.replace(at, 17, "seed_mode = true");
  test::write_file(file, text);
  const std::size_t seed_line = 1 + static_cast<std::size_t>(std::count(
                                        text.begin(), text.begin() + static_cast<long>(at), '\n'));

  auto show = run_process({"/usr/bin/env", "SEEDSCOPE_HOME=" + home.string(),
                           "SEEDSCOPE_P2P_MAX_NUM_INBOUND_PEERS=7", kBinary, "config", "show",
                           "--p2p.laddr", "tcp://127.0.0.1:36656", "--p2p.pex=false"});
  REQUIRE_MESSAGE(show.exit_code == 0, show.err);
  CHECK(show.err.empty());
  CHECK(show.out.find("# home: " + home.string() + " (SEEDSCOPE_HOME)") != std::string::npos);
  CHECK(show.out.find(fmt::format("seed_mode = true  # {}:{}\n", file.string(), seed_line)) !=
        std::string::npos);
  CHECK(show.out.find("max_num_inbound_peers = 7  # SEEDSCOPE_P2P_MAX_NUM_INBOUND_PEERS\n") !=
        std::string::npos);
  CHECK(show.out.find("laddr = \"tcp://127.0.0.1:36656\"  # --p2p.laddr\n") != std::string::npos);
  CHECK(show.out.find("pex = false  # --p2p.pex\n") != std::string::npos);
  // It is TOML: it reads back to what it shows.
  const Config shown = parse_config(show.out, "shown");
  CHECK(shown.p2p.seed_mode);
  CHECK(shown.p2p.max_num_inbound_peers == 7);
  CHECK(shown.p2p.laddr == "tcp://127.0.0.1:36656");
  CHECK_FALSE(shown.p2p.pex);

  auto ok = run_process({kBinary, "--home", home.string(), "config", "check"});
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("ok: " + file.string() + ": ") == 0);

  const std::string interval_line = "check_interval = \"1m\"";
  const auto interval = text.find(interval_line);
  REQUIRE(interval != std::string::npos);
  test::write_file(file, text.substr(0, interval) + "check_interval = \"1ms\"\nunknown = 1\n" +
                             text.substr(interval + interval_line.size()));
  auto bad = run_process({"/usr/bin/env", "SEEDSCOPE_P2P_SEND_RATE=0", kBinary, "--home",
                          home.string(), "config", "check", "--p2p.dial_timeout=never"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  CHECK(bad.err.find("config.toml:") != std::string::npos);
  CHECK(bad.err.find(": check_interval: must be from 1s to 24h\n") != std::string::npos);
  CHECK(bad.err.find(": unknown: unknown key in [geo]") != std::string::npos);
  CHECK(bad.err.find("SEEDSCOPE_P2P_SEND_RATE: must be from 1 to 10000000000\n") !=
        std::string::npos);
  CHECK(bad.err.find("--p2p.dial_timeout: bad duration \"never\"") != std::string::npos);
  CHECK(bad.err.find("config check: 4 problems\n") != std::string::npos);

  // The exclude list the configuration names is checked with it, every bad line listed.
  test::write_file(file, text);
  test::write_file(home / "config" / "exclude.txt", "# ours\n10.0.0.0/33\nnot-an-id\n");
  auto exclude = run_process({kBinary, "--home", home.string(), "config", "check"});
  CHECK(exclude.exit_code == 1);
  CHECK(exclude.err.find("exclude.txt:2: \"10.0.0.0/33\": ") != std::string::npos);
  CHECK(exclude.err.find("exclude.txt:3: \"not-an-id\": ") != std::string::npos);
  CHECK(exclude.err.find("config check: 2 problems\n") != std::string::npos);

  auto missing =
      run_process({kBinary, "--home", (dir.path() / "none").string(), "config", "check"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not found (run `seedscope init") != std::string::npos);
  auto other =
      run_process({kBinary, "config", "check", "--file", (dir.path() / "none.toml").string()});
  CHECK(other.exit_code == 1);
  CHECK(other.err.find("none.toml: cannot read:") != std::string::npos);
}

TEST_CASE("`start` takes Tendermint's flag names and the environment over config.toml") {
  test::TempDir dir;
  const fs::path home = dir.path() / "home";
  REQUIRE(run_process({kBinary, "init", "--home", home.string()}).exit_code == 0);
  // A bad flag value stops start-up with the key named, before anything listens.
  auto bad = run_process({kBinary, "--home", home.string(), "start", "--p2p.laddr", "nowhere"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("--p2p.laddr: ") != std::string::npos);
  auto bad_env = run_process({"/usr/bin/env", "SEEDSCOPE_P2P_SEED_MODE=perhaps", kBinary, "--home",
                              home.string(), "start"});
  CHECK(bad_env.exit_code == 1);
  CHECK(bad_env.err.find("SEEDSCOPE_P2P_SEED_MODE: \"perhaps\": expected true or false") !=
        std::string::npos);

  // A node listening where the flag says, in seed mode, under the environment's moniker.
  const fs::path out = dir.path() / "out", err = dir.path() / "err";
  test::ChildProcess node({"/usr/bin/env", "SEEDSCOPE_HOME=" + home.string(),
                           "SEEDSCOPE_MONIKER=from-env", kBinary, "start", "--p2p.laddr",
                           "tcp://127.0.0.1:0", "--p2p.seed_mode",
                           "--instrumentation.prometheus=false"},
                          out, err);
  const std::string port = test::wait_for_match(err, R"(node started .* port=(\d+) )");
  REQUIRE_MESSAGE(!port.empty(), test::read_file(err));
  CHECK(test::read_file(err).find(" mode=seed ") != std::string::npos);
  auto probe = run_process(
      {kBinary, "--home", (dir.path() / "prober").string(), "probe", "--network", "testnet",
       fmt::format("{}@127.0.0.1:{}",
                   test::trim(run_process({kBinary, "--home", home.string(), "show-node-id"}).out),
                   port)});
  CHECK_MESSAGE(probe.exit_code == 0, probe.err);
  // A seed names seedscope in its moniker (README "What seedscope costs the nodes it crawls").
  CHECK(probe.out.find("\"moniker\": \"from-env (seedscope crawler)\"") != std::string::npos);
  node.signal(SIGTERM);
  CHECK(node.wait(Millis(15000)) == 0);
}

} // namespace
} // namespace seedscope::app
