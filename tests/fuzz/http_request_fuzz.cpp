// Fuzz target: HTTP/1.1 request heads (core/http/request). Byte 0 picks the head limit and a
// chunk size; the rest is the stream from a client. RequestReader fed the stream whole and
// fed it in chunks must return the same requests, the same error and keep the same bytes;
// every request it returns must be well-formed (path and query make up the target, lower-case
// field names, at most 100 fields, no Content-Length with Transfer-Encoding) and written back
// as a head it must parse to the same request. parse_request_head is also fed the stream.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/http/request.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;
using namespace seedscope::http;

namespace {

struct Reading {
  std::vector<Request> requests;
  std::optional<std::error_code> error;
  std::size_t left = 0;
};

bool same(const Request& a, const Request& b) {
  auto fields = [](const Request& r) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& h : r.headers) out.emplace_back(h.name, h.value);
    return out;
  };
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.minor_version == b.minor_version && fields(a) == fields(b) &&
         a.content_length == b.content_length && a.chunked == b.chunked;
}

void check_request(const Request& r) {
  FUZZ_INVARIANT(!r.method.empty());
  FUZZ_INVARIANT(r.minor_version == 0 || r.minor_version == 1);
  FUZZ_INVARIANT(r.headers.size() <= kMaxHeaderFields);
  const std::string rebuilt =
      r.target.find('?') == std::string::npos ? r.path : r.path + "?" + r.query;
  FUZZ_INVARIANT(rebuilt == r.target);
  FUZZ_INVARIANT(!(r.chunked && r.content_length));
  for (const auto& h : r.headers) {
    FUZZ_INVARIANT(!h.name.empty());
    FUZZ_INVARIANT(
        std::none_of(h.name.begin(), h.name.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  }
  // Written back in origin form, it reads the same.
  std::string head =
      r.method + " " + r.target + " HTTP/1." + std::to_string(r.minor_version) + "\r\n";
  for (const auto& h : r.headers) head += h.name + ": " + h.value + "\r\n";
  auto again = parse_request_head(head);
  FUZZ_INVARIANT(again.ok());
  FUZZ_INVARIANT(same(*again, r));
}

void drain(RequestReader& reader, Reading& out) {
  while (!out.error) {
    auto next = reader.next();
    if (!next.ok()) {
      FUZZ_INVARIANT(next.error().code.category() == http_category());
      out.error = next.error().code;
      return;
    }
    if (!next->has_value()) return;
    check_request(**next);
    out.requests.push_back(std::move(**next));
  }
}

Reading read(std::string_view stream, std::size_t max_head, std::size_t chunk) {
  RequestReader reader(max_head);
  Reading out;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    reader.feed(stream.substr(at, chunk));
    drain(reader, out);
  }
  drain(reader, out);
  out.left = out.error ? 0 : reader.buffered();
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > 65536) return 0;
  const std::size_t max_head =
      (data[0] & 0x80) ? RequestReader::kDefaultMaxHead : 16 + std::size_t(data[0] & 0x7f) * 4;
  const std::size_t chunk = 1 + data[0] % 13;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  if (auto r = parse_request_head(stream)) check_request(*r);
  else FUZZ_INVARIANT(r.error().code.category() == http_category());

  const Reading whole = read(stream, max_head, std::max<std::size_t>(stream.size(), 1));
  const Reading pieces = read(stream, max_head, chunk);
  FUZZ_INVARIANT(whole.error == pieces.error);
  FUZZ_INVARIANT(whole.left == pieces.left);
  FUZZ_INVARIANT(whole.requests.size() == pieces.requests.size());
  for (std::size_t i = 0; i < whole.requests.size(); ++i)
    FUZZ_INVARIANT(same(whole.requests[i], pieces.requests[i]));
  return 0;
}
