#include "crawler/app/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <span>
#include <sstream>
#include <variant>

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

// Tendermint / CometBFT config.toml settings seedscope has no use for: a copied Tendermint
// config gets told what to remove instead of a bare "unknown key".
// clang-format off
constexpr std::string_view kTendermintOnly[] = {
    "proxy_app", "fast_sync", "db_backend", "db_dir", "genesis_file",
    "priv_validator_key_file", "priv_validator_state_file", "priv_validator_laddr", "abci",
    "filter_peers", "version", "rpc", "mempool", "statesync", "fastsync", "blocksync",
    "consensus", "storage", "tx_index", "upnp", "addr_book_file", "max_open_connections"};
// clang-format on

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

// ---- Checks of string values beyond their type: nullopt when fine, else why. ----

std::optional<std::string> moniker_problem(const std::string& v) {
  if (v.empty() || blank(v) || !printable_ascii(v)) return "must be non-empty printable ASCII";
  return std::nullopt;
}
std::optional<std::string> network_problem(const std::string& v) {
  if (v.empty()) return std::nullopt;
  if (Status st = validate_chain_id(v); !st) return st.error().detail;
  return std::nullopt;
}
std::optional<std::string> path_problem(const std::string& v) {
  if (v.empty() || blank(v)) return "must be a file path";
  return std::nullopt;
}
std::optional<std::string> laddr_problem(const std::string& v) {
  try {
    (void)runtime::parse_listen_address(v);
  } catch (const runtime::ListenError& e) {
    return std::string(e.what());
  }
  return std::nullopt;
}
std::optional<std::string> external_problem(const std::string& v) {
  return external_address_problem(v);
}
std::optional<std::string> metrics_addr_problem(const std::string& v) {
  if (runtime::listen_address_off(v)) return std::nullopt;
  try {
    (void)runtime::parse_listen_address(v);
  } catch (const runtime::ListenError& e) {
    return e.reason();
  }
  return std::nullopt;
}
std::optional<std::string> peer_list_problem(const std::string& v) {
  for (const std::string& entry : split_list(v)) {
    auto parsed = parse_peer_address(entry);
    if (!parsed) return peer_entry_problem(entry, parsed.error());
  }
  return std::nullopt;
}
std::optional<std::string> id_list_problem(const std::string& v) {
  for (const std::string& id : split_list(v))
    if (!crypto::is_valid_node_id(id)) return "\"" + id + "\" is not a node ID";
  return std::nullopt;
}
// Our moniker carries it to every node we contact (NodeInfo: 10,240 bytes in all).
constexpr std::size_t kMaxContactLength = 200;
std::optional<std::string> contact_problem(const std::string& c) {
  if (!c.empty() && (blank(c) || !printable_ascii(c) || c.size() > kMaxContactLength))
    return fmt::format("must be printable ASCII (a URL or an e-mail address), at most {} "
                       "characters",
                       kMaxContactLength);
  return std::nullopt;
}
std::optional<std::string> log_level_problem(const std::string& v) {
  if (auto level = parse_log_filter(v); !level) return level.error().detail;
  return std::nullopt;
}
std::optional<std::string> log_format_problem(const std::string& v) {
  if (auto format = parse_log_format(v); !format) return format.error().detail;
  return std::nullopt;
}
std::optional<std::string> namespace_problem(const std::string& ns) {
  bool ok = !ns.empty() && !(ns[0] >= '0' && ns[0] <= '9');
  for (char ch : ns) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
  if (!ok) return "must be a Prometheus name: letters, digits, _";
  return std::nullopt;
}

// ---- The settings: every key seedscope reads, in file order. ----
// A key not listed here is an error, so a typo (`seed_mod = true`) cannot leave a setting at
// its default unnoticed. Ranges: Tendermint's where it has one (counts, rates and sizes are
// never negative), bounded above so that no value can overflow or starve what it feeds.

