// Fuzz target: the API's request decoder (crawler/app/api_server: parse_api_request), the
// path and percent-encoded query of a GET. Byte 0 picks the path (the three endpoints, or the
// rest of the input up to the first '?'); the rest is the query. It must never throw; a bad
// request is a 400 or 404 whose body is JSON {"error": "..."}; a good one keeps the documented
// ranges, and written back as a query (every byte percent-encoded) decodes to the same.
#include <cstdint>
#include <string>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crawler/app/api_server.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;
using namespace seedscope::app;

namespace {

std::string encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("%{:02X}", c);
  return out;
}

std::string bool_text(bool b) { return b ? "true" : "false"; }

// The canonical query of a decoded request.
std::string to_query(const ApiQuery& q) {
  if (q.endpoint == ApiQuery::Endpoint::kNetworks) return "";
  std::string out = "network=" + encode(q.network);
  if (q.endpoint == ApiQuery::Endpoint::kNodes || q.endpoint == ApiQuery::Endpoint::kGeo)
    return out;
  const storage::ExportFilter& f = q.filter;
  out += "&format=" + std::string(storage::to_string(q.format));
  out += fmt::format("&min_score={:.17g}", f.min_score);
  if (f.seen_within) out += fmt::format("&seen_within={}s", f.seen_within->count());
  out += "&reachable_only=" + bool_text(f.reachable_only);
  out += "&one_per_group=" + bool_text(f.one_per_group);
  if (f.limit != 0) out += fmt::format("&limit={}", f.limit);
  if (f.max_per_asn != 0) out += fmt::format("&max_per_asn={}", f.max_per_asn);
  if (f.max_per_country != 0) out += fmt::format("&max_per_country={}", f.max_per_country);
  if (f.family == storage::AddressFamily::kIPv4) out += "&family=ipv4";
  if (f.family == storage::AddressFamily::kIPv6) out += "&family=ipv6";
  return out;
}

bool same(const ApiQuery& a, const ApiQuery& b) {
  if (a.endpoint != b.endpoint || a.network != b.network) return false;
  if (a.endpoint != ApiQuery::Endpoint::kPeers) return true;
  const auto &f = a.filter, &g = b.filter;
  return a.format == b.format && f.network == g.network && f.min_score == g.min_score &&
         f.seen_within == g.seen_within && f.reachable_only == g.reachable_only &&
         f.limit == g.limit && f.one_per_group == g.one_per_group && f.family == g.family &&
         f.max_per_asn == g.max_per_asn && f.max_per_country == g.max_per_country;
}

const char* path_of(ApiQuery::Endpoint e) {
  switch (e) {
  case ApiQuery::Endpoint::kNetworks: return "/api/v1/networks";
  case ApiQuery::Endpoint::kNodes: return "/api/v1/nodes";
  case ApiQuery::Endpoint::kPeers: return "/api/v1/peers";
  case ApiQuery::Endpoint::kGeo: return "/api/v1/geo";
  }
  return "";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 8192) return 0;
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string path, query;
  switch (data[0] % 4) {
  case 0: path = "/api/v1/networks"; break;
  case 1: path = "/api/v1/nodes"; break;
  case 2: path = "/api/v1/peers"; break;
  default: {
    const auto q = rest.find('?');
    path = rest.substr(0, q);
    rest = q == std::string::npos ? "" : rest.substr(q + 1);
  }
  }
  query = rest;

  auto parsed = parse_api_request(path, query);
  if (const auto* bad = std::get_if<ApiResponse>(&parsed)) {
    FUZZ_INVARIANT(bad->status == 400 || bad->status == 404);
    const auto body = nlohmann::json::parse(bad->body, nullptr, false);
    FUZZ_INVARIANT(body.is_object() && body.contains("error") && body["error"].is_string());
    return 0;
  }
  const ApiQuery& q = std::get<ApiQuery>(parsed);
  FUZZ_INVARIANT(path == path_of(q.endpoint));
  if (q.endpoint != ApiQuery::Endpoint::kNetworks) FUZZ_INVARIANT(!q.network.empty());
  if (q.endpoint == ApiQuery::Endpoint::kPeers) {
    const storage::ExportFilter& f = q.filter;
    FUZZ_INVARIANT(f.network == q.network);
    FUZZ_INVARIANT(f.min_score >= 0 && f.min_score <= 1);
    FUZZ_INVARIANT(!f.seen_within || f.seen_within->count() > 0);
    FUZZ_INVARIANT(f.limit <= 1'000'000'000);
  }
  auto again = parse_api_request(path, to_query(q));
  const auto* back = std::get_if<ApiQuery>(&again);
  if (back == nullptr) {
    std::fprintf(stderr, "%s?%s: %s\n", path.c_str(), to_query(q).c_str(),
                 std::get<ApiResponse>(again).body.c_str());
  }
  FUZZ_INVARIANT(back != nullptr && same(*back, q));
  return 0;
}
