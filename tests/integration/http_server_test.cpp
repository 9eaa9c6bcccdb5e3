// runtime::HttpServer on loopback (through HttpServerThread, so blocking clients can talk to it
// from the test thread): methods, bad requests, the head deadline, the connection cap, handler
// failures and late answers, work on the thread pool; bind errors, IPv4 and IPv6 addresses.
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "crawler/runtime/async.hpp"
#include "crawler/runtime/http_server.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "support/http_client.hpp"
#include "support/loop_harness.hpp"

namespace seedscope {
namespace {

using runtime::HttpResponder;
using runtime::HttpServerOptions;
using runtime::HttpServerThread;
using runtime::parse_listen_address;

// Answers "METHOD path query" as text.
void echo(const http::Request& req, HttpResponder respond) {
  respond.send(http::text_response(200, req.method + " " + req.path + " " + req.query));
}

std::unique_ptr<HttpServerThread> serve(runtime::HttpHandler handler,
                                        HttpServerOptions options = {}) {
  return std::make_unique<HttpServerThread>(parse_listen_address("127.0.0.1:0"), std::move(handler),
                                            options);
}

std::string get(std::uint16_t port, const std::string& target) {
  return test::http_request(port, "GET", target);
}

// The size of the calling thread's stack.
std::size_t stack_size() {
  pthread_attr_t attr;
  std::size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
  }
  return size;
}

} // namespace

TEST_CASE("http server: an address in use or not on this host is a ListenError with the system's "
          "reason") {
  auto first = serve(echo);
  const std::string taken = fmt::format("127.0.0.1:{}", first->port());
  CHECK_THROWS_WITH_AS(
      HttpServerThread(parse_listen_address(taken), echo),
      ("cannot listen on " + taken + ": address already in use (EADDRINUSE)").c_str(),
      runtime::ListenError);
  CHECK_THROWS_WITH_AS(HttpServerThread(parse_listen_address("192.0.2.1:1"), echo),
                       "cannot listen on 192.0.2.1:1: address not available (EADDRNOTAVAIL)",
                       runtime::ListenError);
  // The first server is unharmed.
  CHECK(test::http_status(get(first->port(), "/")) == 200);
}

TEST_CASE("http server: every interface and IPv6 loopback") {
  auto any = std::make_unique<HttpServerThread>(parse_listen_address(":0"), echo);
  CHECK(any->local_address() == fmt::format("0.0.0.0:{}", any->port()));
  CHECK(test::http_status(get(any->port(), "/")) == 200);
  auto v6 = std::make_unique<HttpServerThread>(parse_listen_address("tcp://[::1]:0"), echo);
  CHECK(v6->local_address() == fmt::format("[::1]:{}", v6->port()));
  const std::string r = test::http_request(v6->port(), "GET", "/v6", "::1");
  CHECK(test::http_status(r) == 200);
  CHECK(test::http_body(r) == "GET /v6 \n");
}

