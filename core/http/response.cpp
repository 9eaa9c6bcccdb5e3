#include "core/http/response.hpp"

#include <fmt/format.h>

namespace seedscope::http {

std::string_view reason_phrase(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

Response text_response(int status, std::string_view line) {
  Response r;
  r.status = status;
  r.body = std::string(line) + "\n";
  return r;
}

std::string serialize(const Response& r, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                                r.status, reason_phrase(r.status), r.content_type, r.body.size());
  for (const auto& h : r.headers) out += fmt::format("{}: {}\r\n", h.name, h.value);
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

} // namespace seedscope::http