using StringRef = std::string& (*)(Config&);
using BoolRef = bool& (*)(Config&);
using IntRef = std::int64_t& (*)(Config&);
using DurationRef = Millis& (*)(Config&);
using StringCheck = std::optional<std::string> (*)(const std::string&);

struct Setting {
  std::string_view section; // "" for the top level
  std::string_view key;
  std::variant<StringRef, BoolRef, IntRef, DurationRef> field;
  std::int64_t lo = 0, hi = 0; // integers: the range; durations: in milliseconds
  StringCheck check = nullptr; // strings only

  std::string name() const {
    return section.empty() ? std::string(key) : fmt::format("{}.{}", section, key);
  }
};

Setting text(std::string_view section, std::string_view key, StringRef f,
             StringCheck check = nullptr) {
  return {section, key, f, 0, 0, check};
}
Setting flag(std::string_view section, std::string_view key, BoolRef f) {
  return {section, key, f};
}
Setting number(std::string_view section, std::string_view key, IntRef f, std::int64_t lo,
               std::int64_t hi) {
  return {section, key, f, lo, hi};
}
Setting duration(std::string_view section, std::string_view key, DurationRef f, Millis lo,
                 Millis hi) {
  return {section, key, f, lo.count(), hi.count()};
}

constexpr Millis kZero{0}, kPositive{1};
constexpr Millis kMinutes10{std::chrono::minutes(10)}, kDay{std::chrono::hours(24)};
constexpr Millis kMonth{std::chrono::hours(24 * 30)}, kYear{std::chrono::hours(24 * 365)};
constexpr std::int64_t kMaxPeers = 10000;
// The largest PEX message is 64,000 bytes; a larger payload per packet only lets a peer make
// us buffer more before a packet is checked.
constexpr std::int64_t kMaxPayload = 65536;
constexpr std::int64_t kMaxRate = 10'000'000'000; // bytes/s

