// HTTP/1.1 responses as bytes (sans-I/O): the status line, Content-Type, Content-Length,
// Connection: close and any extra fields, then the body (left out for HEAD).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.hpp"

namespace seedscope::http {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<Header> headers; // extra fields, as given (e.g. Allow, Cache-Control)
};

// "OK", "Not Found", ...; "Unknown" for a code without a phrase here.
std::string_view reason_phrase(int status);
// A plain-text response with one line of text (servers' own errors: 400, 405, 408, ...).
Response text_response(int status, std::string_view line);
// The bytes on the wire. `head_only` (a HEAD request): the fields describe the body that a
// GET would get, but the body itself is not sent.
std::string serialize(const Response& response, bool head_only);

} // namespace seedscope::http
