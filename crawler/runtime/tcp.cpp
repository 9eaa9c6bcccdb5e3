#include "crawler/runtime/tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <memory>
#include <utility>

namespace seedscope::runtime {

std::string format_sockaddr(const sockaddr* addr) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    uv_ip4_name(in, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    uv_ip6_name(in6, ip, sizeof ip);
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "?";
}

std::optional<NetAddress> net_address_of(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    const auto* b = reinterpret_cast<const std::uint8_t*>(&in->sin_addr.s_addr);
    return NetAddress{"", IpAddress::v4(b[0], b[1], b[2], b[3]), ntohs(in->sin_port)};
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6->sin6_addr, 16);
    return NetAddress{"", IpAddress::v6(bytes), ntohs(in6->sin6_port)};
  }
  return std::nullopt;
}

std::optional<sockaddr_storage> make_sockaddr(std::string_view ip, std::uint16_t port) {
  std::string text(ip);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  sockaddr_storage out{};
  if (uv_ip4_addr(text.c_str(), port, reinterpret_cast<sockaddr_in*>(&out)) == 0) return out;
  out = {};
  if (uv_ip6_addr(text.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out)) == 0) return out;
  return std::nullopt;
}

std::string uv_error_text(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

int uv_status_from_errno(int err) { return uv_translate_sys_error(err); }

namespace {

// One read buffer per thread: libuv hands it straight to the read callback, which consumes
// it before any other read can happen.
char* read_buffer() {
  static thread_local std::array<char, 64 * 1024> buffer;
  return buffer.data();
}

void alloc_read_buffer(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  buf->base = read_buffer();
  buf->len = 64 * 1024;
}

std::string local_name(const uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  return uv_tcp_getsockname(tcp, sa, &len) == 0 ? format_sockaddr(sa) : std::string("?");
}

std::uint16_t sockport(const uv_tcp_t* tcp) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

} // namespace

// ---- TcpSocket ----------------------------------------------------------------------------

struct TcpSocket::Impl {
  uv_tcp_t tcp{};
  uv_timer_t linger{};
  uv_connect_t connect_req{};
  uv_shutdown_t shutdown_req{};
  Loop* loop = nullptr;
  Loop::CloserId closer = 0; // registered while lingering in close_gracefully()
  int closes_pending = 0;
  bool closing = false; // no handler runs once set
  bool closed = false;  // uv_close issued
  bool ended = false;
  bool draining = false;      // close_gracefully(drain_input): wait for the peer's FIN
  bool shutdown_done = false; // our FIN is out
  DataHandler on_data;
  EndHandler on_end;
  ConnectHandler on_connect;
  std::function<void()> on_drain;
  std::size_t write_queued = 0;
  bool paused = false;

  static Impl* of(const void* handle_data) {
    return static_cast<Impl*>(const_cast<void*>(handle_data));
  }

  void end(int status) {
    if (closing || ended) return;
    ended = true;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp));
    EndHandler handler = on_end; // the handler may replace or destroy its owner
    if (handler) handler(status);
  }

  void close_now() {
    closing = true;
    if (closer != 0) loop->remove_closer(std::exchange(closer, 0));
    if (closed) return;
    closed = true;
    closes_pending = 2;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), &Impl::on_closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&linger), &Impl::on_closed);
  }

  static void on_closed(uv_handle_t* handle) {
    Impl* impl = of(handle->data);
    if (--impl->closes_pending == 0) delete impl;
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    Impl* impl = of(stream->data);
    if (impl->closing || impl->ended) return;
    if (nread > 0) {
      DataHandler handler = impl->on_data;
      if (handler)
        handler(ByteSpan(reinterpret_cast<const std::uint8_t*>(buf->base),
                         static_cast<std::size_t>(nread)));
    } else if (nread < 0) {
      impl->end(static_cast<int>(nread));
    }
  }

  static void on_connected(uv_connect_t* req, int status) {
    Impl* impl = of(req->data);
    if (impl->closing) return;
    if (status == 0) uv_tcp_nodelay(&impl->tcp, 1);
    ConnectHandler handler = impl->on_connect;
    if (handler) handler(status);
  }

  struct WriteReq {
    uv_write_t req{};
    Bytes data;
  };

  static void on_written(uv_write_t* req, int status) {
    std::unique_ptr<WriteReq> owned(reinterpret_cast<WriteReq*>(req));
    Impl* impl = of(req->handle->data);
    impl->write_queued -= owned->data.size();
    if (status < 0 && status != UV_ECANCELED) {
      impl->end(status);
      return;
    }
    if (impl->write_queued == 0 && !impl->closing && !impl->ended && impl->on_drain) {
      std::function<void()> handler = impl->on_drain; // may destroy the socket's owner
      handler();
    }
  }

  static void on_shutdown(uv_shutdown_t* req, int status) {
    Impl* impl = of(req->data);
    impl->shutdown_done = true;
    if (!impl->draining || impl->ended || status < 0) impl->close_now();
  }

  // Input after close_gracefully(drain_input): discarded; the peer's FIN (or an error) ends
  // the wait once our own FIN is out.
  static void on_drain_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
    Impl* impl = of(stream->data);
    if (nread >= 0 || impl->closed) return;
    impl->ended = true;
    uv_read_stop(stream);
    if (impl->shutdown_done || nread != UV_EOF) impl->close_now();
  }

  static void on_linger(uv_timer_t* timer) { of(timer->data)->close_now(); }
};

TcpSocket::TcpSocket(Loop& loop) : impl_(new Impl) {
  impl_->loop = &loop;
  uv_tcp_init(loop.get(), &impl_->tcp);
  impl_->tcp.data = impl_;
  impl_->connect_req.data = impl_;
  impl_->shutdown_req.data = impl_;
  // The linger timer of close_gracefully(); it lives and dies with the socket.
  uv_timer_init(loop.get(), &impl_->linger);
  impl_->linger.data = impl_;
}