// clang-format off
const std::vector<Setting>& settings() {
  using C = Config&;
  static const std::vector<Setting> all = {
    text("", "moniker", [](C c) -> std::string& { return c.moniker; }, moniker_problem),
    text("", "node_key_file", [](C c) -> std::string& { return c.node_key_file; }, path_problem),
    text("", "network", [](C c) -> std::string& { return c.network; }, network_problem),
    text("", "db_file", [](C c) -> std::string& { return c.db_file; }, path_problem),
    text("", "log_level", [](C c) -> std::string& { return c.log_level; }, log_level_problem),
    text("", "log_format", [](C c) -> std::string& { return c.log_format; }, log_format_problem),

    text("p2p", "laddr", [](C c) -> std::string& { return c.p2p.laddr; }, laddr_problem),
    text("p2p", "external_address", [](C c) -> std::string& { return c.p2p.external_address; },
         external_problem),
    text("p2p", "seeds", [](C c) -> std::string& { return c.p2p.seeds; }, peer_list_problem),
    text("p2p", "persistent_peers", [](C c) -> std::string& { return c.p2p.persistent_peers; },
         peer_list_problem),
    text("p2p", "unconditional_peer_ids",
         [](C c) -> std::string& { return c.p2p.unconditional_peer_ids; }, id_list_problem),
    text("p2p", "private_peer_ids", [](C c) -> std::string& { return c.p2p.private_peer_ids; },
         id_list_problem),
    flag("p2p", "addr_book_strict", [](C c) -> bool& { return c.p2p.addr_book_strict; }),
    number("p2p", "max_num_inbound_peers",
           [](C c) -> std::int64_t& { return c.p2p.max_num_inbound_peers; }, 0, kMaxPeers),
    number("p2p", "max_num_outbound_peers",
           [](C c) -> std::int64_t& { return c.p2p.max_num_outbound_peers; }, 0, kMaxPeers),
    duration("p2p", "persistent_peers_max_dial_period",
             [](C c) -> Millis& { return c.p2p.persistent_peers_max_dial_period; }, kZero, kDay),
    duration("p2p", "flush_throttle_timeout",
             [](C c) -> Millis& { return c.p2p.flush_throttle_timeout; }, kZero, Millis(10000)),
    number("p2p", "max_packet_msg_payload_size",
           [](C c) -> std::int64_t& { return c.p2p.max_packet_msg_payload_size; }, 1, kMaxPayload),
    number("p2p", "send_rate", [](C c) -> std::int64_t& { return c.p2p.send_rate; }, 1, kMaxRate),
    number("p2p", "recv_rate", [](C c) -> std::int64_t& { return c.p2p.recv_rate; }, 1, kMaxRate),
    flag("p2p", "pex", [](C c) -> bool& { return c.p2p.pex; }),
    flag("p2p", "seed_mode", [](C c) -> bool& { return c.p2p.seed_mode; }),
    flag("p2p", "allow_duplicate_ip", [](C c) -> bool& { return c.p2p.allow_duplicate_ip; }),
    flag("p2p", "loopback_only", [](C c) -> bool& { return c.p2p.loopback_only; }),
    duration("p2p", "handshake_timeout", [](C c) -> Millis& { return c.p2p.handshake_timeout; },
             kPositive, kMinutes10),
    duration("p2p", "dial_timeout", [](C c) -> Millis& { return c.p2p.dial_timeout; },
             kPositive, kMinutes10),
    number("p2p", "handshake_pool_size",
           [](C c) -> std::int64_t& { return c.p2p.handshake_pool_size; }, 1, 100000),
    number("p2p", "handshake_pool_per_ip",
           [](C c) -> std::int64_t& { return c.p2p.handshake_pool_per_ip; }, 1, 100000),
    number("p2p", "handshake_pool_per_subnet",
           [](C c) -> std::int64_t& { return c.p2p.handshake_pool_per_subnet; }, 1, 100000),

    flag("crawler", "crawl", [](C c) -> bool& { return c.crawler.crawl; }),
    number("crawler", "max_concurrent_dials",
           [](C c) -> std::int64_t& { return c.crawler.max_concurrent_dials; }, 1, 100000),
    number("crawler", "max_inbound", [](C c) -> std::int64_t& { return c.crawler.max_inbound; },
           1, 100000),
    number("crawler", "max_unconfirmed_networks",
           [](C c) -> std::int64_t& { return c.crawler.max_unconfirmed_networks; }, 0, 10000),
    duration("crawler", "recrawl_interval",
             [](C c) -> Millis& { return c.crawler.recrawl_interval; }, kPositive, kMonth),
    duration("crawler", "retry_base", [](C c) -> Millis& { return c.crawler.retry_base; },
             kPositive, kMonth),
    duration("crawler", "retry_cap", [](C c) -> Millis& { return c.crawler.retry_cap; },
             kPositive, kMonth),
    duration("crawler", "retire_after", [](C c) -> Millis& { return c.crawler.retire_after; },
             kPositive, kYear),
    duration("crawler", "handshake_timeout",
             [](C c) -> Millis& { return c.crawler.handshake_timeout; }, kPositive, kMinutes10),
    duration("crawler", "pex_timeout", [](C c) -> Millis& { return c.crawler.pex_timeout; },
             kPositive, kMinutes10),
    duration("crawler", "contact_retention",
             [](C c) -> Millis& { return c.crawler.contact_retention; }, kPositive, 10 * kYear),
    duration("crawler", "status_interval",
             [](C c) -> Millis& { return c.crawler.status_interval; }, kPositive, kDay),
    text("crawler", "exclude_file", [](C c) -> std::string& { return c.crawler.exclude_file; }),
    number("crawler", "max_contacts_per_subnet_per_second",
           [](C c) -> std::int64_t& { return c.crawler.max_contacts_per_subnet_per_second; }, 1,
           10000),
    text("crawler", "contact", [](C c) -> std::string& { return c.crawler.contact; },
         contact_problem),

    flag("instrumentation", "prometheus", [](C c) -> bool& { return c.prometheus; }),
    text("instrumentation", "prometheus_listen_addr",
         [](C c) -> std::string& { return c.prometheus_listen_addr; }, metrics_addr_problem),
    text("instrumentation", "namespace", [](C c) -> std::string& { return c.metrics_namespace; },
         namespace_problem),

    text("geo", "country_db", [](C c) -> std::string& { return c.geo.country_db; }),
    text("geo", "asn_db", [](C c) -> std::string& { return c.geo.asn_db; }),
    duration("geo", "check_interval", [](C c) -> Millis& { return c.geo.check_interval; },
             Millis(1000), kDay),
  };
  return all;
}
// clang-format on