TEST_CASE("http server: GET and HEAD are served and other methods are 405") {
  auto server = serve(echo);
  const std::string r = get(server->port(), "/a/b?x=1&y=%20");
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(test::http_header(r, "Connection") == "close");
  CHECK(test::http_header(r, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(test::http_body(r) == "GET /a/b x=1&y=%20\n");
  CHECK(test::http_header(r, "Content-Length") == std::to_string(test::http_body(r).size()));

  const std::string head = test::http_request(server->port(), "HEAD", "/a/b?x=1&y=%20");
  CHECK(test::http_status(head) == 200);
  CHECK(test::http_header(head, "Content-Length") ==
        std::to_string(std::string("HEAD /a/b x=1&y=%20\n").size()));
  CHECK(test::http_body(head).empty());

  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    INFO(method);
    const std::string e = test::http_request(server->port(), method, "/");
    CHECK(test::http_status(e) == 405);
    CHECK(test::http_header(e, "Allow") == "GET, HEAD");
  }
  // A POST with a body it will not read: the 405 still arrives whole (no reset).
  auto post = test::tcp_exchange(server->port(),
                                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                                     std::string(100000, 'b'));
  CHECK(post.read_error == 0);
  CHECK(test::http_status(post.response) == 405);
}

TEST_CASE("http server: bad requests get a status line and a close") {
  auto server = serve(echo);
  const auto port = server->port();
  auto status_of = [&](const std::string& request) {
    auto x = test::tcp_exchange(port, request);
    CHECK(x.read_error == 0);
    CHECK_FALSE(x.timed_out);
    return test::http_status(x.response);
  };
  CHECK(status_of("GARBAGE\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\n\r\n") == 400); // no Host
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n") == 400);
  CHECK(status_of("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") == 400);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        400);
  // A head over 8 KiB: 431 before it ends, and the answer is read whole although the server
  // did not read the rest of what was sent.
  const std::string huge =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  CHECK(status_of(huge) == 431);
  const std::string just_fits =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n";
  CHECK(status_of(just_fits) == 200);
  // Binary junk.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xff);
  CHECK(status_of(junk + "\r\n\r\n") == 400);
  // One byte per segment still makes one request.
  auto slow = test::tcp_exchange(port, "GET /bytes?one=1 HTTP/1.1\r\nHost: x\r\n\r\n", 1);
  CHECK(test::http_status(slow.response) == 200);
  CHECK(test::http_body(slow.response) == "GET /bytes one=1\n");
  // A client that hangs up mid-head changes nothing for the next one.
  {
    test::BlockingClient quitter(port);
    REQUIRE(quitter.connected());
    CHECK(quitter.send("GET / HT"));
  }
  CHECK(test::http_status(get(port, "/")) == 200);
}

