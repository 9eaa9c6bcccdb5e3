// Peer lists from the observatory for operators: the nodes of one network, filtered
// (reliability, recency, reachability, address family, one per /16 group, a limit) and
// written as a config.toml `persistent_peers` / `seeds` string, JSON, CSV, or a Tendermint
// addrbook.json a Go node can load. Used by `seedscope export` and the HTTP API.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/clock.hpp"
#include "core/p2p/exclude_list.hpp"
#include "core/types/net_address.hpp"
#include "storage/database.hpp"
#include "storage/queries.hpp"

namespace seedscope::storage {

enum class ExportFormat { kPersistentPeers, kSeeds, kJson, kCsv, kAddrbook };
std::optional<ExportFormat> export_format_from_string(std::string_view s);
std::string_view to_string(ExportFormat f);

enum class AddressFamily { kAny, kIPv4, kIPv6 };

struct ExportFilter {
  std::string network;                             // required
  double min_score = 0;                            // reliability score, 0..1
  std::optional<std::chrono::seconds> seen_within; // last success at most this long ago
  bool reachable_only = false;                     // address state 'reachable'
  std::size_t limit = 0;                           // 0: all
  bool one_per_group = false;                      // at most one node per /16 (IPv6: /32)
  // At most this many nodes per ASN and per country (0: no cap); nodes whose ASN or country
  // is unknown are not capped by it.
  std::size_t max_per_asn = 0;
  std::size_t max_per_country = 0;
  AddressFamily family = AddressFamily::kAny;
  // Nodes never exported (by ID or by the address's IP); not owned, null: none.
  const ExcludeList* exclude = nullptr;
};

struct ExportedPeer {
  NetAddress addr; // one per node ID: its best address
  std::string network;
  std::string state;
  std::string version;
  std::string moniker;
  std::string rpc_address;
  double score = 0;
  WallTime last_success{};
  WallTime last_seen{};
  std::int64_t advertisers = 0;
  std::string country; // where the address is (table ip_geo); empty / 0 unknown
  std::uint32_t asn = 0;
  std::string as_org;
};

// How many of a network's nodes each filter removed, in the order they apply. A node is
// removed by the first filter that none of its addresses passes. Candidates are only nodes
// verified at some contact (handshake completed, protocol kept) whose last contact did not
// misbehave; the others are counted under "never_verified" and "misbehaving".
struct FilterReport {
  std::size_t nodes = 0;    // distinct node IDs with addresses in the network (contacted or not)
  std::size_t returned = 0; // nodes in the answer
  std::vector<std::pair<std::string, std::size_t>> removed; // filter name -> nodes removed
  // "0 of the 329 node IDs with addresses in simhub-1 left: misbehaving removed 3,
  // never_verified removed 254, ..."
  std::string summary(const std::string& network) const;
};

// One address per node (its best), best first: score, then most recent success. Throws
// StorageError. `report`, when given, says what each filter removed.
std::vector<ExportedPeer> query_peers(Database& db, const ExportFilter& filter, WallTime now,
                                      FilterReport* report = nullptr);

// True when the database knows `network` (its nodes or addresses).
bool has_network(Database& db, const std::string& network);

// Every node of `network` whose NodeInfo reached the crawler (the `nodes` of network_counts),
// with its latest NodeInfo and its best address (verified at the last contact first, then
// the latest success): what /api/v1/nodes serves. Sorted by ID. Throws StorageError.
struct NodeRecord {
  std::string id;
  std::string moniker;
  std::string version;
  std::int64_t p2p_version = 0, block_version = 0, app_version = 0;
  std::string listen_addr, rpc_address, tx_index;
  WallTime first_seen{}, last_seen{};
  std::optional<NetAddress> address; // none when none of its addresses is known
  std::string state;                 // that address's state ("" without one)
  double score = 0;
  WallTime last_success{};
};
// Nodes on `exclude` (by ID, or by the IP of any of their addresses) are left out.
std::vector<NodeRecord> query_nodes(Database& db, const std::string& network,
                                    const ExcludeList* exclude = nullptr);
std::string format_nodes_json(const std::vector<NodeRecord>& nodes, const std::string& network);

// The list in `format`. `persistent_peers` and `seeds` are the same comma-separated
// ID@ip:port string (for either config.toml key); addrbook.json puts reachable nodes in old
// buckets and the rest in new ones, each as its own source.
std::string format_peers(const std::vector<ExportedPeer>& peers, ExportFormat format);

// Where a network's reachable nodes are, as JSON (/api/v1/geo, `stats --json`): for each of
// country, asn and as_org the total, unknown, distinct, to_third, to_half and the top values
// with their counts; `located_addresses` is the database's count of located IP addresses (0:
// no geo database has been used).
std::string format_geo_json(const NetworkGeo& geo, std::int64_t located_addresses);

} // namespace seedscope::storage