std::vector<std::string_view> section_names() {
  std::vector<std::string_view> out;
  for (const Setting& s : settings())
    if (!s.section.empty() && std::find(out.begin(), out.end(), s.section) == out.end())
      out.push_back(s.section);
  return out;
}
std::vector<std::string_view> keys_of(std::string_view section) {
  std::vector<std::string_view> out;
  for (const Setting& s : settings())
    if (s.section == section) out.push_back(s.key);
  return out;
}
const Setting* find_setting(std::string_view section, std::string_view key) {
  for (const Setting& s : settings())
    if (s.section == section && s.key == key) return &s;
  return nullptr;
}
const Setting* find_setting(std::string_view name) {
  for (const Setting& s : settings())
    if (s.name() == name) return &s;
  return nullptr;
}

bool listed(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Why `key` (in `section`, "" for the top level) is not a seedscope setting, and what the
// operator probably meant.
std::string unknown_key_problem(std::string_view section, std::string_view key, bool is_table) {
  if (listed(kTendermintOnly, key)) return "a Tendermint setting seedscope does not use; remove it";
  std::vector<std::string_view> candidates = keys_of(section);
  if (section.empty())
    for (std::string_view name : section_names()) candidates.push_back(name);
  const std::string what =
      section.empty() ? (is_table ? "section" : "key") : fmt::format("key in [{}]", section);
  if (nearest_name(key, candidates) || section.empty()) return unknown_name(what, key, candidates);
  // Not a typo here: perhaps it is right, but in another place of the file.
  if (find_setting("", key) != nullptr)
    return fmt::format("unknown {}; {} is a top-level key: put it before the first [section]", what,
                       key);
  for (std::string_view other : section_names())
    if (find_setting(other, key) != nullptr)
      return fmt::format("unknown {}; {} belongs in [{}]", what, key, other);
  return "unknown " + what;
}

// The problems found so far: those of the file by line, then the others in the order found.
class Problems {
public:
  void at_line(std::uint32_t line, std::string text) { file_.emplace_back(line, one_line(text)); }
  void other(std::string text) { other_.push_back(one_line(text)); }
  bool empty() const { return file_.empty() && other_.empty(); }
  // Throws ConfigError with every problem, one per line.
  void raise_if_any() {
    if (empty()) return;
    std::stable_sort(file_.begin(), file_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string all;
    for (const auto& [line, text] : file_) all += (all.empty() ? "" : "\n") + text;
    for (const auto& text : other_) all += (all.empty() ? "" : "\n") + text;
    throw ConfigError(all);
  }

private:
  std::vector<std::pair<std::uint32_t, std::string>> file_;
  std::vector<std::string> other_;
};

// Why a value out of `s`'s range is refused: the phrase names the range as the reader
// thinks of it (a lower end of 1 ms reads "greater than zero").
std::string range_problem(const Setting& s) {
  if (std::holds_alternative<IntRef>(s.field))
    return fmt::format("must be from {} to {}", s.lo, s.hi);
  const Millis lo(s.lo), hi(s.hi);
  if (lo == kPositive)
    return fmt::format("must be greater than zero and at most {}", format_duration(hi));
  if (lo == kZero) return fmt::format("must be at most {}", format_duration(hi));
  return fmt::format("must be from {} to {}", format_duration(lo), format_duration(hi));
}

std::string bad_duration(const std::string& text) {
  return "bad duration \"" + text + "\" (expected e.g. \"20s\", \"3s\", \"100ms\")";
}

// Sets `s` in `c` from a TOML value; why not, when it cannot be.
std::optional<std::string> apply_node(const Setting& s, const toml::node& n, Config& c) {
  if (auto* f = std::get_if<StringRef>(&s.field)) {
    if (!n.is_string()) return "expected a string";
    std::string v = *n.value<std::string>();
    if (s.check != nullptr)
      if (auto why = s.check(v)) return why;
    (*f)(c) = std::move(v);
  } else if (auto* b = std::get_if<BoolRef>(&s.field)) {
    if (!n.is_boolean()) return "expected true or false";
    (*b)(c) = *n.value<bool>();
  } else if (auto* i = std::get_if<IntRef>(&s.field)) {
    if (!n.is_integer()) return "expected an integer";
    const std::int64_t v = *n.value<std::int64_t>();
    if (v < s.lo || v > s.hi) return range_problem(s);
    (*i)(c) = v;
  } else {
    if (!n.is_string()) return "expected a duration string like \"20s\" or \"100ms\"";
    const std::string text = *n.value<std::string>();
    auto d = parse_duration(text);
    if (!d) return bad_duration(text);
    if (d->count() < s.lo || d->count() > s.hi) return range_problem(s);
    (*std::get<DurationRef>(s.field))(c) = *d;
  }
  return std::nullopt;
}

// Sets `s` in `c` from text (an environment variable, a flag); why not, when it cannot be.
std::optional<std::string> apply_text(const Setting& s, const std::string& text, Config& c) {
  if (auto* f = std::get_if<StringRef>(&s.field)) {
    if (s.check != nullptr)
      if (auto why = s.check(text)) return why;
    (*f)(c) = text;
  } else if (auto* b = std::get_if<BoolRef>(&s.field)) {
    if (text == "true" || text == "1") (*b)(c) = true;
    else if (text == "false" || text == "0") (*b)(c) = false;
    else return fmt::format("\"{}\": expected true or false", text);
  } else if (auto* i = std::get_if<IntRef>(&s.field)) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec == std::errc::result_out_of_range || ptr != end)
      return fmt::format("\"{}\": expected an integer", text);
    if (v < s.lo || v > s.hi) return range_problem(s);
    (*i)(c) = v;
  } else {
    auto d = parse_duration(text);
    if (!d) return bad_duration(text);
    if (d->count() < s.lo || d->count() > s.hi) return range_problem(s);
    (*std::get<DurationRef>(s.field))(c) = *d;
  }
  return std::nullopt;
}

