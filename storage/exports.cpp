#include "storage/exports.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/geo/geo.hpp"
#include "core/pex/addr_book.hpp"
#include "storage/addrbook_json.hpp"

namespace seedscope::storage {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class SeededRng final : public Rng {
public:
  std::uint64_t next_u64() override { return gen_(); }

private:
  std::mt19937_64 gen_{std::random_device{}()};
};

} // namespace

std::optional<ExportFormat> export_format_from_string(std::string_view s) {
  for (auto f : {ExportFormat::kPersistentPeers, ExportFormat::kSeeds, ExportFormat::kJson,
                 ExportFormat::kCsv, ExportFormat::kAddrbook})
    if (to_string(f) == s) return f;
  return std::nullopt;
}

std::string_view to_string(ExportFormat f) {
  switch (f) {
  case ExportFormat::kPersistentPeers: return "persistent_peers";
  case ExportFormat::kSeeds: return "seeds";
  case ExportFormat::kJson: return "json";
  case ExportFormat::kCsv: return "csv";
  case ExportFormat::kAddrbook: return "addrbook";
  }
  return "json";
}

std::string FilterReport::summary(const std::string& network) const {
  std::string out =
      fmt::format("{} of the {} node IDs with addresses in {} left", returned, nodes, network);
  const char* sep = ": ";
  for (const auto& [name, n] : removed) {
    if (n == 0) continue;
    out += fmt::format("{}{} removed {}", sep, name, n);
    sep = ", ";
  }
  return out;
}

namespace {

// The filters on one address, in the order they apply; the index of the first that removes
// it, or kPassed.
enum Stage : int {
  kExcluded,
  kMisbehavingStage,
  kNeverVerified,
  kReachableOnly,
  kMinScore,
  kSeenWithin,
  kFamily,
  kPassed,
};
constexpr const char* kStageNames[] = {"excluded",       "misbehaving", "never_verified",
                                       "reachable_only", "min_score",   "seen_within",
                                       "family"};

int first_failing(const ExportedPeer& p, bool has_success, double success_at, const ExportFilter& f,
                  double cutoff) {
  if (f.exclude != nullptr && f.exclude->excluded(p.addr)) return kExcluded;
  if (p.state == "misbehaving") return kMisbehavingStage;
  if (!has_success) return kNeverVerified;
  if (f.reachable_only && p.state != "reachable") return kReachableOnly;
  if (p.score < f.min_score) return kMinScore;
  if (f.seen_within && success_at < cutoff) return kSeenWithin;
  if (f.family == AddressFamily::kIPv4 && !p.addr.ip.is_v4()) return kFamily;
  if (f.family == AddressFamily::kIPv6 && p.addr.ip.is_v4()) return kFamily;
  return kPassed;
}

} // namespace

std::vector<ExportedPeer> query_peers(Database& db, const ExportFilter& f, WallTime now,
                                      FilterReport* report) {
  auto st =
      db.prepare("SELECT a.id, a.ip, a.port, a.state, a.last_success, a.last_seen, a.advertisers, "
                 "coalesce(n.version, ''), coalesce(n.moniker, ''), coalesce(n.rpc_address, ''), "
                 "coalesce(v.score, 0), coalesce(g.country, ''), coalesce(g.asn, 0), "
                 "coalesce(g.as_org, '') "
                 "FROM addresses a LEFT JOIN nodes n ON n.network = a.network AND n.id = a.id "
                 "LEFT JOIN availability v ON v.network = a.network AND v.id = a.id "
                 "LEFT JOIN ip_geo g ON g.ip = a.ip "
                 "WHERE a.network = ?1");
  st.bind(1, f.network);
  std::map<std::string, ExportedPeer> best; // per node ID, of the addresses that pass
  std::map<std::string, int> reached;       // per node ID: the furthest stage an address got to
  const double cutoff = f.seen_within ? unix_seconds(now) - double(f.seen_within->count()) : -1;
  while (st.step()) {
    ExportedPeer p;
    auto ip = IpAddress::parse(st.column_text(1));
    if (!ip) continue;
    p.addr = NetAddress{st.column_text(0), *ip, static_cast<std::uint16_t>(st.column_int(2))};
    p.network = f.network;
    p.state = st.column_text(3);
    const bool has_success = !st.column_is_null(4);
    if (has_success) p.last_success = wall_from_unix_seconds(st.column_double(4));
    p.last_seen = wall_from_unix_seconds(st.column_double(5));
    p.advertisers = st.column_int(6);
    p.version = st.column_text(7);
    p.moniker = st.column_text(8);
    p.rpc_address = st.column_text(9);
    p.score = st.column_double(10);
    p.country = st.column_text(11);
    p.asn = static_cast<std::uint32_t>(st.column_int(12));
    p.as_org = st.column_text(13);
    const int stage = first_failing(p, has_success, st.column_double(4), f, cutoff);
    int& furthest = reached.try_emplace(p.addr.id, -1).first->second;
    furthest = std::max(furthest, stage);
    if (stage != kPassed) continue;
    auto [it, inserted] = best.emplace(p.addr.id, p);
    if (!inserted) {
      const auto& q = it->second;
      const bool better = (p.state == "reachable") != (q.state == "reachable")
                              ? p.state == "reachable"
                              : p.last_success > q.last_success;
      if (better) it->second = p;
    }
  }
  std::vector<ExportedPeer> out;
  out.reserve(best.size());
  for (auto& [id, p] : best) out.push_back(std::move(p));
  std::stable_sort(out.begin(), out.end(), [](const ExportedPeer& a, const ExportedPeer& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.last_success != b.last_success) return a.last_success > b.last_success;
    return a.addr.id < b.addr.id;
  });
  const std::size_t before_groups = out.size();
  if (f.one_per_group) {
    std::set<std::string> groups;
    std::erase_if(out, [&](const ExportedPeer& p) {
      return !groups.insert(group_key(p.addr, false)).second;
    });
  }
  const std::size_t before_caps = out.size();
  if (f.max_per_asn > 0 || f.max_per_country > 0) {
    std::vector<geo::GeoInfo> where;
    where.reserve(out.size());
    for (const auto& p : out) where.push_back({p.country, p.asn, p.as_org});
    const auto keep = geo::within_caps(where, {f.max_per_asn, f.max_per_country});
    std::size_t i = 0;
    std::erase_if(out, [&](const ExportedPeer&) { return !keep[i++]; });
  }
  const std::size_t before_limit = out.size();
  if (f.limit > 0 && out.size() > f.limit) out.resize(f.limit);
  if (report) {
    *report = FilterReport{};
    report->nodes = reached.size();
    report->returned = out.size();
    for (int s = 0; s < kPassed; ++s) {
      const auto n = static_cast<std::size_t>(std::count_if(
          reached.begin(), reached.end(), [&](const auto& kv) { return kv.second == s; }));
      report->removed.emplace_back(kStageNames[s], n);
    }
    report->removed.emplace_back("one_per_group", before_groups - before_caps);
    report->removed.emplace_back("geo_caps", before_caps - before_limit);
    report->removed.emplace_back("limit", before_limit - out.size());
  }
  return out;
}

