// Read queries over the observatory that more than one view shows: `seedscope stats`, the
// metrics, the HTTP API and the crawl summary take their numbers from here, so they agree.
// The definitions themselves are the database's network_counts view (storage/SCHEMA.md).
// Throw StorageError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
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
  WallTime first_seen{};
  WallTime last_seen{};
};

// Every network, most nodes first (then by name).
std::vector<NetworkCounts> network_counts(Database& db);

} // namespace seedscope::storage