// `s`'s value in `c` as TOML.
std::string toml_value(const Setting& s, const Config& config) {
  Config& c = const_cast<Config&>(config); // the accessors only read here
  if (auto* f = std::get_if<StringRef>(&s.field)) return quote((*f)(c));
  if (auto* b = std::get_if<BoolRef>(&s.field)) return (*b)(c) ? "true" : "false";
  if (auto* i = std::get_if<IntRef>(&s.field)) return std::to_string((*i)(c));
  return quote(format_duration((*std::get<DurationRef>(s.field))(c)));
}

// Reads the file's values into `out`: unknown keys, wrong types and bad values are problems
// (the setting keeps its earlier value).
void read_file(const toml::table& root, const std::string& file, EffectiveConfig& out,
               Problems& problems) {
  auto problem = [&](const toml::source_region& at, std::string_view key, const std::string& why) {
    problems.at_line(at.begin.line, fmt::format("{}:{}: {}: {}", file, at.begin.line, key, why));
  };
  // Unknown keys first, in file order (a copied Tendermint config is cleaned in one go).
  const std::vector<std::string_view> sections = section_names();
  for (const auto& [key, value] : root) {
    const std::string_view name = key.str();
    if (find_setting("", name) != nullptr) continue;
    if (!listed(sections, name)) {
      problem(key.source(), name, unknown_key_problem("", name, value.is_table()));
      continue;
    }
    if (!value.is_table()) {
      problem(value.source(), name, "expected a table");
      continue;
    }
    for (const auto& [k, v] : *value.as_table())
      if (find_setting(name, k.str()) == nullptr)
        problem(k.source(), k.str(), unknown_key_problem(name, k.str(), v.is_table()));
  }
  for (const Setting& s : settings()) {
    const toml::node* n = nullptr;
    if (s.section.empty()) {
      n = root.get(s.key);
    } else if (const toml::table* t = root[s.section].as_table()) {
      n = t->get(s.key);
    }
    if (n == nullptr) continue;
    if (auto why = apply_node(s, *n, out.config)) {
      problem(n->source(), s.key, *why);
      continue;
    }
    out.origins[s.name()] = {ConfigSource::kFile,
                             fmt::format("{}:{}", file, n->source().begin.line),
                             n->source().begin.line};
  }
}

