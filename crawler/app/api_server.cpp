#include "crawler/app/api_server.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crawler/app/config.hpp"
#include "crawler/app/exclude_file.hpp"
#include "crawler/runtime/async.hpp"
#include "crawler/runtime/http_server.hpp"
#include "storage/exports.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

namespace {
constexpr std::size_t kGeoTop = 10; // countries, ASNs and organisations listed by /api/v1/geo
}

namespace {

struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
        throw BadRequest("malformed percent-encoding in the query");
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string key = url_decode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
      if (!out.emplace(key, value).second) throw BadRequest("parameter " + key + " given twice");
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v.empty()) return true;
  if (v == "false" || v == "0") return false;
  throw BadRequest(fmt::format("{}: expected true or false, not \"{}\"", key, v));
}

storage::ExportFilter parse_filter(std::map<std::string, std::string>& q,
                                   const std::vector<std::string>& allowed_extra) {
  storage::ExportFilter f;
  auto take = [&](const char* key) -> std::optional<std::string> {
    auto it = q.find(key);
    if (it == q.end()) return std::nullopt;
    std::string v = it->second;
    q.erase(it);
    return v;
  };
  auto network = take("network");
  if (!network || network->empty()) throw BadRequest("network: a chain ID is required");
  f.network = *network;
  if (auto v = take("min_score")) {
    char* end = nullptr;
    f.min_score = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || !(f.min_score >= 0 && f.min_score <= 1))
      throw BadRequest(fmt::format("min_score: expected a number from 0 to 1, not \"{}\"", *v));
  }
  if (auto v = take("seen_within")) {
    auto d = parse_duration(*v);
    if (!d || d->count() <= 0)
      throw BadRequest(fmt::format("seen_within: expected a duration like 24h, not \"{}\"", *v));
    // Rounded up: a positive duration under a second must not become "seen 0 s ago".
    f.seen_within = std::chrono::ceil<std::chrono::seconds>(*d);
  }
  if (auto v = take("reachable_only")) f.reachable_only = parse_bool("reachable_only", *v);
  if (auto v = take("one_per_group")) f.one_per_group = parse_bool("one_per_group", *v);
  // As `export --limit` and the other counts: 1 and up; without one, no bound.
  auto count = [](const char* key, const std::string& v) {
    const bool digits =
        !v.empty() && v.size() <= 10 && v.find_first_not_of("0123456789") == std::string::npos;
    const unsigned long long n = digits ? std::stoull(v) : 0;
    if (n < 1 || n > 1'000'000'000)
      throw BadRequest(
          fmt::format("{}: \"{}\" is not a whole number from 1 to 1000000000", key, v));
    return static_cast<std::size_t>(n);
  };
  if (auto v = take("limit")) f.limit = count("limit", *v);
  if (auto v = take("max_per_asn")) f.max_per_asn = count("max_per_asn", *v);
  if (auto v = take("max_per_country")) f.max_per_country = count("max_per_country", *v);
  if (auto v = take("family")) {
    if (*v == "ipv4") f.family = storage::AddressFamily::kIPv4;
    else if (*v == "ipv6") f.family = storage::AddressFamily::kIPv6;
    else throw BadRequest(fmt::format("family: expected ipv4 or ipv6, not \"{}\"", *v));
  }
  for (const auto& [k, v] : q) {
    bool ok = false;
    for (const auto& a : allowed_extra) ok = ok || a == k;
    if (!ok) throw BadRequest("unknown parameter " + k);
  }
  return f;
}

ApiResponse json_error(int status, const std::string& message) {
  nlohmann::ordered_json j;
  j["error"] = message;
  // The message may quote a client's bytes (a percent-decoded parameter or path) that are not
  // UTF-8: replace those, as dump() would otherwise throw and turn a 400 into a 500.
  return {status, "application/json",
          j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n"};
}

} // namespace

std::variant<ApiQuery, ApiResponse> parse_api_request(const std::string& path,
                                                      const std::string& query) {
  try {
    auto q = parse_query(query);
    ApiQuery out;
    if (path == "/api/v1/networks") {
      if (!q.empty()) throw BadRequest("unknown parameter " + q.begin()->first);
      out.endpoint = ApiQuery::Endpoint::kNetworks;
      return out;
    }
    if (path == "/api/v1/nodes" || path == "/api/v1/geo") {
      // Every node of the network (the `nodes` of /api/v1/networks), not a peer list; or where
      // its reachable nodes are.
      auto it = q.find("network");
      if (it == q.end() || it->second.empty()) throw BadRequest("network: a chain ID is required");
      out.endpoint = path == "/api/v1/geo" ? ApiQuery::Endpoint::kGeo : ApiQuery::Endpoint::kNodes;
      out.network = it->second;
      q.erase(it);
      if (!q.empty()) throw BadRequest("unknown parameter " + q.begin()->first);
      return out;
    }
    if (path != "/api/v1/peers") return json_error(404, "no such endpoint: " + path);
    auto it = q.find("format");
    const std::string format_name = it == q.end() ? "persistent_peers" : it->second;
    auto format = storage::export_format_from_string(format_name);
    if (!format)
      throw BadRequest(
          fmt::format("format: \"{}\" is not one of persistent_peers, seeds, json, csv, addrbook",
                      format_name));
    out.endpoint = ApiQuery::Endpoint::kPeers;
    out.format = *format;
    out.filter = parse_filter(q, {"format"});
    out.network = out.filter.network;
    return out;
  } catch (const BadRequest& e) {
    return json_error(400, e.what());
  }
}