bool has_network(Database& db, const std::string& network) {
  auto st = db.prepare("SELECT 1 FROM networks WHERE network = ?1 UNION ALL "
                       "SELECT 1 FROM addresses WHERE network = ?1 LIMIT 1");
  st.bind(1, network);
  return !network.empty() && st.step();
}

std::vector<NodeRecord> query_nodes(Database& db, const std::string& network,
                                    const ExcludeList* exclude) {
  auto st = db.prepare(
      "SELECT n.id, n.moniker, n.version, n.p2p_version, n.block_version, n.app_version, "
      "n.listen_addr, n.rpc_address, n.tx_index, n.first_seen, n.last_seen, "
      "a.ip, a.port, coalesce(a.state, ''), coalesce(v.score, 0), a.last_success "
      "FROM nodes n "
      "LEFT JOIN addresses a ON a.network = n.network AND a.id = n.id "
      "LEFT JOIN availability v ON v.network = n.network AND v.id = n.id "
      "WHERE n.network = ?1 ORDER BY n.id");
  st.bind(1, network);
  std::vector<NodeRecord> out;
  std::set<std::string> dropped; // excluded: by ID or by any of its addresses
  while (st.step()) {
    const std::string id = st.column_text(0);
    std::optional<NetAddress> addr;
    if (!st.column_is_null(11))
      if (auto ip = IpAddress::parse(st.column_text(11)))
        addr = NetAddress{id, *ip, static_cast<std::uint16_t>(st.column_int(12))};
    const std::string state = st.column_text(13);
    const WallTime success =
        st.column_is_null(15) ? WallTime{} : wall_from_unix_seconds(st.column_double(15));
    if (exclude != nullptr && (exclude->excluded_id(id) || (addr && exclude->excluded(*addr))))
      dropped.insert(id);
    if (!out.empty() && out.back().id == id) {
      // Another address of the same node: keep the better one.
      NodeRecord& r = out.back();
      const bool better = (state == "reachable") != (r.state == "reachable")
                              ? state == "reachable"
                              : success > r.last_success;
      if (addr && better) {
        r.address = addr;
        r.state = state;
        r.last_success = success;
      }
      continue;
    }
    NodeRecord r;
    r.id = id;
    r.moniker = st.column_text(1);
    r.version = st.column_text(2);
    r.p2p_version = st.column_int(3);
    r.block_version = st.column_int(4);
    r.app_version = st.column_int(5);
    r.listen_addr = st.column_text(6);
    r.rpc_address = st.column_text(7);
    r.tx_index = st.column_text(8);
    r.first_seen = wall_from_unix_seconds(st.column_double(9));
    r.last_seen = wall_from_unix_seconds(st.column_double(10));
    r.address = addr;
    r.state = addr ? state : "";
    r.score = st.column_double(14);
    r.last_success = success;
    out.push_back(std::move(r));
  }
  std::erase_if(out, [&](const NodeRecord& r) { return dropped.count(r.id) != 0; });
  return out;
}

