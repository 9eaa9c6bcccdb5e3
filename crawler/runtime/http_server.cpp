#include "crawler/runtime/http_server.hpp"

#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "crawler/runtime/async.hpp"
#include "crawler/runtime/tcp.hpp"
#include "crawler/runtime/timer.hpp"

namespace seedscope::runtime {

namespace {

Bytes to_bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

} // namespace

namespace detail {

// The server proper. Held by HttpServer (shared) and by responders (weak), so an answer that
// arrives after the server is gone finds nothing and does nothing.
struct HttpServerState : std::enable_shared_from_this<HttpServerState> {
  struct Connection {
    Connection(Loop& loop, std::size_t max_head, TcpSocket s)
        : socket(std::move(s)),
          deadline(loop),
          reader(max_head) {}
    TcpSocket socket;
    Timer deadline;
    http::RequestReader reader;
    bool head_only = false; // a HEAD request: the answer goes without its body
  };

  HttpServerState(Loop& l, HttpHandler h, HttpServerOptions o)
      : loop(l),
        handler(std::move(h)),
        options(o),
        listener(l) {}
  ~HttpServerState() { close(); }

  void on_incoming(int status);
  void on_data(std::uint64_t id, ByteSpan data);
  void dispatch(std::uint64_t id, Connection& c, const http::Request& req);
  void respond(std::uint64_t id, const http::Response& response);
  void drop(std::uint64_t id);
  void close();
  // Out of the table now, deleted on a later loop turn (we may be inside its callbacks).
  std::unique_ptr<Connection> take(std::uint64_t id);
  void retire(std::unique_ptr<Connection> c);

  Loop& loop;
  HttpHandler handler;
  HttpServerOptions options;
  TcpListener listener;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  std::uint64_t next_id = 1;
};

void HttpServerState::on_incoming(int status) {
  if (status != 0) return; // transient accept errors (EMFILE, ...): libuv retries
  TcpSocket socket(loop);
  if (listener.accept(socket) != 0) return;
  if (connections.size() >= options.max_connections) {
    (void)socket.write(to_bytes(
        http::serialize(http::text_response(503, "too many connections, try again later"), false)));
    socket.close_gracefully(Millis(1000), /*drain_input=*/true);
    return;
  }
  const std::uint64_t id = next_id++;
  auto c = std::make_unique<Connection>(loop, options.max_head_bytes, std::move(socket));
  const int rc = c->socket.start_reading([this, id](ByteSpan data) { on_data(id, data); },
                                         [this, id](int) { drop(id); });
  if (rc != 0) return; // c closes its socket
  c->deadline.start(options.head_timeout, [this, id] {
    respond(id, http::text_response(408, "the request head did not arrive in time"));
  });
  connections.emplace(id, std::move(c));
}

void HttpServerState::on_data(std::uint64_t id, ByteSpan data) {
  auto it = connections.find(id);
  if (it == connections.end()) return;
  Connection& c = *it->second;
  c.reader.feed(data);
  auto next = c.reader.next();
  if (!next) {
    const auto error = static_cast<http::HttpError>(next.error().code.value());
    respond(id, http::text_response(http::status_of(error), next.error().message()));
    return;
  }
  if (!next->has_value()) return; // need more
  c.socket.pause_reading();       // one request per connection; the rest is drained at close
  dispatch(id, c, **next);
}

void HttpServerState::dispatch(std::uint64_t id, Connection& c, const http::Request& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    http::Response r = http::text_response(405, "only GET and HEAD are served");
    r.headers.push_back({"Allow", "GET, HEAD"});
    respond(id, r);
    return;
  }
  if (req.has_body()) {
    respond(id, http::text_response(400, "a GET or HEAD request has no body"));
    return;
  }
  c.head_only = req.method == "HEAD";
  c.deadline.start(options.response_timeout, [this, id] {
    respond(id, http::text_response(503, "the answer took too long"));
  });
  try {
    handler(req, HttpResponder(weak_from_this(), id, loop));
  } catch (...) {
    // A handler must not throw; if it does, the client still gets an answer.
    respond(id, http::text_response(500, "internal error"));
  }
}

void HttpServerState::respond(std::uint64_t id, const http::Response& response) {
  std::unique_ptr<Connection> c = take(id);
  if (!c) return; // answered already, timed out or gone
  c->deadline.stop();
  (void)c->socket.write(to_bytes(http::serialize(response, c->head_only)));
  c->socket.close_gracefully(options.linger, /*drain_input=*/true);
  retire(std::move(c));
}

void HttpServerState::drop(std::uint64_t id) {
  if (std::unique_ptr<Connection> c = take(id)) {
    c->deadline.stop();
    c->socket.close();
    retire(std::move(c));
  }
}

void HttpServerState::close() {
  listener.close();
  while (!connections.empty()) drop(connections.begin()->first);
}

std::unique_ptr<HttpServerState::Connection> HttpServerState::take(std::uint64_t id) {
  auto it = connections.find(id);
  if (it == connections.end()) return nullptr;
  std::unique_ptr<Connection> c = std::move(it->second);
  connections.erase(it);
  return c;
}

void HttpServerState::retire(std::unique_ptr<Connection> c) {
  loop.defer([raw = c.release()] { delete raw; });
}

} // namespace detail