ApiResponse handle_api_request(const std::filesystem::path& db_file, const std::string& method,
                               const std::string& path, const std::string& query,
                               const ExcludeList* exclude) {
  if (method != "GET" && method != "HEAD") return json_error(405, "only GET is served");
  auto parsed = parse_api_request(path, query);
  if (auto* bad = std::get_if<ApiResponse>(&parsed)) return std::move(*bad);
  const ApiQuery& q = std::get<ApiQuery>(parsed);
  try {
    auto db = storage::Database::open_read_only(db_file);
    if (q.endpoint == ApiQuery::Endpoint::kNetworks) {
      auto arr = nlohmann::ordered_json::array();
      for (const auto& n : storage::network_counts(db)) {
        nlohmann::ordered_json j;
        j["network"] = n.network;
        j["nodes"] = n.nodes;
        j["reachable"] = n.reachable;
        j["misbehaving"] = n.misbehaving;
        j["addresses"] = n.addresses;
        j["confirmed"] = n.confirmed;
        arr.push_back(std::move(j));
      }
      return {200, "application/json", arr.dump(2) + "\n"};
    }
    if (q.endpoint == ApiQuery::Endpoint::kNodes) {
      auto nodes = storage::query_nodes(db, q.network, exclude);
      if (nodes.empty() && !storage::has_network(db, q.network))
        return json_error(404, "no such network: " + q.network);
      return {200, "application/json", storage::format_nodes_json(nodes, q.network)};
    }
    if (q.endpoint == ApiQuery::Endpoint::kGeo) {
      if (!storage::has_network(db, q.network))
        return json_error(404, "no such network: " + q.network);
      return {200, "application/json",
              storage::format_geo_json(storage::geo_concentration(db, q.network, kGeoTop),
                                       storage::located_addresses(db))};
    }
    const auto now =
        std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
    storage::FilterReport report;
    storage::ExportFilter filter = q.filter;
    filter.exclude = exclude;
    auto peers = storage::query_peers(db, filter, now, &report);
    if (peers.empty() && !storage::has_network(db, q.filter.network))
      return json_error(404, "no such network: " + q.filter.network);
    std::string removed = fmt::format("ids={}; returned={}", report.nodes, report.returned);
    for (const auto& [name, n] : report.removed) removed += fmt::format("; {}={}", name, n);
    const char* type = q.format == storage::ExportFormat::kCsv ? "text/csv"
                       : (q.format == storage::ExportFormat::kPersistentPeers ||
                          q.format == storage::ExportFormat::kSeeds)
                           ? "text/plain"
                           : "application/json";
    return {200, type, storage::format_peers(peers, q.format), {{"X-Seedscope-Filter", removed}}};
  } catch (const storage::StorageError& e) {
    return json_error(503, e.what());
  }
}

namespace {

http::Response to_http(const ApiResponse& r) {
  http::Response out;
  out.status = r.status;
  out.content_type = r.content_type + "; charset=utf-8";
  out.body = r.body;
  out.headers.push_back({"Cache-Control", "no-store"});
  for (const auto& [name, value] : r.headers) out.headers.push_back({name, value});
  return out;
}

} // namespace

// The exclude list for requests on the thread pool: one snapshot per version of the file,
// shared by the requests that use it; the file is checked at most every 10 s.
struct ApiServer::Exclusions {
  Exclusions(std::filesystem::path path, Logger log_to)
      : log(std::move(log_to)),
        file(std::move(path)),
        current(std::make_shared<const ExcludeList>(file.list())),
        checked(std::chrono::steady_clock::now()) {}
  std::shared_ptr<const ExcludeList> get() {
    std::lock_guard lock(mutex);
    const auto now = std::chrono::steady_clock::now();
    if (now - checked >= std::chrono::seconds(10)) {
      checked = now;
      const ExcludeFile::Refresh r = file.refresh();
      for (const auto& line : r.lines) {
        if (r.reloaded) log.info(line);
        else log.error(line);
      }
      if (r.reloaded) current = std::make_shared<const ExcludeList>(file.list());
    }
    return current;
  }
  std::mutex mutex;
  Logger log; // module api
  ExcludeFile file;
  std::shared_ptr<const ExcludeList> current;
  std::chrono::steady_clock::time_point checked;
};

namespace {

// Each request: the database work on the thread pool, the answer back on the server's loop.
void serve(const std::filesystem::path& db_file,
           const std::shared_ptr<ApiServer::Exclusions>& exclusions, const http::Request& request,
           runtime::HttpResponder respond) {
  auto result = std::make_shared<ApiResponse>();
  const int rc = runtime::queue_work(
      respond.loop(),
      [db_file, exclusions, request, result] {
        const auto exclude = exclusions->get();
        *result =
            handle_api_request(db_file, request.method, request.path, request.query, exclude.get());
      },
      [result, respond](std::exception_ptr error) {
        respond.send(to_http(error ? json_error(500, "internal error") : *result));
      });
  if (rc != 0) respond.send(to_http(json_error(503, "cannot queue the request")));
}

} // namespace

ApiServer::ApiServer(std::filesystem::path db_file, const std::string& listen_addr,
                     std::filesystem::path exclude_file, Logger log)
    : exclusions_(std::make_shared<Exclusions>(std::move(exclude_file), std::move(log))) {
  try {
    server_ = std::make_unique<runtime::HttpServerThread>(
        runtime::parse_listen_address(listen_addr),
        [db = std::move(db_file), ex = exclusions_](const http::Request& request,
                                                    runtime::HttpResponder respond) {
          serve(db, ex, request, std::move(respond));
        });
  } catch (const runtime::ListenError& e) {
    throw std::runtime_error(fmt::format("api: {}", e.what()));
  }
}

ApiServer::~ApiServer() = default;

int ApiServer::port() const { return server_->port(); }

std::string ApiServer::local_address() const { return server_->local_address(); }

} // namespace seedscope::app
