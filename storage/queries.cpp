#include "storage/queries.hpp"

#include <set>
#include <unordered_map>

#include "core/types/net_address.hpp"

namespace seedscope::storage {

std::vector<NetworkCounts> network_counts(Database& db) {
  auto st =
      db.prepare("SELECT c.network, c.nodes, c.reachable, c.misbehaving, c.addresses, c.confirmed, "
                 "c.last_seen, s.versions, s.with_rpc "
                 "FROM network_counts c JOIN network_summary s USING (network) "
                 "ORDER BY c.nodes DESC, c.network");
  std::vector<NetworkCounts> out;
  while (st.step()) {
    NetworkCounts c;
    c.network = st.column_text(0);
    c.nodes = st.column_int(1);
    c.reachable = st.column_int(2);
    c.misbehaving = st.column_int(3);
    c.addresses = st.column_int(4);
    c.confirmed = st.column_int(5) != 0;
    c.last_seen = wall_from_unix_seconds(st.column_double(6));
    c.versions = st.column_int(7);
    c.with_rpc = st.column_int(8);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<NetworkVersions> versions_by_network(Database& db, std::size_t top) {
  auto st = db.prepare("SELECT network, version, count(*) FROM nodes GROUP BY network, version "
                       "ORDER BY network, 3 DESC, version");
  std::vector<NetworkVersions> out;
  while (st.step()) {
    std::string network = st.column_text(0);
    if (out.empty() || out.back().network != network) out.push_back({std::move(network), {}, 0});
    auto& n = out.back();
    const std::int64_t nodes = st.column_int(2);
    if (n.top.size() < top) {
      n.top.push_back({st.column_text(1), nodes});
    } else {
      n.other += nodes;
    }
  }
  return out;
}

std::vector<ProtocolCount> protocol_versions(Database& db, const std::string& network,
                                             std::size_t limit) {
  auto st = db.prepare("SELECT p2p_version, block_version, count(*) FROM nodes WHERE network = ?1 "
                       "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?2");
  st.bind(1, network).bind(2, static_cast<std::int64_t>(limit));
  std::vector<ProtocolCount> out;
  while (st.step()) out.push_back({st.column_int(0), st.column_int(1), st.column_int(2)});
  return out;
}

NodeServices node_services(Database& db, const std::string& network) {
  auto st = db.prepare("SELECT sum(tx_index = 'on'), sum(tx_index = 'off'), "
                       "sum(tx_index NOT IN ('on', 'off')) FROM nodes WHERE network = ?1");
  st.bind(1, network);
  NodeServices s;
  if (st.step()) { // sum() of no rows is NULL, which reads as 0
    s.tx_index_on = st.column_int(0);
    s.tx_index_off = st.column_int(1);
    s.tx_index_other = st.column_int(2);
  }
  return s;
}

std::int64_t reachable_ip_groups(Database& db, const std::string& network) {
  auto st = db.prepare("SELECT ip FROM addresses WHERE network = ?1 AND state = 'reachable'");
  st.bind(1, network);
  std::set<std::string> groups;
  while (st.step())
    if (auto ip = IpAddress::parse(st.column_text(0)))
      groups.insert(group_key(NetAddress{"", *ip, 1}, false));
  return static_cast<std::int64_t>(groups.size());
}

Churn churn(Database& db, const std::string& network, WallTime now, std::chrono::seconds window) {
  const double end = unix_seconds(now);
  const double secs = static_cast<double>(window.count());
  Churn c;
  auto joined = db.prepare("SELECT count(*) FROM nodes WHERE network = ?1 AND first_seen >= ?2");
  joined.bind(1, network).bind_real(2, end - secs);
  if (joined.step()) c.joined = joined.column_int(0);
  auto left = db.prepare("SELECT count(DISTINCT id) FROM addresses WHERE network = ?1 "
                         "AND state <> 'reachable' AND last_success >= ?2 AND last_success < ?3");
  left.bind(1, network).bind_real(2, end - 2 * secs).bind_real(3, end - secs);
  if (left.step()) c.left = left.column_int(0);
  return c;
}

std::vector<double> reliability_scores(Database& db, const std::string& network) {
  auto st = db.prepare("SELECT score FROM availability WHERE network = ?1 ORDER BY score");
  st.bind(1, network);
  std::vector<double> out;
  while (st.step()) out.push_back(st.column_double(0));
  return out;
}

AdvertisedGraph advertised_graph(Database& db, const std::string& network) {
  AdvertisedGraph g;
  std::unordered_map<std::string, std::uint32_t> index;
  auto number = [&](std::string id) {
    auto [it, inserted] = index.emplace(id, static_cast<std::uint32_t>(g.ids.size()));
    if (inserted) g.ids.push_back(std::move(id));
    return it->second;
  };
  auto nodes = db.prepare("SELECT id FROM nodes WHERE network = ?1 ORDER BY id");
  nodes.bind(1, network);
  while (nodes.step()) number(nodes.column_text(0));
  auto edges =
      db.prepare("SELECT DISTINCT source_id, target_id FROM advertised WHERE network = ?1");
  edges.bind(1, network);
  while (edges.step()) {
    const auto a = number(edges.column_text(0));
    const auto b = number(edges.column_text(1));
    if (a != b) g.edges.push_back({a, b});
  }
  // An advertisement of the node in any network counts: its ID is what was advertised.
  auto un = db.prepare("SELECT count(*) FROM nodes n WHERE network = ?1 AND NOT EXISTS "
                       "(SELECT 1 FROM advertised e WHERE e.target_id = n.id)");
  un.bind(1, network);
  if (un.step()) g.unadvertised = un.column_int(0);
  return g;
}

std::int64_t advertised_edges(Database& db) {
  auto st = db.prepare("SELECT count(*) FROM advertised");
  return st.step() ? st.column_int(0) : 0;
}

std::vector<StateCount> addresses_by_state(Database& db) {
  auto st = db.prepare("SELECT state, count(*) FROM addresses GROUP BY state ORDER BY state");
  std::vector<StateCount> out;
  while (st.step()) out.push_back({st.column_text(0), st.column_int(1)});
  return out;
}

std::vector<OutcomeCount> recent_contacts(Database& db, std::chrono::seconds window) {
  auto st = db.prepare("SELECT outcome, count(*), avg(handshake_ms) FROM contacts "
                       "WHERE at >= (SELECT max(at) FROM contacts) - ?1 "
                       "GROUP BY outcome ORDER BY 2 DESC, outcome");
  st.bind_real(1, static_cast<double>(window.count()));
  std::vector<OutcomeCount> out;
  while (st.step()) out.push_back({st.column_text(0), st.column_int(1), st.column_double(2)});
  return out;
}

std::uint64_t database_bytes(const std::filesystem::path& file) {
  std::uint64_t bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file.string() + suffix, ec);
    if (!ec) bytes += size;
  }
  return bytes;
}

NetworkGeo geo_concentration(Database& db, const std::string& network, std::size_t top) {
  auto st = db.prepare("SELECT a.id, coalesce(g.country, ''), coalesce(g.asn, 0), "
                       "coalesce(g.as_org, '') FROM addresses a "
                       "LEFT JOIN ip_geo g ON g.ip = a.ip "
                       "WHERE a.network = ?1 AND a.state = 'reachable' "
                       "ORDER BY a.id, a.last_success DESC");
  st.bind(1, network);
  std::vector<std::string> countries, asns, orgs;
  std::string previous;
  while (st.step()) {
    std::string id = st.column_text(0);
    if (!countries.empty() && id == previous) continue; // another address of the same node
    previous = std::move(id);
    countries.push_back(st.column_text(1));
    asns.push_back(geo::asn_label(static_cast<std::uint32_t>(st.column_int(2))));
    orgs.push_back(st.column_text(3));
  }
  NetworkGeo out;
  out.network = network;
  out.by_country = geo::concentration(countries, top);
  out.by_asn = geo::concentration(asns, top);
  out.by_org = geo::concentration(orgs, top);
  return out;
}

std::int64_t located_addresses(Database& db) {
  auto st = db.prepare("SELECT count(*) FROM ip_geo WHERE country <> '' OR asn <> 0");
  st.step();
  return st.column_int(0);
}

} // namespace seedscope::storage
