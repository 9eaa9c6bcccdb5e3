#include "crawler/app/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/base/log.hpp"
#include "core/base/spelling.hpp"
#include "core/crypto/keys.hpp"
#include "core/types/net_address.hpp"
#include "core/types/node_info.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "crawler/runtime/tcp.hpp"

namespace seedscope::app {

namespace {

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool blank(std::string_view s) { return s.find_first_not_of(' ') == std::string_view::npos; }

// Every key seedscope reads, per section ("" is the top level). A key not listed here is an
// error, so a typo (`seed_mod = true`) cannot leave a setting at its default unnoticed.
// (Word lists, packed by hand.)
// clang-format off
constexpr std::string_view kTopKeys[] = {"moniker", "node_key_file", "network", "db_file",
                                         "log_level", "log_format"};
constexpr std::string_view kP2PKeys[] = {
    "laddr", "external_address", "seeds", "persistent_peers", "unconditional_peer_ids",
    "private_peer_ids", "addr_book_strict", "max_num_inbound_peers", "max_num_outbound_peers",
    "persistent_peers_max_dial_period", "flush_throttle_timeout", "max_packet_msg_payload_size",
    "send_rate", "recv_rate", "pex", "seed_mode", "allow_duplicate_ip", "handshake_timeout",
    "dial_timeout", "loopback_only", "handshake_pool_size", "handshake_pool_per_ip",
    "handshake_pool_per_subnet"};
constexpr std::string_view kCrawlerKeys[] = {
    "crawl", "max_concurrent_dials", "max_inbound", "max_unconfirmed_networks",
    "recrawl_interval", "retry_base", "retry_cap", "retire_after", "handshake_timeout",
    "pex_timeout", "contact_retention", "status_interval"};
// clang-format on
constexpr std::string_view kInstrumentationKeys[] = {"prometheus", "prometheus_listen_addr",
                                                     "namespace"};
constexpr std::string_view kGeoKeys[] = {"country_db", "asn_db", "check_interval"};
struct KnownSection {
  std::string_view name;
  std::span<const std::string_view> keys;
};
constexpr KnownSection kSections[] = {{"p2p", kP2PKeys},
                                      {"crawler", kCrawlerKeys},
                                      {"instrumentation", kInstrumentationKeys},
                                      {"geo", kGeoKeys}};
constexpr std::string_view kSectionNames[] = {"p2p", "crawler", "instrumentation", "geo"};
// Tendermint / CometBFT config.toml settings seedscope has no use for: a copied Tendermint
// config gets told what to remove instead of a bare "unknown key".
// clang-format off
constexpr std::string_view kTendermintOnly[] = {
    "proxy_app", "fast_sync", "db_backend", "db_dir", "genesis_file",
    "priv_validator_key_file", "priv_validator_state_file", "priv_validator_laddr", "abci",
    "filter_peers", "version", "rpc", "mempool", "statesync", "fastsync", "blocksync",
    "consensus", "storage", "tx_index", "upnp", "addr_book_file", "max_open_connections"};
// clang-format on

bool listed(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Why `key` (in `section`, "" for the top level) is not a seedscope setting, and what the
// operator probably meant.
std::string unknown_key_problem(std::string_view section, std::string_view key, bool is_table) {
  if (listed(kTendermintOnly, key)) return "a Tendermint setting seedscope does not use; remove it";
  std::vector<std::string_view> candidates;
  if (section.empty()) {
    candidates.assign(std::begin(kTopKeys), std::end(kTopKeys));
    candidates.insert(candidates.end(), std::begin(kSectionNames), std::end(kSectionNames));
  } else {
    for (const KnownSection& s : kSections)
      if (s.name == section) candidates.assign(s.keys.begin(), s.keys.end());
  }
  const std::string what =
      section.empty() ? (is_table ? "section" : "key") : fmt::format("key in [{}]", section);
  if (nearest_name(key, candidates) || section.empty()) return unknown_name(what, key, candidates);
  // Not a typo here: perhaps it is right, but in another place of the file.
  if (listed(kTopKeys, key))
    return fmt::format("unknown {}; {} is a top-level key: put it before the first [section]", what,
                       key);
  for (const KnownSection& s : kSections)
    if (listed(s.keys, key))
      return fmt::format("unknown {}; {} belongs in [{}]", what, key, s.name);
  return "unknown " + what;
}

// Every key of the file that seedscope does not read, one line each in file order (a copied
// Tendermint config is cleaned in one go). Wrong types (a section that is not a table) are
// left to the Reader, which names them.
void reject_unknown_keys(const toml::table& root, std::string_view source) {
  std::vector<std::pair<std::uint32_t, std::string>> problems;
  auto unknown = [&](std::string_view section, const toml::key& key, const toml::node& value) {
    problems.emplace_back(
        key.source().begin.line,
        one_line(fmt::format("{}:{}: {}: {}", source, key.source().begin.line, key.str(),
                             unknown_key_problem(section, key.str(), value.is_table()))));
  };
  for (const auto& [key, value] : root) {
    if (listed(kTopKeys, key.str())) continue;
    const std::string_view name = key.str(); // clang 14 cannot capture a structured binding
    const auto known = std::find_if(std::begin(kSections), std::end(kSections),
                                    [&](const KnownSection& s) { return s.name == name; });
    if (known == std::end(kSections)) {
      unknown("", key, value);
      continue;
    }
    if (const toml::table* t = value.as_table())
      for (const auto& [k, v] : *t)
        if (!listed(known->keys, k.str())) unknown(known->name, k, v);
  }
  if (problems.empty()) return;
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string all;
  for (const auto& [line, text] : problems) all += (all.empty() ? "" : "\n") + text;
  throw ConfigError(all);
}

// external_address as Go's NewNetAddressString takes it: [tcp://]host:port, host an IP or a
// host name (peers resolve it). nullopt when fine.
std::optional<std::string> external_address_problem(std::string_view address) {
  if (address.empty()) return std::nullopt;
  std::string_view rest = address;
  if (auto p = rest.find("://"); p != std::string_view::npos) {
    if (rest.substr(0, p) != "tcp") return fmt::format("\"{}\": only tcp:// is supported", address);
    rest.remove_prefix(p + 3);
  }
  if (rest.find('@') != std::string_view::npos)
    return fmt::format("\"{}\": give host:port without a node ID (ours is added)", address);
  auto parsed = parse_peer_address(std::string(40, '0') + "@" + std::string(rest));
  if (!parsed ? parsed.error().code == AddressError::kBadPort : parsed->port == 0)
    return fmt::format("\"{}\": the port must be from 1 to 65535", address);
  if (!parsed)
    return fmt::format("\"{}\": {} (expected host:port, e.g. 203.0.113.7:26656)", address,
                       parsed.error().code.message());
  return std::nullopt;
}

// Reads typed values out of the parsed table, naming file, line and key on error.
class Reader {
public:
  Reader(const toml::table& root, std::string_view source) : root_(root), source_(source) {}

  const toml::table* section(std::string_view name) const {
    const toml::node* n = root_.get(name);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) fail(*n, name, "expected a table");
    return n->as_table();
  }

  void string(const toml::table* t, std::string_view key, std::string& out) const {
    if (const toml::node* n = find(t, key)) {
      if (!n->is_string()) fail(*n, key, "expected a string");
      out = *n->value<std::string>();
    }
  }
  void boolean(const toml::table* t, std::string_view key, bool& out) const {
    if (const toml::node* n = find(t, key)) {
      if (!n->is_boolean()) fail(*n, key, "expected true or false");
      out = *n->value<bool>();
    }
  }
  void integer(const toml::table* t, std::string_view key, std::int64_t& out, std::int64_t min,
               std::int64_t max) const {
    if (const toml::node* n = find(t, key)) {
      if (!n->is_integer()) fail(*n, key, "expected an integer");
      std::int64_t v = *n->value<std::int64_t>();
      if (v < min || v > max) fail(*n, key, fmt::format("must be from {} to {}", min, max));
      out = v;
    }
  }
  // A duration from `min` to `max`; a `min` of 1ms reads "greater than zero".
  void duration(const toml::table* t, std::string_view key, Millis& out, Millis min,
                Millis max) const {
    if (const toml::node* n = find(t, key)) {
      if (!n->is_string()) fail(*n, key, "expected a duration string like \"20s\" or \"100ms\"");
      auto d = parse_duration(*n->value<std::string>());
      if (!d)
        fail(*n, key,
             "bad duration \"" + *n->value<std::string>() +
                 "\" (expected e.g. \"20s\", \"3s\", \"100ms\")");
      if (*d < min || *d > max) {
        if (min == Millis(1))
          fail(*n, key,
               fmt::format("must be greater than zero and at most {}", format_duration(max)));
        if (min == Millis(0))
          fail(*n, key, fmt::format("must be at most {}", format_duration(max)));
        fail(*n, key,
             fmt::format("must be from {} to {}", format_duration(min), format_duration(max)));
      }
      out = *d;
    }
  }

  // Fails about a key whose value parsed but is semantically wrong.
  // `t` null: a top-level key.
  [[noreturn]] void invalid(const toml::table* t, std::string_view key,
                            const std::string& why) const {
    const toml::node* n = find(t != nullptr ? t : &root_, key);
    if (n != nullptr) fail(*n, key, why);
    throw ConfigError(one_line(fmt::format("{}: {}: {}", source_, key, why)));
  }

private:
  const toml::node* find(const toml::table* t, std::string_view key) const {
    return t == nullptr ? nullptr : t->get(key);
  }
  [[noreturn]] void fail(const toml::node& n, std::string_view key, const std::string& why) const {
    throw ConfigError(
        one_line(fmt::format("{}:{}: {}: {}", source_, n.source().begin.line, key, why)));
  }

  const toml::table& root_;
  std::string source_;
};

// Ranges: Tendermint's where it has one (counts, rates and sizes are never negative), bounded
// above so that no value can overflow or starve what it feeds.
constexpr Millis kZero{0}, kPositive{1};
constexpr Millis kMinutes10{std::chrono::minutes(10)}, kDay{std::chrono::hours(24)};
constexpr std::int64_t kMaxPeers = 10000;
// The largest PEX message is 64,000 bytes; a larger payload per packet only lets a peer make
// us buffer more before a packet is checked.
constexpr std::int64_t kMaxPayload = 65536;
constexpr std::int64_t kMaxRate = 10'000'000'000; // bytes/s

void read_p2p(const Reader& r, const toml::table* p2p, P2PConfig& c) {
  r.string(p2p, "laddr", c.laddr);
  r.string(p2p, "external_address", c.external_address);
  r.string(p2p, "seeds", c.seeds);
  r.string(p2p, "persistent_peers", c.persistent_peers);
  r.string(p2p, "unconditional_peer_ids", c.unconditional_peer_ids);
  r.string(p2p, "private_peer_ids", c.private_peer_ids);
  r.boolean(p2p, "addr_book_strict", c.addr_book_strict);
  r.integer(p2p, "max_num_inbound_peers", c.max_num_inbound_peers, 0, kMaxPeers);
  r.integer(p2p, "max_num_outbound_peers", c.max_num_outbound_peers, 0, kMaxPeers);
  r.duration(p2p, "persistent_peers_max_dial_period", c.persistent_peers_max_dial_period, kZero,
             kDay);
  r.duration(p2p, "flush_throttle_timeout", c.flush_throttle_timeout, kZero, Millis(10000));
  r.integer(p2p, "max_packet_msg_payload_size", c.max_packet_msg_payload_size, 1, kMaxPayload);
  r.integer(p2p, "send_rate", c.send_rate, 1, kMaxRate);
  r.integer(p2p, "recv_rate", c.recv_rate, 1, kMaxRate);
  r.boolean(p2p, "pex", c.pex);
  r.boolean(p2p, "seed_mode", c.seed_mode);
  r.boolean(p2p, "allow_duplicate_ip", c.allow_duplicate_ip);
  r.boolean(p2p, "loopback_only", c.loopback_only);
  r.duration(p2p, "handshake_timeout", c.handshake_timeout, kPositive, kMinutes10);
  r.duration(p2p, "dial_timeout", c.dial_timeout, kPositive, kMinutes10);
  r.integer(p2p, "handshake_pool_size", c.handshake_pool_size, 1, 100000);
  r.integer(p2p, "handshake_pool_per_ip", c.handshake_pool_per_ip, 1, 100000);
  r.integer(p2p, "handshake_pool_per_subnet", c.handshake_pool_per_subnet, 1, 100000);
}

void read_crawler(const Reader& r, const toml::table* t, CrawlerConfig& c) {
  constexpr Millis kMonth{std::chrono::hours(24 * 30)}, kYear{std::chrono::hours(24 * 365)};
  r.boolean(t, "crawl", c.crawl);
  r.integer(t, "max_concurrent_dials", c.max_concurrent_dials, 1, 100000);
  r.integer(t, "max_inbound", c.max_inbound, 1, 100000);
  r.integer(t, "max_unconfirmed_networks", c.max_unconfirmed_networks, 0, 10000);
  r.duration(t, "recrawl_interval", c.recrawl_interval, kPositive, kMonth);
  r.duration(t, "retry_base", c.retry_base, kPositive, kMonth);
  r.duration(t, "retry_cap", c.retry_cap, kPositive, kMonth);
  r.duration(t, "retire_after", c.retire_after, kPositive, kYear);
  r.duration(t, "handshake_timeout", c.handshake_timeout, kPositive, kMinutes10);
  r.duration(t, "pex_timeout", c.pex_timeout, kPositive, kMinutes10);
  r.duration(t, "contact_retention", c.contact_retention, kPositive, 10 * kYear);
  r.duration(t, "status_interval", c.status_interval, kPositive, kDay);
  if (c.retry_cap < c.retry_base) r.invalid(t, "retry_cap", "must be at least retry_base");
}

void read_geo(const Reader& r, const toml::table* t, GeoConfig& c) {
  r.string(t, "country_db", c.country_db);
  r.string(t, "asn_db", c.asn_db);
  r.duration(t, "check_interval", c.check_interval, Millis(1000), kDay);
}

void check_values(const Reader& r, const toml::table* p2p, const Config& c) {
  if (c.moniker.empty() || blank(c.moniker) || !printable_ascii(c.moniker))
    r.invalid(nullptr, "moniker", "must be non-empty printable ASCII");
  if (!c.network.empty())
    if (Status st = validate_chain_id(c.network); !st)
      r.invalid(nullptr, "network", st.error().detail);
  if (c.db_file.empty() || blank(c.db_file)) r.invalid(nullptr, "db_file", "must be a file path");
  if (auto level = parse_log_filter(c.log_level); !level)
    r.invalid(nullptr, "log_level", level.error().detail);
  if (auto format = parse_log_format(c.log_format); !format)
    r.invalid(nullptr, "log_format", format.error().detail);
  // Only the parser's own error is caught: r.invalid's ConfigError already carries the
  // file:line: key: prefix and must not be wrapped in a second one.
  std::optional<std::string> laddr_problem;
  try {
    (void)runtime::parse_listen_address(c.p2p.laddr);
  } catch (const runtime::ListenError& e) {
    laddr_problem = e.what();
  }
  if (laddr_problem) r.invalid(p2p, "laddr", *laddr_problem);
  if (auto problem = external_address_problem(c.p2p.external_address))
    r.invalid(p2p, "external_address", *problem);
  if (!runtime::listen_address_off(c.prometheus_listen_addr)) {
    try {
      (void)runtime::parse_listen_address(c.prometheus_listen_addr);
    } catch (const runtime::ListenError& e) {
      r.invalid(r.section("instrumentation"), "prometheus_listen_addr", e.reason());
    }
  }
  for (const char* key : {"seeds", "persistent_peers"}) {
    const std::string& list =
        std::string_view(key) == "seeds" ? c.p2p.seeds : c.p2p.persistent_peers;
    for (const std::string& entry : split_list(list)) {
      auto parsed = parse_peer_address(entry);
      if (!parsed) r.invalid(p2p, key, peer_entry_problem(entry, parsed.error()));
    }
  }
  for (const char* key : {"unconditional_peer_ids", "private_peer_ids"}) {
    const std::string& list = std::string_view(key) == "unconditional_peer_ids"
                                  ? c.p2p.unconditional_peer_ids
                                  : c.p2p.private_peer_ids;
    for (const std::string& id : split_list(list))
      if (!crypto::is_valid_node_id(id)) r.invalid(p2p, key, "\"" + id + "\" is not a node ID");
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

Config default_config() {
  Config c;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' && printable_ascii(host))
    c.moniker = host;
  else c.moniker = "seedscope";
  return c;
}

Config parse_config(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ConfigError(fmt::format("{}:{}:{}: malformed TOML: {}", source, e.source().begin.line,
                                  e.source().begin.column, one_line(e.description())));
  }
  reject_unknown_keys(root, source);
  Reader r(root, source);
  Config c = default_config();
  r.string(&root, "moniker", c.moniker);
  r.string(&root, "node_key_file", c.node_key_file);
  r.string(&root, "network", c.network);
  r.string(&root, "db_file", c.db_file);
  r.string(&root, "log_level", c.log_level);
  r.string(&root, "log_format", c.log_format);
  const toml::table* p2p = r.section("p2p");
  read_p2p(r, p2p, c.p2p);
  read_crawler(r, r.section("crawler"), c.crawler);
  read_geo(r, r.section("geo"), c.geo);
  if (const toml::table* inst = r.section("instrumentation")) {
    r.boolean(inst, "prometheus", c.prometheus);
    r.string(inst, "prometheus_listen_addr", c.prometheus_listen_addr);
    r.string(inst, "namespace", c.metrics_namespace);
    const auto& ns = c.metrics_namespace;
    bool ok = !ns.empty() && !(ns[0] >= '0' && ns[0] <= '9');
    for (char ch : ns) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
    if (!ok) r.invalid(inst, "namespace", "must be a Prometheus name: letters, digits, _");
  }
  check_values(r, p2p, c);
  return c;
}

Config load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw ConfigError(fmt::format("{}: is a directory, not a config file", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw ConfigError(fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
  return parse_config(ss.str(), file.string());
}

std::optional<Millis> parse_duration(std::string_view s) {
  if (s == "0") return Millis(0);
  if (s.empty()) return std::nullopt;
  if (s.front() == '-') return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  long double total_ns = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double value = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      value = value * 10 + (s[i++] - '0'), digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return std::nullopt;
    std::size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double ns_per;
    if (unit == "ns") ns_per = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") ns_per = 1e3L;
    else if (unit == "ms") ns_per = 1e6L;
    else if (unit == "s") ns_per = 1e9L;
    else if (unit == "m") ns_per = 60e9L;
    else if (unit == "h") ns_per = 3600e9L;
    else return std::nullopt;
    total_ns += value * ns_per;
    s.remove_prefix(u);
  }
  long double ms = std::ceil(total_ns / 1e6L);
  if (ms > 1e15L) return std::nullopt;
  return Millis(static_cast<std::int64_t>(ms));
}

std::string format_duration(Millis d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  std::int64_t s = ms / 1000;
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

std::string peer_entry_problem(const std::string& entry, const Error& error) {
  std::string out = "\"" + entry + "\": " + error.code.message();
  if (!error.detail.empty() && error.detail != entry) out += " (" + error.detail + ")";
  return out;
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string_view::npos) out.emplace_back(item.substr(b, e - b + 1));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::filesystem::path resolve_in_home(const std::filesystem::path& home, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : home / p;
}

std::string render_config(const Config& c) {
  const P2PConfig& p = c.p2p;
  auto b = [](bool v) { return v ? "true" : "false"; };
  std::string out;
  out += "# seedscope configuration. Names follow Tendermint's config.toml where they exist.\n\n";
  out += "# A custom human readable name for this node (sent in our NodeInfo).\n";
  out += fmt::format("moniker = {}\n\n", quote(c.moniker));
  out += "# Path to the JSON file with the node's private key (Tendermint's node_key.json\n";
  out += "# format), relative to the home directory unless absolute.\n";
  out += fmt::format("node_key_file = {}\n\n", quote(c.node_key_file));
  out += "# Chain ID to speak. Empty: read each peer's NodeInfo first and answer in its\n";
  out += "# network, so one seedscope handshakes with nodes of any chain.\n";
  out += fmt::format("network = {}\n\n", quote(c.network));
  out += "# SQLite database (address book; WAL mode), relative to the home directory unless\n";
  out += "# absolute. `seedscope addrbook import|export` move the book from/to addrbook.json.\n";
  out += fmt::format("db_file = {}\n\n", quote(c.db_file));
  out += "# Log level, Tendermint's syntax: one level for every module (debug, info, error,\n";
  out += "# none), or module:level pairs with * for the others (\"p2p:debug,*:error\").\n";
  out += "# Modules: main, p2p, pex, crawler, storage, metrics, geo, api, netsim.\n";
  out += fmt::format("log_level = {}\n\n", quote(c.log_level));
  out += "# Log line format: \"plain\" (Tendermint's: I[2026-12-01|12:00:00.123] message\n";
  out += "# module=p2p key=value, UTC), \"json\" (one object per line) or \"logfmt\".\n";
  out += "# --log_level and --log_format override these; --log-file sends the lines to a file.\n";
  out += fmt::format("log_format = {}\n\n", quote(c.log_format));
  out += "[p2p]\n\n";
  out += "# Address to listen for incoming connections.\n";
  out += fmt::format("laddr = {}\n\n", quote(p.laddr));
  out += "# Address to advertise to peers (host:port). Empty: laddr is advertised.\n";
  out += fmt::format("external_address = {}\n\n", quote(p.external_address));
  out += "# Comma separated list of seed nodes to connect to (ID@host:port).\n";
  out += fmt::format("seeds = {}\n\n", quote(p.seeds));
  out += "# Comma separated list of nodes to keep persistent connections to.\n";
  out += fmt::format("persistent_peers = {}\n\n", quote(p.persistent_peers));
  out += "# Only accept routable addresses into the address book (set false for local tests).\n";
  out += fmt::format("addr_book_strict = {}\n\n", b(p.addr_book_strict));
  out += "# Maximum number of inbound and outbound peers.\n";
  out += fmt::format("max_num_inbound_peers = {}\n", p.max_num_inbound_peers);
  out += fmt::format("max_num_outbound_peers = {}\n\n", p.max_num_outbound_peers);
  out += "# Comma separated node IDs exempt from the peer limits / never gossiped.\n";
  out += fmt::format("unconditional_peer_ids = {}\n", quote(p.unconditional_peer_ids));
  out += fmt::format("private_peer_ids = {}\n\n", quote(p.private_peer_ids));
  out += "# Maximum pause between redials of persistent peers (0: exponential back-off only).\n";
  out += fmt::format("persistent_peers_max_dial_period = {}\n\n",
                     quote(format_duration(p.persistent_peers_max_dial_period)));
  out += "# MConnection: time to wait before flushing messages, payload size, rates (B/s).\n";
  out += fmt::format("flush_throttle_timeout = {}\n",
                     quote(format_duration(p.flush_throttle_timeout)));
  out += fmt::format("max_packet_msg_payload_size = {}\n", p.max_packet_msg_payload_size);
  out += fmt::format("send_rate = {}\n", p.send_rate);
  out += fmt::format("recv_rate = {}\n\n", p.recv_rate);
  out += "# Peer exchange reactor, seed mode, several connections from one IP.\n";
  out += fmt::format("pex = {}\n", b(p.pex));
  out += fmt::format("seed_mode = {}\n", b(p.seed_mode));
  out += fmt::format("allow_duplicate_ip = {}\n\n", b(p.allow_duplicate_ip));
  out += "# Simulations (netsim) only: dial and learn nothing but loopback (127.0.0.0/8, ::1),\n";
  out += "# which then counts as routable. Not a Tendermint setting.\n";
  out += fmt::format("loopback_only = {}\n\n", b(p.loopback_only));
  out += "# Deadlines: TCP connect, then the whole SecretConnection + NodeInfo handshake.\n";
  out += fmt::format("handshake_timeout = {}\n", quote(format_duration(p.handshake_timeout)));
  out += fmt::format("dial_timeout = {}\n\n", quote(format_duration(p.dial_timeout)));
  out += "# Inbound connections still in the handshake: at most this many at once, of them from\n";
  out +=
      "# one IP and from one /16 (IPv6: /32). When full, the oldest is closed to make room, and\n";
  out += "# the handshake deadline shrinks to 2 s as the pool fills. Not Tendermint settings.\n";
  out += fmt::format("handshake_pool_size = {}\n", p.handshake_pool_size);
  out += fmt::format("handshake_pool_per_ip = {}\n", p.handshake_pool_per_ip);
  out += fmt::format("handshake_pool_per_subnet = {}\n", p.handshake_pool_per_subnet);
  const CrawlerConfig& k = c.crawler;
  out += "\n[crawler]\n\n";
  out += "# `seedscope start` runs the crawler (`seedscope crawl`) instead of a plain node. The\n";
  out +=
      "# crawler dials p2p.dial_timeout, seeds from p2p.seeds, listens on p2p.laddr as a seed.\n";
  out += fmt::format("crawl = {}\n\n", b(k.crawl));
  out +=
      "# Contacts in flight at once (lowered to fit the file descriptor limit), inbound peers.\n";
  out += fmt::format("max_concurrent_dials = {}\n", k.max_concurrent_dials);
  out += fmt::format("max_inbound = {}\n\n", k.max_inbound);
  out += "# Chains known only from inbound peers (no outbound contact confirmed them yet): at\n";
  out += "# most this many; inbound peers of further unknown chains are refused.\n";
  out += fmt::format("max_unconfirmed_networks = {}\n\n", k.max_unconfirmed_networks);
  out += "# Reachable nodes are contacted again every recrawl_interval; failures back off from\n";
  out += "# retry_base, doubling up to retry_cap; no success for retire_after: retired.\n";
  out += fmt::format("recrawl_interval = {}\n", quote(format_duration(k.recrawl_interval)));
  out += fmt::format("retry_base = {}\n", quote(format_duration(k.retry_base)));
  out += fmt::format("retry_cap = {}\n", quote(format_duration(k.retry_cap)));
  out += fmt::format("retire_after = {}\n\n", quote(format_duration(k.retire_after)));
  out += "# Handshake deadline for crawl contacts, and the wait for a PEX answer.\n";
  out += fmt::format("handshake_timeout = {}\n", quote(format_duration(k.handshake_timeout)));
  out += fmt::format("pex_timeout = {}\n\n", quote(format_duration(k.pex_timeout)));
  out += "# Raw contacts older than this are pruned from the database.\n";
  out += fmt::format("contact_retention = {}\n\n", quote(format_duration(k.contact_retention)));
  out += "# Progress log line period when stdout is not a terminal.\n";
  out += fmt::format("status_interval = {}\n", quote(format_duration(k.status_interval)));
  out += "\n[instrumentation]\n\n";
  out += "# Prometheus metrics on this address (\"\" or \"off\", or prometheus = false: none),\n";
  out += "# and the prefix of their names. \":26660\" serves every interface.\n";
  out += fmt::format("prometheus = {}\n", b(c.prometheus));
  out += fmt::format("prometheus_listen_addr = {}\n", quote(c.prometheus_listen_addr));
  out += fmt::format("namespace = {}\n", quote(c.metrics_namespace));
  out += "\n[geo]\n\n";
  out += "# Country and ASN of every address, looked up offline in MaxMind DB files you provide\n";
  out += "# (GeoLite2-Country or -City and GeoLite2-ASN, or DB-IP's lite files); relative to\n";
  out += "# the home directory unless absolute. \"\": none. Nothing is downloaded. A changed\n";
  out += "# file (mtime) is reopened within check_interval; replace files by renaming.\n";
  out += fmt::format("country_db = {}\n", quote(c.geo.country_db));
  out += fmt::format("asn_db = {}\n", quote(c.geo.asn_db));
  out += fmt::format("check_interval = {}\n", quote(format_duration(c.geo.check_interval)));
  return out;
}

} // namespace seedscope::app
