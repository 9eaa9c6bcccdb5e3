// Read queries over the observatory that more than one view shows: `seedscope stats`, the
// metrics, the HTTP API and the crawl summary take their numbers from here, so they agree.
// The definitions themselves are the database's network_counts view (storage/SCHEMA.md).
// Every other read query of stats and the metrics is here too: per-network facts about the
// nodes (versions, protocols, services, groups, churn, scores), the advertised-by graph, the
// crawl's own bookkeeping (addresses by state, recent contacts, the file's size). Every
// function reads only (a read-only connection will do) and throws StorageError.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/base/clock.hpp"
#include "core/geo/geo.hpp"
#include "storage/database.hpp"

namespace seedscope::storage {

struct NetworkCounts {
  std::string network;
  std::int64_t nodes = 0;       // NodeInfo received in this network
  std::int64_t reachable = 0;   // distinct nodes verified at their last contact
  std::int64_t misbehaving = 0; // distinct nodes that broke the protocol at their last contact
  std::int64_t addresses = 0;   // addresses filed under the network
  bool confirmed = false;       // an outbound contact reached one of its nodes
  std::int64_t versions = 0;    // distinct software versions of its nodes
  std::int64_t with_rpc = 0;    // nodes advertising an RPC address
  WallTime last_seen{};
};

// Every network, most nodes first (then by name).
std::vector<NetworkCounts> network_counts(Database& db);

struct VersionCount {
  std::string version;
  std::int64_t nodes = 0;
};
struct NetworkVersions {
  std::string network;
  std::vector<VersionCount> top; // the most common versions, most nodes first, then by name
  std::int64_t other = 0;        // nodes running a version not in `top`
};

// Every network that has nodes, by name: its `top` most common software versions (NodeInfo's
// version) and how many nodes run any other.
std::vector<NetworkVersions> versions_by_network(Database& db, std::size_t top);

struct ProtocolCount {
  std::int64_t p2p = 0;   // NodeInfo's protocol_version.p2p
  std::int64_t block = 0; // and .block
  std::int64_t nodes = 0;
};

// The nodes of `network` by (p2p, block) protocol version, most nodes first (then by version),
// at most `limit` pairs.
std::vector<ProtocolCount> protocol_versions(Database& db, const std::string& network,
                                             std::size_t limit);

struct NodeServices {              // (nodes with an RPC address: NetworkCounts::with_rpc)
  std::int64_t tx_index_on = 0;    // tx_index "on"
  std::int64_t tx_index_off = 0;   // tx_index "off"
  std::int64_t tx_index_other = 0; // anything else (empty, a typo)
};

// What the nodes of `network` say they offer in NodeInfo's `other` field.
NodeServices node_services(Database& db, const std::string& network);

// Distinct /16 (IPv6: /32) groups, as the address book forms them, of the addresses of
// `network` in state `reachable`.
std::int64_t reachable_ip_groups(Database& db, const std::string& network);

struct Churn {
  std::int64_t joined = 0; // nodes first seen within the window
  std::int64_t left = 0;   // nodes reached in the window before it, not since, not reachable now
};

// Churn of `network` over the `window` that ends at `now`. `left` counts distinct node IDs
// with an address not in state `reachable` whose last success lies in [now - 2 window,
// now - window).
Churn churn(Database& db, const std::string& network, WallTime now, std::chrono::seconds window);

// The reliability scores (0..1, storage/SCHEMA.md) of the nodes of `network`, lowest first.
std::vector<double> reliability_scores(Database& db, const std::string& network);

// ---- The advertised-by graph (table `advertised`: node source_id sent an address of node
// target_id in a PexAddrs) ----

// The graph of one network between node IDs. Nodes are numbered 0..ids.size()-1: first the
// network's known nodes (NodeInfo received), by ID, then IDs seen only in its edges (a node
// advertised but never reached, or a source known under another network), in order of
// appearance.
struct AdvertisedGraph {
  std::vector<std::string> ids; // node number -> node ID
  // Distinct (source, target) pairs of node numbers: who advertised whom, at any address.
  // Self-advertisements are left out.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  // Known nodes of the network whose ID no node advertises, in any network (a node that
  // advertises itself counts as advertised).
  std::int64_t unadvertised = 0;
};

AdvertisedGraph advertised_graph(Database& db, const std::string& network);

// Rows of the advertised-by graph over every network: (source node, target address) pairs.
std::int64_t advertised_edges(Database& db);

// ---- Where the nodes are (table ip_geo, filled from the operator's MaxMind DB files) ----

// The reachable nodes of `network` (the `reachable` of network_counts: one per node ID, at
// the address verified most recently) by country, by ASN ("AS24940") and by AS organisation.
struct NetworkGeo {
  std::string network;
  geo::Concentration by_country, by_asn, by_org;
};
NetworkGeo geo_concentration(Database& db, const std::string& network, std::size_t top);

// IP addresses with a location recorded (any field known).
std::int64_t located_addresses(Database& db);

// ---- The crawl's bookkeeping ----

struct StateCount {
  std::string state; // new, reachable, misbehaving, unreachable, retired
  std::int64_t addresses = 0;
};

// Addresses of every network by state, states by name; states with no address are absent.
std::vector<StateCount> addresses_by_state(Database& db);

struct OutcomeCount {
  std::string outcome; // contacts.outcome (storage/SCHEMA.md)
  std::int64_t contacts = 0;
  double avg_handshake_ms = 0; // over the contacts that have a handshake time; 0 when none
};

// Contacts (both directions) of the last `window` of crawling, by outcome, most contacts
// first (then by name). The window ends at the latest contact recorded, not now, so a
// database whose crawl ended long ago still shows how that crawl went.
std::vector<OutcomeCount> recent_contacts(Database& db, std::chrono::seconds window);

// Bytes on disk of the database file and its write-ahead log; 0 for a file that is missing.
// Needs no connection, so it works while the database cannot be opened.
std::uint64_t database_bytes(const std::filesystem::path& file);

} // namespace seedscope::storage