TcpSocket::~TcpSocket() { close(); }

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

int TcpSocket::connect(const sockaddr* addr, ConnectHandler handler) {
  if (!impl_) return UV_EBADF;
  impl_->on_connect = std::move(handler);
  return uv_tcp_connect(&impl_->connect_req, &impl_->tcp, addr, &Impl::on_connected);
}

int TcpSocket::start_reading(DataHandler on_data, EndHandler on_end) {
  if (!impl_) return UV_EBADF;
  impl_->on_data = std::move(on_data);
  impl_->on_end = std::move(on_end);
  uv_tcp_nodelay(&impl_->tcp, 1);
  return uv_read_start(reinterpret_cast<uv_stream_t*>(&impl_->tcp), alloc_read_buffer,
                       &Impl::on_read);
}

int TcpSocket::write(Bytes data) {
  if (!impl_) return UV_EBADF;
  if (data.empty()) return 0;
  auto req = std::make_unique<Impl::WriteReq>();
  req->data = std::move(data);
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(req->data.data()),
                             static_cast<unsigned>(req->data.size()));
  const std::size_t size = req->data.size();
  int rc =
      uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&impl_->tcp), &buf, 1, &Impl::on_written);
  if (rc == 0) {
    req.release(); // owned by libuv until on_written
    impl_->write_queued += size;
  }
  return rc;
}

std::size_t TcpSocket::write_queue_size() const { return impl_ ? impl_->write_queued : 0; }

void TcpSocket::set_drain_handler(std::function<void()> handler) {
  if (impl_) impl_->on_drain = std::move(handler);
}

void TcpSocket::pause_reading() {
  if (!impl_ || impl_->paused) return;
  impl_->paused = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&impl_->tcp));
}

int TcpSocket::resume_reading() {
  if (!impl_ || !impl_->paused || impl_->ended || impl_->closing) return 0;
  impl_->paused = false;
  return uv_read_start(reinterpret_cast<uv_stream_t*>(&impl_->tcp), alloc_read_buffer,
                       &Impl::on_read);
}

void TcpSocket::close() {
  Impl* impl = std::exchange(impl_, nullptr);
  if (impl) impl->close_now();
}

void TcpSocket::close_gracefully(Millis linger, bool drain_input) {
  Impl* impl = std::exchange(impl_, nullptr);
  if (!impl) return;
  impl->closing = true;
  auto* stream = reinterpret_cast<uv_stream_t*>(&impl->tcp);
  uv_read_stop(stream);
  if (uv_shutdown(&impl->shutdown_req, stream, &Impl::on_shutdown) != 0) {
    impl->close_now();
    return;
  }
  if (drain_input && !impl->ended)
    impl->draining = uv_read_start(stream, alloc_read_buffer, &Impl::on_drain_read) == 0;
  uv_timer_start(&impl->linger, &Impl::on_linger, static_cast<std::uint64_t>(linger.count()), 0);
  // Nobody owns the socket now: if the loop ends first, it ends the socket.
  impl->closer = impl->loop->add_closer([impl] { impl->close_now(); });
}

bool TcpSocket::peer_sockaddr(sockaddr_storage& out) const {
  int len = sizeof out;
  return impl_ && uv_tcp_getpeername(&impl_->tcp, reinterpret_cast<sockaddr*>(&out), &len) == 0;
}
std::string TcpSocket::local_address() const { return impl_ ? local_name(&impl_->tcp) : "?"; }
std::uint16_t TcpSocket::local_port() const { return impl_ ? sockport(&impl_->tcp) : 0; }

// ---- TcpListener --------------------------------------------------------------------------

struct TcpListener::Impl {
  uv_tcp_t tcp{};
  bool closing = false;
  ConnectionHandler on_connection;

  static void on_closed(uv_handle_t* handle) { delete static_cast<Impl*>(handle->data); }

  static void on_incoming(uv_stream_t* server, int status) {
    auto* impl = static_cast<Impl*>(server->data);
    if (impl->closing) return;
    ConnectionHandler handler = impl->on_connection;
    if (handler) handler(status);
  }
};

TcpListener::TcpListener(Loop& loop) : impl_(new Impl) {
  uv_tcp_init(loop.get(), &impl_->tcp);
  impl_->tcp.data = impl_;
}

TcpListener::~TcpListener() { close(); }

int TcpListener::listen(const sockaddr* addr, int backlog, ConnectionHandler handler) {
  if (!impl_) return UV_EBADF;
  impl_->on_connection = std::move(handler);
  if (int rc = uv_tcp_bind(&impl_->tcp, addr, 0); rc != 0) return rc;
  return uv_listen(reinterpret_cast<uv_stream_t*>(&impl_->tcp), backlog, &Impl::on_incoming);
}

int TcpListener::accept(TcpSocket& socket) {
  if (!impl_ || !socket.impl_) return UV_EBADF;
  return uv_accept(reinterpret_cast<uv_stream_t*>(&impl_->tcp),
                   reinterpret_cast<uv_stream_t*>(&socket.impl_->tcp));
}

void TcpListener::close() {
  Impl* impl = std::exchange(impl_, nullptr);
  if (!impl) return;
  impl->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&impl->tcp), &Impl::on_closed);
}

std::string TcpListener::local_address() const { return impl_ ? local_name(&impl_->tcp) : "?"; }
std::uint16_t TcpListener::local_port() const { return impl_ ? sockport(&impl_->tcp) : 0; }

} // namespace seedscope::runtime
