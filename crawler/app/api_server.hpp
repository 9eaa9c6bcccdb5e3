// The read-only HTTP API: the peer lists of `seedscope export` as JSON and text, for tools
// and bootstrapping scripts. Every request reads the observatory database through a
// read-only connection; nothing is ever written.
//   GET /api/v1/networks                        networks with node counts
//   GET /api/v1/nodes?network=ID                every node of that network as JSON
//   GET /api/v1/geo?network=ID                  its reachable nodes by country, ASN and AS
//                                               organisation, with concentration coefficients
//   GET /api/v1/peers?network=ID&format=F[&filters]
//                                               persistent_peers | seeds | json | csv | addrbook
// Filters: min_score (0..1), seen_within (a duration, e.g. 24h), reachable_only (true|false),
// limit (count), one_per_group (true|false), max_per_asn and max_per_country (counts),
// family (ipv4|ipv6). A bad parameter is a 400
// with {"error": ...}; an unknown network or path a 404; a method other than GET/HEAD a 405.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/log.hpp"
#include "storage/exports.hpp"

namespace seedscope::runtime {
class HttpServerThread;
}

namespace seedscope::app {

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra response headers. Peer lists carry X-Seedscope-Filter: how many of the network's
  // nodes each filter removed (an empty list says why it is empty).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// A request's endpoint and parameters, checked: everything handle_api_request decides before
// it reads the database.
struct ApiQuery {
  enum class Endpoint { kNetworks, kNodes, kPeers, kGeo };
  Endpoint endpoint = Endpoint::kNetworks;
  std::string network; // kNodes, kPeers (also filter.network) and kGeo
  storage::ExportFormat format = storage::ExportFormat::kPersistentPeers; // kPeers
  storage::ExportFilter filter;                                           // kPeers
};

// Decodes `path` and the raw (percent-encoded) `query` of a GET: the ApiQuery, or the answer to
// a bad one (400 for a bad parameter, 404 for an unknown path). Touches no database, never
// throws on anything a client sends.
std::variant<ApiQuery, ApiResponse> parse_api_request(const std::string& path,
                                                      const std::string& query);

// The API without HTTP (what the server runs for each request). `query` is the raw query
// string (percent-encoded).
// Nodes on `exclude` (not owned; null: none) are in no answer (peers and nodes).
ApiResponse handle_api_request(const std::filesystem::path& db_file, const std::string& method,
                               const std::string& path, const std::string& query,
                               const ExcludeList* exclude = nullptr);

// handle_api_request over HTTP (runtime::HttpServerThread): the server's loop runs on a thread
// of its own and hands each request's database work to libuv's thread pool (large stacks), so
// a slow query never holds up the other clients.
class ApiServer {
public:
  // Serves on `listen_addr` ("127.0.0.1:26661", ":26661", "tcp://...", "[::1]:26661"); throws
  // std::runtime_error "api: cannot listen on ADDR: REASON" when it cannot. `exclude_file`
  // (empty: none) is read now (ConfigError for a bad one) and checked for a change at most
  // every 10 s, at a request; a bad file later keeps the list in use and is logged.
  // `log` (any thread; module api) gets those lines.
  ApiServer(std::filesystem::path db_file, const std::string& listen_addr,
            std::filesystem::path exclude_file = {}, Logger log = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  int port() const;
  // The bound address: "127.0.0.1:26661", "0.0.0.0:26661", "[::1]:26661".
  std::string local_address() const;

  struct Exclusions;

private:
  std::shared_ptr<Exclusions> exclusions_;
  std::unique_ptr<runtime::HttpServerThread> server_;
};

} // namespace seedscope::app
