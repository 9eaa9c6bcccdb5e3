// The sans-I/O HTTP request reader and head decoder: requests whole, split at every point and
// one byte at a time; malformed heads, the size limit, pipelining; response bytes.
#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <vector>

#include "core/http/request.hpp"
#include "core/http/response.hpp"

namespace seedscope::http {
namespace {

const std::string kGet = "GET /api/v1/peers?network=cosmoshub-4&format=json HTTP/1.1\r\n"
                         "Host: 127.0.0.1:26661\r\n"
                         "User-Agent: test\r\n"
                         "Accept:  */*  \r\n"
                         "\r\n";

void check_get(const Request& r) {
  CHECK(r.method == "GET");
  CHECK(r.target == "/api/v1/peers?network=cosmoshub-4&format=json");
  CHECK(r.path == "/api/v1/peers");
  CHECK(r.query == "network=cosmoshub-4&format=json");
  CHECK(r.minor_version == 1);
  REQUIRE(r.headers.size() == 3);
  CHECK(r.headers[0].name == "host");
  CHECK(*r.header("user-agent") == "test");
  CHECK(*r.header("accept") == "*/*"); // surrounding whitespace trimmed
  CHECK(r.header("cookie") == nullptr);
  CHECK_FALSE(r.has_body());
}

// The error a whole head fed at once gives; nullopt when it parses.
std::optional<HttpError> error_of(const std::string& text, std::size_t max_head = 8192) {
  RequestReader reader(max_head);
  reader.feed(std::string_view(text));
  auto r = reader.next();
  if (r.ok()) {
    REQUIRE_MESSAGE(r->has_value(), "need more for: " << text);
    return std::nullopt;
  }
  REQUIRE(r.error().code.category() == http_category());
  return static_cast<HttpError>(r.error().code.value());
}

} // namespace

TEST_CASE("http: a request head fed whole") {
  RequestReader reader;
  reader.feed(std::string_view(kGet));
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  check_get(**r);
  CHECK(reader.buffered() == 0);
  // Nothing more: need more, not an error.
  auto again = reader.next();
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
}

TEST_CASE("http: a request head split at every point") {
  for (std::size_t cut = 1; cut < kGet.size(); ++cut) {
    INFO("cut at " << cut);
    RequestReader reader;
    reader.feed(std::string_view(kGet).substr(0, cut));
    auto first = reader.next();
    REQUIRE(first.ok());
    REQUIRE_FALSE(first->has_value());
    reader.feed(std::string_view(kGet).substr(cut));
    auto second = reader.next();
    REQUIRE(second.ok());
    REQUIRE(second->has_value());
    check_get(**second);
  }
}

TEST_CASE("http: a request head one byte at a time") {
  RequestReader reader;
  std::optional<Request> got;
  for (std::size_t i = 0; i < kGet.size(); ++i) {
    reader.feed(std::string_view(kGet).substr(i, 1));
    auto r = reader.next();
    REQUIRE(r.ok());
    if (i + 1 < kGet.size()) REQUIRE_FALSE(r->has_value());
    else got = **r;
  }
  REQUIRE(got.has_value());
  check_get(*got);
}

TEST_CASE("http: bare LF line ends and empty lines before the request line") {
  RequestReader reader;
  reader.feed(std::string_view("\r\n\nGET / HTTP/1.0\nX-A: 1\n\n"));
  auto r = reader.next();
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->path == "/");
  CHECK((*r)->query.empty());
  CHECK((*r)->minor_version == 0); // HTTP/1.0 needs no Host
  CHECK(*(*r)->header("x-a") == "1");
}

