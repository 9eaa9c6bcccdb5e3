#include "core/http/request.hpp"

#include <algorithm>
#include <string>

#include "core/base/error_category.hpp"

namespace seedscope::http {

namespace {

std::string_view describe(HttpError e) {
  switch (e) {
  case HttpError::kMalformed: return "malformed request";
  case HttpError::kHeadTooLarge: return "request head too large";
  case HttpError::kVersionNotSupported: return "HTTP version not supported";
  }
  return "unknown http error";
}

// RFC 9110 5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Field values: visible ASCII, obs-text, space and tab; no other control character.
bool is_field_value(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

Error malformed(std::string detail) { return make_error(HttpError::kMalformed, std::move(detail)); }

// Splits the head into lines ended by LF (CRLF or a bare LF); a CR anywhere else is an error.
Result<std::vector<std::string_view>> split_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return malformed("a bare CR in the head");
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  return lines;
}

// "origin-form" (/path?query), or "absolute-form" (http://host/path?query) reduced to it.
Result<std::string> origin_form(std::string_view target) {
  if (target.empty() ||
      !std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    return malformed("request target: empty or not visible ASCII");
  if (target.find('#') != std::string_view::npos)
    return malformed("request target: a fragment is never sent");
  if (target.front() == '/') return std::string(target);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!iequals_prefix(target, scheme)) continue;
    std::string_view rest = target.substr(scheme.size());
    const auto end = rest.find_first_of("/?");
    if (end == 0) return malformed("request target: no host in the absolute form");
    if (end == std::string_view::npos) return std::string("/");
    return (rest[end] == '?' ? "/" : "") + std::string(rest.substr(end));
  }
  return malformed("request target: expected /path or http://host/path");
}

// "METHOD SP target SP HTTP/1.x" into `req`.
Status parse_request_line(std::string_view line, Request& req) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return malformed("request line: expected METHOD SP TARGET SP HTTP/1.1");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return malformed("request line: the method is not a token");
  const bool digits = version.size() == 8 && version[6] == '.' && version[5] >= '0' &&
                      version[5] <= '9' && version[7] >= '0' && version[7] <= '9';
  if (!digits || version.substr(0, 5) != "HTTP/")
    return malformed("request line: expected HTTP/1.1 or HTTP/1.0 as the version");
  if (version[5] != '1') return make_error(HttpError::kVersionNotSupported, std::string(version));
  auto target = origin_form(line.substr(sp1 + 1, sp2 - sp1 - 1));
  if (!target) return target.error();
  req.method = std::string(method);
  req.minor_version = version[7] == '0' ? 0 : 1;
  req.target = std::move(*target);
  const auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
  return ok_status();
}

// One "name: value" line.
Status parse_field(std::string_view line, Request& req, int& hosts) {
  if (line.front() == ' ' || line.front() == '\t')
    return malformed("obsolete line folding in a header field");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
    return malformed("header field: expected name: value");
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!is_field_value(value)) return malformed("header field: a control character in the value");
  if (req.headers.size() >= kMaxHeaderFields)
    return make_error(HttpError::kHeadTooLarge, "more than 100 header fields");
  Header h{lower(line.substr(0, colon)), std::string(value)};
  if (h.name == "host") ++hosts;
  if (h.name == "transfer-encoding") req.chunked = true;
  if (h.name == "content-length") {
    if (value.empty() || value.size() > 18 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return malformed("content-length: not a number");
    const std::uint64_t n = std::stoull(std::string(value));
    if (req.content_length && *req.content_length != n)
      return malformed("content-length: two different values");
    req.content_length = n;
  }
  req.headers.push_back(std::move(h));
  return ok_status();
}

} // namespace

const std::error_category& http_category() { return enum_category<HttpError>("http", describe); }

std::error_code make_error_code(HttpError e) { return {static_cast<int>(e), http_category()}; }

int status_of(HttpError e) {
  switch (e) {
  case HttpError::kMalformed: return 400;
  case HttpError::kHeadTooLarge: return 431;
  case HttpError::kVersionNotSupported: return 505;
  }
  return 400;
}

const std::string* Request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name == name) return &h.value;
  return nullptr;
}

Result<Request> parse_request_head(std::string_view head) {
  auto lines = split_lines(head);
  if (!lines) return lines.error();
  // A trailing empty line (the end of the head, if the caller left it) ends the fields.
  while (!lines->empty() && lines->back().empty()) lines->pop_back();
  if (lines->empty()) return malformed("empty request head");
  Request req;
  if (auto st = parse_request_line(lines->front(), req); !st) return st.error();
  int hosts = 0;
  for (std::size_t i = 1; i < lines->size(); ++i) {
    if ((*lines)[i].empty()) return malformed("an empty line inside the head");
    if (auto st = parse_field((*lines)[i], req, hosts); !st) return st.error();
  }
  if (req.chunked && req.content_length)
    return malformed("both Transfer-Encoding and Content-Length");
  if (hosts > 1 || (hosts == 0 && req.minor_version >= 1))
    return malformed("an HTTP/1.1 request needs exactly one Host field");
  return req;
}

void RequestReader::feed(ByteSpan data) {
  feed(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

void RequestReader::feed(std::string_view data) {
  if (error_) return; // nothing more will be read; do not grow
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = scan_ = 0;
  } else if (pos_ >= 4096 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    scan_ -= pos_;
    pos_ = 0;
  }
  buf_.append(data);
}

Result<std::optional<Request>> RequestReader::next() {
  if (error_) return *error_;
  // Empty lines before the request line are skipped, but count towards the limit.
  std::size_t start = pos_;
  while (start < buf_.size() && (buf_[start] == '\n' || buf_[start] == '\r')) {
    if (buf_[start] == '\r' && !(start + 1 < buf_.size() && buf_[start + 1] == '\n')) break;
    ++start;
  }
  // The head ends at the first LF followed by LF or CRLF.
  std::size_t from = std::max(scan_, start);
  std::size_t end = std::string::npos;
  while (true) {
    const auto nl = buf_.find('\n', from);
    if (nl == std::string::npos) {
      scan_ = buf_.size();
      break;
    }
    const bool more = nl + 1 < buf_.size();
    if (more && buf_[nl + 1] == '\n') {
      end = nl + 2;
      break;
    }
    if (more && buf_[nl + 1] == '\r' && nl + 2 < buf_.size() && buf_[nl + 2] == '\n') {
      end = nl + 3;
      break;
    }
    if (!more || (buf_[nl + 1] == '\r' && nl + 2 == buf_.size())) {
      scan_ = nl; // look at this LF again when more arrives
      break;
    }
    from = nl + 1;
  }
  const std::size_t size = (end == std::string::npos ? buf_.size() : end) - pos_;
  if (size > max_head_) {
    error_ = make_error(HttpError::kHeadTooLarge, "over " + std::to_string(max_head_) + " bytes");
    return *error_;
  }
  if (end == std::string::npos) return std::optional<Request>{};
  auto req = parse_request_head(std::string_view(buf_).substr(start, end - start));
  pos_ = scan_ = end;
  if (!req) {
    error_ = req.error();
    return *error_;
  }
  return std::optional<Request>(std::move(*req));
}

} // namespace seedscope::http
