// HTTP/1.1 request heads (RFC 9112), sans-I/O, for seedscope's small read-only servers (the
// metrics endpoint and the API). RequestReader is the incremental unframer: bytes go in as they
// arrive, and it answers need-more, a request head, or an error, enforcing a size limit before
// the head is whole. parse_request_head is the stateless decoder of one complete head. Request
// bodies are never read: a head announcing one says so (has_body) and the server decides.
// Nothing here allocates without bound or throws on input a client controls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace seedscope::http {

enum class HttpError {
  kMalformed = 1,       // 400: not a valid HTTP/1.x request head
  kHeadTooLarge,        // 431: the head (or its number of fields) is over the limit
  kVersionNotSupported, // 505: a request line of another major version (HTTP/2.0, ...)
};
const std::error_category& http_category();
std::error_code make_error_code(HttpError e);
// The status a server answers each error with (400, 431, 505).
int status_of(HttpError e);

struct Header {
  std::string name;  // lower-cased
  std::string value; // without surrounding whitespace
};

struct Request {
  std::string method;    // a token, case-sensitive ("GET")
  std::string target;    // as sent: "/api/v1/peers?network=x" (absolute form reduced to it)
  std::string path;      // the target before '?', still percent-encoded
  std::string query;     // after '?', still percent-encoded; "" without one
  int minor_version = 1; // HTTP/1.0 or HTTP/1.1 (a later 1.x is served as 1.1)
  std::vector<Header> headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false; // a Transfer-Encoding field was sent

  // The first field of this (lower-case) name, or null.
  const std::string* header(std::string_view name) const;
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

// At most this many header fields per request (431 beyond).
inline constexpr std::size_t kMaxHeaderFields = 100;

// Decodes one whole head: the request line and the field lines, each ended by CRLF or a bare
// LF, without the empty line that ends the head. HTTP/1.1 requests need exactly one Host.
Result<Request> parse_request_head(std::string_view head);

class RequestReader {
public:
  static constexpr std::size_t kDefaultMaxHead = 8192;
  // `max_head`: the longest head accepted, request line to the final empty line inclusive.
  explicit RequestReader(std::size_t max_head = kDefaultMaxHead) : max_head_(max_head) {}

  void feed(ByteSpan data);
  void feed(std::string_view data);
  // The next request head once it is whole; nullopt while more input is needed. Errors are
  // sticky. Empty lines before a request line are skipped (RFC 9112 2.2).
  Result<std::optional<Request>> next();
  // Bytes fed and not part of a returned head (a body, or a pipelined request).
  std::size_t buffered() const { return buf_.size() - pos_; }

private:
  std::size_t max_head_;
  std::string buf_;
  std::size_t pos_ = 0;  // start of the unread part
  std::size_t scan_ = 0; // where the search for the end of the head resumes
  std::optional<Error> error_;
};

} // namespace seedscope::http

namespace std {
template <> struct is_error_code_enum<seedscope::http::HttpError> : true_type {};
} // namespace std