std::string format_nodes_json(const std::vector<NodeRecord>& nodes, const std::string& network) {
  auto arr = nlohmann::ordered_json::array();
  for (const auto& n : nodes) {
    nlohmann::ordered_json j;
    j["id"] = n.id;
    j["network"] = network;
    j["moniker"] = n.moniker;
    j["version"] = n.version;
    j["protocol_version"] = {
        {"p2p", n.p2p_version}, {"block", n.block_version}, {"app", n.app_version}};
    j["listen_addr"] = n.listen_addr;
    j["rpc_address"] = n.rpc_address;
    j["tx_index"] = n.tx_index;
    j["address"] = n.address ? n.address->to_string() : "";
    j["state"] = n.state;
    j["score"] = std::round(n.score * 1e4) / 1e4;
    j["last_success"] = is_set(n.last_success) ? format_go_time(n.last_success) : "";
    j["first_seen"] = format_go_time(n.first_seen);
    j["last_seen"] = format_go_time(n.last_seen);
    arr.push_back(std::move(j));
  }
  return arr.dump(2) + "\n";
}

std::string format_peers(const std::vector<ExportedPeer>& peers, ExportFormat format) {
  switch (format) {
  case ExportFormat::kPersistentPeers:
  case ExportFormat::kSeeds: {
    std::string out;
    for (const auto& p : peers) {
      if (!out.empty()) out += ',';
      out += p.addr.to_string();
    }
    return out + "\n";
  }
  case ExportFormat::kJson: {
    auto arr = nlohmann::ordered_json::array();
    for (const auto& p : peers) {
      nlohmann::ordered_json j;
      j["id"] = p.addr.id;
      j["address"] = p.addr.to_string();
      j["ip"] = p.addr.ip.to_string();
      j["port"] = p.addr.port;
      j["network"] = p.network;
      j["state"] = p.state;
      j["version"] = p.version;
      j["moniker"] = p.moniker;
      j["rpc_address"] = p.rpc_address;
      j["score"] = std::round(p.score * 1e4) / 1e4;
      j["last_success"] = is_set(p.last_success) ? format_go_time(p.last_success) : "";
      j["last_seen"] = format_go_time(p.last_seen);
      j["advertisers"] = p.advertisers;
      j["country"] = p.country;
      j["asn"] = p.asn;
      j["as_org"] = p.as_org;
      arr.push_back(std::move(j));
    }
    return arr.dump(2) + "\n";
  }
  case ExportFormat::kCsv: {
    std::string out =
        "id,ip,port,network,state,version,moniker,rpc_address,score,last_success,last_seen,"
        "advertisers,country,asn,as_org\n";
    for (const auto& p : peers) {
      out += fmt::format("{},{},{},{},{},{},{},{},{:.4f},{},{},{},{},{},{}\n", p.addr.id,
                         p.addr.ip.to_string(), p.addr.port, csv_field(p.network), p.state,
                         csv_field(p.version), csv_field(p.moniker), csv_field(p.rpc_address),
                         p.score, is_set(p.last_success) ? format_go_time(p.last_success) : "",
                         format_go_time(p.last_seen), p.advertisers, csv_field(p.country), p.asn,
                         csv_field(p.as_org));
    }
    return out;
  }
  case ExportFormat::kAddrbook: {
    SeededRng rng;
    pex::AddrBookConfig cfg;
    cfg.strict = false;
    cfg.loopback_routable = true;
    pex::AddrBook book(cfg, rng);
    for (const auto& p : peers) {
      const WallTime seen = is_set(p.last_success) ? p.last_success : p.last_seen;
      if (!book.add_address(p.addr, p.addr, seen).ok()) continue;
      // Old buckets hold what was verified at its last contact; the rest was verified once.
      if (p.state == "reachable" && is_set(p.last_success))
        book.mark_good(p.addr.id, p.last_success);
    }
    return to_addrbook_json(book.snapshot());
  }
  }
  return {};
}

namespace {

nlohmann::ordered_json concentration_json(const geo::Concentration& c) {
  nlohmann::ordered_json j;
  j["nodes"] = c.total;
  j["unknown"] = c.unknown;
  j["distinct"] = c.distinct;
  j["to_third"] = c.to_third;
  j["to_half"] = c.to_half;
  auto top = nlohmann::ordered_json::array();
  for (const auto& s : c.top) top.push_back({{"key", s.key}, {"nodes", s.nodes}});
  j["top"] = std::move(top);
  j["other"] = c.other;
  return j;
}

} // namespace

std::string format_geo_json(const NetworkGeo& geo, std::int64_t located_addresses) {
  nlohmann::ordered_json j;
  j["network"] = geo.network;
  j["located_addresses"] = located_addresses;
  j["country"] = concentration_json(geo.by_country);
  j["asn"] = concentration_json(geo.by_asn);
  j["as_org"] = concentration_json(geo.by_org);
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace seedscope::storage