// The SEEDSCOPE_ variables of `environment` that name settings, applied in order; one that
// looks like a setting but is not (a typo) is a problem.
void read_environment(const std::vector<std::string>& environment, EffectiveConfig& out,
                      Problems& problems) {
  constexpr std::string_view kPrefix = "SEEDSCOPE_";
  std::vector<std::string> names;
  for (const Setting& s : settings()) names.push_back(environment_name(s.name()));
  // Near misses are judged on what follows the prefix, which every name shares.
  std::vector<std::string_view> candidates;
  for (const std::string& n : names)
    candidates.push_back(std::string_view(n).substr(kPrefix.size()));
  for (const std::string& entry : environment) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || entry.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const std::string var = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (var == kHomeVariable) continue;
    const auto at = std::find(names.begin(), names.end(), var);
    if (at == names.end()) {
      // Only a name that is meant as a setting: one of a section, or a near miss (variables
      // of other tools and of the test suite share the prefix).
      const std::string_view rest = std::string_view(var).substr(kPrefix.size());
      const auto near = nearest_name(rest, candidates);
      bool meant = near.has_value();
      for (std::string_view section : section_names())
        meant = meant || var.rfind(environment_name(section) + "_", 0) == 0;
      if (meant)
        problems.other(
            near ? fmt::format("{}: unknown setting; did you mean \"{}{}\"?", var, kPrefix, *near)
                 : fmt::format("{}: unknown setting", var));
      continue;
    }
    const Setting& s = settings()[static_cast<std::size_t>(at - names.begin())];
    if (auto why = apply_text(s, value, out.config)) {
      problems.other(fmt::format("{}: {}", var, *why));
      continue;
    }
    out.origins[s.name()] = {ConfigSource::kEnvironment, var};
  }
}

void read_flags(const std::vector<ConfigOverride>& flags, EffectiveConfig& out,
                Problems& problems) {
  for (const ConfigOverride& f : flags) {
    const Setting* s = find_setting(f.name);
    if (s == nullptr) {
      problems.other(fmt::format("{}: not a setting", f.where));
      continue;
    }
    if (auto why = apply_text(*s, f.value, out.config)) {
      problems.other(fmt::format("{}: {}", f.where, *why));
      continue;
    }
    out.origins[s->name()] = {ConfigSource::kFlag, f.where};
  }
}

// The problem about setting `name`, prefixed with where its value came from.
std::string problem_at(const EffectiveConfig& e, std::string_view name, const std::string& why) {
  const ValueOrigin& o = e.origins.at(std::string(name));
  const std::string_view key = name.substr(name.rfind('.') + 1); // npos + 1 == 0
  if (o.source == ConfigSource::kFile) return fmt::format("{}: {}: {}", o.where, key, why);
  if (o.source == ConfigSource::kDefault) return fmt::format("{}: {}", name, why);
  return fmt::format("{}: {}", o.where, why);
}