// ---- HttpResponder, HttpServer ---------------------------------------------------------------

void HttpResponder::send(http::Response response) const {
  if (auto server = server_.lock()) server->respond(connection_, response);
}

HttpServer::HttpServer(Loop& loop, HttpHandler handler, HttpServerOptions options)
    : state_(std::make_shared<detail::HttpServerState>(loop, std::move(handler), options)) {}

HttpServer::~HttpServer() { close(); }

int HttpServer::listen(const sockaddr* addr, int backlog) {
  return state_->listener.listen(addr, backlog,
                                 [s = state_.get()](int status) { s->on_incoming(status); });
}

void HttpServer::close() { state_->close(); }

std::uint16_t HttpServer::port() const { return state_->listener.local_port(); }
std::string HttpServer::local_address() const { return state_->listener.local_address(); }

// ---- HttpServerThread ------------------------------------------------------------------------

struct HttpServerThread::Control {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  int rc = 0;
  std::uint16_t port = 0;
  std::string local_address;
  Async* stop = nullptr; // set while the server's loop runs
};

HttpServerThread::HttpServerThread(const ListenAddress& address, HttpHandler handler,
                                   HttpServerOptions options)
    : control_(std::make_shared<Control>()) {
  thread_ = std::thread([c = control_, address, handler = std::move(handler), options] {
    Loop loop;
    HttpServer server(loop, handler, options);
    // Stopping ends lingering connections at once (~Loop closes them) rather than waiting.
    Async stop(loop, [&] {
      server.close();
      stop.close();
      loop.stop();
    });
    const int rc = server.listen(address.sockaddr_ptr());
    {
      std::lock_guard lock(c->mu);
      c->rc = rc;
      c->port = server.port();
      c->local_address = server.local_address();
      c->stop = rc == 0 ? &stop : nullptr;
      c->ready = true;
    }
    c->cv.notify_all();
    if (rc == 0) loop.run();
    std::lock_guard lock(c->mu);
    c->stop = nullptr;
  });
  std::unique_lock lock(control_->mu);
  control_->cv.wait(lock, [&] { return control_->ready; });
  if (control_->rc != 0) {
    const int rc = control_->rc;
    lock.unlock();
    thread_.join();
    throw ListenError(address.text, listen_failure_reason(rc), rc);
  }
  port_ = control_->port;
  local_address_ = control_->local_address;
}

HttpServerThread::~HttpServerThread() {
  {
    std::lock_guard lock(control_->mu);
    if (control_->stop) control_->stop->send();
  }
  thread_.join();
}

} // namespace seedscope::runtime
