// config.toml in the home directory: Tendermint's names ([p2p] laddr, seeds, timeouts as Go
// duration strings, a top-level moniker and node_key_file), so operators recognise them.
// Every setting can also come from the environment (SEEDSCOPE_P2P_LADDR) and from a flag
// (--p2p.laddr); the effective value is the last of defaults < file < environment < flags,
// and each value's origin is kept (`seedscope config show`).
// Loaded once at start-up; errors are exceptions (ConfigError) listing every problem, one
// line each: "<file>:<line>: <key>: <problem>" (the prefix once), "<file>: <problem>" for the
// file itself, "SEEDSCOPE_<NAME>: <problem>" and "--<name>: <problem>" for the others.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/result.hpp"

namespace seedscope::app {

class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The [p2p] section; defaults are Tendermint v0.34's.
struct P2PConfig {
  std::string laddr = "tcp://0.0.0.0:26656";
  std::string external_address;       // advertised instead of laddr when set
  std::string seeds;                  // comma-separated ID@host:port
  std::string persistent_peers;       // comma-separated ID@host:port
  std::string unconditional_peer_ids; // comma-separated IDs
  std::string private_peer_ids;       // comma-separated IDs
  bool addr_book_strict = true;
  std::int64_t max_num_inbound_peers = 40;
  std::int64_t max_num_outbound_peers = 10;
  Millis persistent_peers_max_dial_period{0};
  Millis flush_throttle_timeout{100};
  std::int64_t max_packet_msg_payload_size = 1024;
  std::int64_t send_rate = 5120000;
  std::int64_t recv_rate = 5120000;
  bool pex = true;
  bool seed_mode = false;
  bool allow_duplicate_ip = false;
  // Simulations only (seedscope's own key): dial and learn loopback addresses only.
  bool loopback_only = false;
  Millis handshake_timeout{20000};
  Millis dial_timeout{3000};
  // Not Tendermint settings: inbound connections still in the handshake (unauthenticated),
  // at most this many at once, of them from one IP and from one /16 (IPv6 /32); the oldest
  // makes room for a newcomer (PendingPool). Also used by the crawler.
  std::int64_t handshake_pool_size = 256;
  std::int64_t handshake_pool_per_ip = 8;
  std::int64_t handshake_pool_per_subnet = 64;
};

// The [crawler] section: `seedscope crawl`, or `start` with crawl = true.
struct CrawlerConfig {
  bool crawl = false;                         // start runs the crawler instead of a plain node
  std::int64_t max_concurrent_dials = 512;    // lowered to fit the file descriptor limit
  std::int64_t max_inbound = 256;             // seed service: concurrent inbound peers
  std::int64_t max_unconfirmed_networks = 16; // chains known only from inbound peers
  Millis recrawl_interval{std::chrono::minutes(10)};
  Millis retry_base{std::chrono::minutes(1)};
  Millis retry_cap{std::chrono::hours(4)};
  Millis retire_after{std::chrono::hours(24)};
  Millis handshake_timeout{10000};
  Millis pex_timeout{10000};
  Millis contact_retention{std::chrono::hours(24 * 30)};
  Millis status_interval{10000}; // log line period when stdout is not a terminal
  // Good citizenship (README "What seedscope costs the nodes it crawls"): node IDs, IPs and
  // CIDRs never contacted, served or exported, one a line, relative to the home ("": none; a
  // missing file is an empty list), re-read when it changes; contacts started per second to
  // one IPv4 /24 (IPv6 /48); where to ask for exclusion, put in our moniker ("": nothing).
  std::string exclude_file = "config/exclude.txt";
  std::int64_t max_contacts_per_subnet_per_second = 2;
  std::string contact;
};

// The [geo] section: MaxMind DB files the operator provides (GeoLite2-Country or -City,
// GeoLite2-ASN, DB-IP's lite files), relative to the home directory unless absolute; ""
// none. Nothing is downloaded. Each file is checked for a change (mtime, size) every
// check_interval and reopened.
struct GeoConfig {
  std::string country_db;
  std::string asn_db;
  Millis check_interval{std::chrono::minutes(1)};
};

struct Config {
  std::string moniker;                                // default: the host name
  std::string node_key_file = "config/node_key.json"; // relative to the home directory
  std::string network;                                // chain ID; empty: adopt the peer's
  std::string db_file = "data/seedscope.db";          // relative to the home directory
  std::string log_level = "info";   // Tendermint's syntax (core/base/log.hpp parse_log_filter)
  std::string log_format = "plain"; // plain, json, logfmt
  P2PConfig p2p;
  CrawlerConfig crawler;
  GeoConfig geo;
  // [instrumentation] as in Tendermint: the Prometheus endpoint ("" or "off": none).
  bool prometheus = true; // Tendermint's switch; false: no metrics whatever the address
  std::string prometheus_listen_addr = "127.0.0.1:26660";
  std::string metrics_namespace = "seedscope";
};

// Where an effective value came from.
enum class ConfigSource { kDefault, kFile, kEnvironment, kFlag };
struct ValueOrigin {
  ConfigSource source = ConfigSource::kDefault;
  std::string where; // "config/config.toml:12", "SEEDSCOPE_P2P_LADDR", "--p2p.laddr"; "" default
  std::uint32_t line = 0; // in the file, for kFile
};

// A setting given as text outside the file: a flag (or an environment variable).
struct ConfigOverride {
  std::string name;  // the setting: "moniker", "p2p.laddr"
  std::string value; // as typed: "tcp://0.0.0.0:26656", "true", "20s", "40"
  std::string where; // "--p2p.laddr"
};

// What the effective configuration is made of, lowest precedence first.
struct ConfigInputs {
  std::optional<std::string> file_text; // none: no file (defaults)
  std::string file_name = "config.toml";
  std::vector<std::string> environment; // "NAME=value" entries, as in environ
  std::vector<ConfigOverride> flags;
};

struct EffectiveConfig {
  Config config;
  std::map<std::string, ValueOrigin> origins; // by setting name; every setting has one
};

// Every setting's name in file order: top-level keys, then "<section>.<key>".
std::vector<std::string> setting_names();
// "bool", "text", "integer" or "duration"; "" for a name that is no setting.
std::string_view setting_type(std::string_view name);
// "p2p.laddr" -> "SEEDSCOPE_P2P_LADDR".
std::string environment_name(std::string_view setting);
// The environment variable naming the home directory (Tendermint's TMHOME).
inline constexpr std::string_view kHomeVariable = "SEEDSCOPE_HOME";

// Defaults < file < environment < flags. Every value given anywhere is checked (a bad value
// in the file is reported even when a flag overrides it); a SEEDSCOPE_ variable that looks
// like a setting but is none is a problem too ("did you mean ...?"). Throws ConfigError with
// every problem, file problems first in line order. Malformed TOML is one problem alone.
EffectiveConfig resolve_config(const ConfigInputs& inputs);
// The effective configuration as TOML that parses back to it, each value followed by a
// comment naming its origin ("# default", "# config/config.toml:12", "# SEEDSCOPE_MONIKER").
std::string render_effective(const EffectiveConfig& effective);

// Defaults, with the moniker set from the host name.
Config default_config();
// Parses TOML text alone (no environment, no flags); `source` names it in error messages. A key or
// section seedscope does not read is an error naming it and the nearest known key ("did you mean
// ...?"); a Tendermint setting seedscope has no use for is named as such. Every number and duration
// has a range.
Config parse_config(std::string_view text, std::string_view source);
// A directory, a dangling link or an unreadable file is an error naming `file`.
std::string read_config_file(const std::filesystem::path& file);
Config load_config(const std::filesystem::path& file);
// The config as commented TOML, as `init` writes it.
std::string render_config(const Config& config);

// Go's time.ParseDuration syntax ("20s", "100ms", "1m30s", "1.5s", "0"), rounded up to whole
// milliseconds; nullopt when malformed or negative.
std::optional<Millis> parse_duration(std::string_view text);
// "20s", "100ms", "1m30s".
std::string format_duration(Millis d);

// Splits a comma-separated list, trimming spaces and dropping empty entries.
std::vector<std::string> split_list(std::string_view list);
// "\"<entry>\": <why>" for a bad seeds / persistent_peers entry, the detail only when it
// adds something to the entry itself.
std::string peer_entry_problem(const std::string& entry, const Error& error);

// `path` if absolute, else relative to `home`.
std::filesystem::path resolve_in_home(const std::filesystem::path& home, const std::string& path);

} // namespace seedscope::app