// Rules between settings, on the effective values.
void check_together(const EffectiveConfig& e, Problems& problems) {
  const CrawlerConfig& k = e.config.crawler;
  if (k.retry_cap < k.retry_base) {
    const bool cap_default = e.origins.at("crawler.retry_cap").source == ConfigSource::kDefault;
    const std::string text =
        cap_default ? problem_at(e, "crawler.retry_base",
                                 fmt::format("must be at most retry_cap ({})",
                                             format_duration(k.retry_cap)))
                    : problem_at(e, "crawler.retry_cap", "must be at least retry_base");
    const ValueOrigin& o = e.origins.at(cap_default ? "crawler.retry_base" : "crawler.retry_cap");
    if (o.source == ConfigSource::kFile) {
      problems.at_line(o.line, text);
    } else {
      problems.other(text);
    }
  }
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

std::vector<std::string> setting_names() {
  std::vector<std::string> out;
  for (const Setting& s : settings()) out.push_back(s.name());
  return out;
}

std::string_view setting_type(std::string_view name) {
  const Setting* s = find_setting(name);
  if (s == nullptr) return "";
  constexpr std::string_view kTypes[] = {"text", "bool", "integer", "duration"};
  return kTypes[s->field.index()];
}

std::string environment_name(std::string_view setting) {
  std::string out = "SEEDSCOPE_";
  for (char c : setting)
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

EffectiveConfig resolve_config(const ConfigInputs& in) {
  EffectiveConfig out;
  out.config = default_config();
  for (const Setting& s : settings()) out.origins[s.name()] = {};
  Problems problems;
  if (in.file_text) {
    toml::table root;
    try {
      root = toml::parse(*in.file_text, in.file_name);
    } catch (const toml::parse_error& e) {
      throw ConfigError(
          one_line(fmt::format("{}:{}:{}: malformed TOML: {}", in.file_name, e.source().begin.line,
                               e.source().begin.column, e.description())));
    }
    read_file(root, in.file_name, out, problems);
  }
  read_environment(in.environment, out, problems);
  read_flags(in.flags, out, problems);
  check_together(out, problems);
  problems.raise_if_any();
  return out;
}

Config parse_config(std::string_view text, std::string_view source) {
  ConfigInputs in;
  in.file_text = std::string(text);
  in.file_name = std::string(source);
  return resolve_config(in).config;
}

std::string read_config_file(const std::filesystem::path& file) {
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
  return ss.str();
}

Config load_config(const std::filesystem::path& file) {
  return parse_config(read_config_file(file), file.string());
}

std::string render_effective(const EffectiveConfig& e) {
  std::string out;
  auto origin = [&](const Setting& s) {
    const ValueOrigin& o = e.origins.at(s.name());
    return o.source == ConfigSource::kDefault ? std::string("default") : o.where;
  };
  std::string_view section = "";
  for (const Setting& s : settings()) {
    if (s.section != section) {
      section = s.section;
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("{} = {}  # {}\n", s.key, toml_value(s, e.config), origin(s));
  }
  return out;
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
  out += fmt::format("status_interval = {}\n\n", quote(format_duration(k.status_interval)));
  out += "# Node IDs, IPs and CIDRs (one a line, # comments) never contacted, served or\n";
  out += "# exported; re-read within 10 s of a change. Relative to the home; \"\": none.\n";
  out += fmt::format("exclude_file = {}\n", quote(k.exclude_file));
  out += "# Contacts started per second to one IPv4 /24 (IPv6 /48); the rest wait their turn.\n";
  out += fmt::format("max_contacts_per_subnet_per_second = {}\n",
                     k.max_contacts_per_subnet_per_second);
  out += "# Where node operators can ask to be excluded (a URL or an e-mail address), sent in\n";
  out += "# our moniker: \"<moniker> (seedscope crawler; contact: <contact>)\". \"\": not sent.\n";
  out += fmt::format("contact = {}\n", quote(k.contact));
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