TEST_CASE("http server: a large answer arrives whole although the client sent more than its head") {
  // Closing a socket with unread input resets the connection, and the kernel then throws away
  // what it has not sent yet; the server reads and discards the rest until the client hangs up.
  const std::string big(8 << 20, 'x');
  auto server = serve([&](const http::Request&, HttpResponder respond) {
    http::Response r;
    r.body = big;
    respond.send(std::move(r));
  });
  auto x = test::tcp_exchange(server->port(),
                              "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + std::string(256 * 1024, 'j'));
  CHECK(x.read_error == 0);
  CHECK(test::http_status(x.response) == 200);
  CHECK(test::http_body(x.response).size() == big.size());
}

TEST_CASE(
    "http server: a head that does not arrive in time is 408 and others are served meanwhile") {
  HttpServerOptions options;
  options.head_timeout = Millis(300);
  auto server = serve(echo, options);
  const auto t0 = std::chrono::steady_clock::now();
  test::BlockingClient slowloris(server->port());
  REQUIRE(slowloris.connected());
  REQUIRE(slowloris.send("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n"));
  // Served while the slow head waits.
  CHECK(test::http_status(get(server->port(), "/fast")) == 200);
  auto late = slowloris.read_all();
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(test::http_status(late.response) == 408);
  CHECK(waited >= std::chrono::milliseconds(250));
  CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("http server: connections over the cap get 503 and the cap frees up as they end") {
  HttpServerOptions options;
  options.max_connections = 4;
  auto server = serve(echo, options);
  std::vector<std::unique_ptr<test::BlockingClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<test::BlockingClient>(server->port()));
    REQUIRE(idle.back()->connected());
    REQUIRE(idle.back()->send("GET / HTTP/1.1\r\n"));
  }
  // The server accepts in order, so the four idle ones hold every slot.
  auto over = test::tcp_exchange(server->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(test::http_status(over.response) == 503);
  CHECK(over.read_error == 0);
  idle.front()->close(); // the server sees EOF and frees the slot
  int status = 0;
  for (int attempt = 0; attempt < 500 && status != 200; ++attempt)
    status = test::http_status(get(server->port(), "/"));
  CHECK(status == 200);
}

TEST_CASE("http server: a handler that throws is 500 and a late answer is 503 then dropped") {
  HttpServerOptions options;
  options.response_timeout = Millis(200);
  std::atomic<int> late_sends{0};
  std::atomic<bool> release{false};
  auto server = serve(
      [&](const http::Request& req, HttpResponder respond) {
        if (req.path == "/throw") throw std::runtime_error("boom");
        if (req.path == "/late") {
          // Answers from the thread pool once the test has seen the deadline pass.
          runtime::queue_work(
              respond.loop(), [&release] { test::wait_until([&] { return release.load(); }); },
              [&late_sends, respond](std::exception_ptr) {
                respond.send(http::text_response(200, "too late"));
                respond.send(http::text_response(200, "twice"));
                ++late_sends;
              });
          return;
        }
        if (req.path == "/never") return; // never answers
        echo(req, respond);
      },
      options);
  const auto port = server->port();
  CHECK(test::http_status(get(port, "/throw")) == 500);
  CHECK(test::http_status(get(port, "/never")) == 503);
  CHECK(test::http_status(get(port, "/late")) == 503);
  CHECK(test::http_status(get(port, "/ok")) == 200);
  release = true;
  CHECK(test::wait_until([&] { return late_sends == 1; }));
  CHECK(test::http_status(get(port, "/ok")) == 200);
}

TEST_CASE(
    "http server: work on the thread pool runs on a large stack and its exceptions come back") {
  auto server = serve([](const http::Request& req, HttpResponder respond) {
    auto size = std::make_shared<std::size_t>(0);
    const bool fail = req.path == "/fail";
    runtime::queue_work(
        respond.loop(),
        [size, fail] {
          *size = stack_size();
          if (fail) throw std::runtime_error("query failed");
        },
        [size, respond](std::exception_ptr error) {
          std::string what = "none";
          try {
            if (error) std::rethrow_exception(error);
          } catch (const std::exception& e) {
            what = e.what();
          }
          respond.send(http::text_response(200, fmt::format("{} {}", *size, what)));
        });
  });
  const std::string ok = test::http_body(get(server->port(), "/"));
  INFO(ok);
  const std::size_t size = std::stoul(ok);
  // The embedded server used before gave its workers ~100 KiB; the pool's have megabytes.
  CHECK(size >= std::size_t(2) << 20);
  CHECK(ok.find(" none") != std::string::npos);
  CHECK(test::http_body(get(server->port(), "/fail")).find(" query failed") != std::string::npos);
}

TEST_CASE("http server: clients that hang up before the answer and a stop with work pending") {
  std::atomic<int> answered{0};
  std::atomic<int> started{0};
  auto server = serve([&](const http::Request&, HttpResponder respond) {
    runtime::queue_work(
        respond.loop(),
        [&started] {
          ++started;
          std::this_thread::sleep_for(std::chrono::milliseconds(100)); // a slow query
        },
        [&answered, respond](std::exception_ptr) {
          respond.send(http::text_response(200, "done"));
          ++answered;
        });
  });
  const auto port = server->port();
  for (int i = 0; i < 8; ++i) {
    test::BlockingClient gone(port);
    REQUIRE(gone.connected());
    REQUIRE(gone.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  } // each closes before its answer
  CHECK(test::http_body(get(port, "/")) == "done\n");
  // Stop with a half-sent head open and work in the pool: bounded, no answer lost in a crash.
  test::BlockingClient half(port);
  REQUIRE(half.send("GET / HTTP/1.1\r\n"));
  const int before = started;
  std::thread pending([port] { (void)test::http_request(port, "GET", "/"); });
  CHECK(test::wait_until([&] { return started > before; })); // that request is in the pool
  const auto t0 = std::chrono::steady_clock::now();
  server.reset();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
  pending.join();
  CHECK(half.read_all().response.empty()); // dropped, not answered
  CHECK(answered >= 9);
}

} // namespace seedscope