TEST_CASE("http: pipelined heads come out one after the other") {
  RequestReader reader;
  reader.feed(std::string_view(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\nGET"));
  auto a = reader.next();
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK((*a)->path == "/a");
  auto b = reader.next();
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->method == "HEAD");
  CHECK((*b)->query == "q=1");
  CHECK(reader.buffered() == 3);
  auto c = reader.next();
  REQUIRE(c.ok());
  CHECK_FALSE(c->has_value());
}

TEST_CASE("http: the absolute form is reduced to path and query") {
  auto r = parse_request_head(
      "GET http://example.com:8080/metrics?x=1 HTTP/1.1\r\nHost: example.com\r\n");
  REQUIRE(r.ok());
  CHECK(r->path == "/metrics");
  CHECK(r->query == "x=1");
  auto bare = parse_request_head("GET HTTP://example.com HTTP/1.1\r\nHost: example.com\r\n");
  REQUIRE(bare.ok());
  CHECK(bare->target == "/");
  auto q = parse_request_head("GET http://example.com?y HTTP/1.1\r\nHost: example.com\r\n");
  REQUIRE(q.ok());
  CHECK(q->path == "/");
  CHECK(q->query == "y");
}

TEST_CASE("http: bodies are announced, not read") {
  auto cl = parse_request_head("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n");
  REQUIRE(cl.ok());
  CHECK(cl->content_length == 12u);
  CHECK(cl->has_body());
  auto zero = parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n");
  REQUIRE(zero.ok());
  CHECK_FALSE(zero->has_body());
  auto same =
      parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n");
  REQUIRE(same.ok());
  auto te = parse_request_head("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n");
  REQUIRE(te.ok());
  CHECK(te->chunked);
  CHECK(te->has_body());
}

TEST_CASE("http: malformed heads are 400") {
  const std::vector<std::string> bad = {
      "GET\r\nHost: x\r\n\r\n",             // no target, no version
      "GET /\r\nHost: x\r\n\r\n",           // no version (HTTP/0.9)
      "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", // two spaces
      "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", // trailing space
      "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",  // method not a token
      "GET / HTTP/1.x\r\nHost: x\r\n\r\n",  // version not digits
      "GET / http/1.1\r\nHost: x\r\n\r\n",  // version case
      "GET / HTTP/11\r\nHost: x\r\n\r\n",
      "GET foo HTTP/1.1\r\nHost: x\r\n\r\n",          // not origin or absolute form
      "GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n",      // fragment
      "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",        // control character in the target
      "GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",    // raw UTF-8 in the target
      "GET http:/// HTTP/1.1\r\nHost: x\r\n\r\n",     // absolute form without a host
      "GET / HTTP/1.1\r\n\r\n",                       // HTTP/1.1 without Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", // two Hosts
      "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",            // space before the colon
      "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obsolete line folding
      "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n", // DEL in a value
      "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",  // bare CR
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const auto& text : bad) {
    INFO(text);
    auto e = error_of(text);
    REQUIRE(e.has_value());
    CHECK(*e == HttpError::kMalformed);
    CHECK(status_of(*e) == 400);
  }
  // Only empty lines: they are skipped, the request line is still to come.
  RequestReader reader;
  reader.feed(std::string_view("\r\n\r\n"));
  auto r = reader.next();
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
}

TEST_CASE("http: another major version is 505") {
  auto e = error_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n");
  REQUIRE(e.has_value());
  CHECK(*e == HttpError::kVersionNotSupported);
  CHECK(status_of(*e) == 505);
  auto later_minor = parse_request_head("GET / HTTP/1.7\r\nHost: x\r\n");
  REQUIRE(later_minor.ok());
  CHECK(later_minor->minor_version == 1);
}

TEST_CASE("http: a head over the limit is 431 before it ends") {
  // No end of head in sight: the limit applies to what is buffered.
  RequestReader reader(1024);
  reader.feed(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nX-Long: "));
  auto partial = reader.next();
  REQUIRE(partial.ok());
  CHECK_FALSE(partial->has_value());
  std::optional<Error> error;
  for (int i = 0; i < 100 && !error; ++i) {
    reader.feed(std::string_view(std::string(100, 'a')));
    auto r = reader.next();
    if (!r.ok()) error = r.error();
    else CHECK_FALSE(r->has_value());
  }
  REQUIRE(error.has_value());
  CHECK(error->code == make_error_code(HttpError::kHeadTooLarge));
  // Errors are sticky; more input changes nothing.
  reader.feed(std::string_view("\r\n\r\n"));
  CHECK_FALSE(reader.next().ok());

  // A whole head one byte over the limit, and one exactly at it.
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(error_of(head, head.size()) == std::nullopt);
  CHECK(error_of(head, head.size() - 1) == HttpError::kHeadTooLarge);
  CHECK(status_of(HttpError::kHeadTooLarge) == 431);
  // More than 100 fields.
  std::string many = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
  CHECK(error_of(many + "\r\n") == HttpError::kHeadTooLarge);
}

TEST_CASE("http: response bytes") {
  Response r;
  r.status = 200;
  r.content_type = "application/json; charset=utf-8";
  r.body = "[1]\n";
  r.headers.push_back({"Cache-Control", "no-store"});
  CHECK(serialize(r, false) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Content-Length: 4\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n[1]\n");
  // HEAD: the same fields, no body.
  CHECK(serialize(r, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Content-Length: 4\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
  auto e = text_response(431, "too large");
  CHECK(serialize(e, false).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(e.body == "too large\n");
  CHECK(reason_phrase(299) == "Unknown");
}

} // namespace seedscope::http
