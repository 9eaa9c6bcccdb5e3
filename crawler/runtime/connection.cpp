#include "crawler/runtime/connection.hpp"

#include "core/p2p/handshake.hpp"

namespace seedscope::runtime {

std::string_view to_string(Direction d) {
  return d == Direction::kOutbound ? "outbound" : "inbound";
}

Connection::Connection(Parts parts)
    : socket_(std::move(parts.socket)),
      key_(std::move(parts.key)),
      secret_(std::move(parts.secret)),
      peer_info_(std::move(parts.peer_info)),
      our_info_(std::move(parts.our_info)),
      leftover_(std::move(parts.leftover)),
      timings_(parts.timings),
      direction_(parts.direction),
      remote_address_(std::move(parts.remote_address)),
      remote_(std::move(parts.remote)) {
  // Take over the socket's handlers (this may run inside the upgrade's read handler; the
  // socket copies a handler before running it, so replacing it there is safe).
  socket_.start_reading([this](ByteSpan data) { on_data(data); },
                        [this](int status) { on_end(status); });
  if (!parts.pending_output.empty()) socket_.write(std::move(parts.pending_output));
}

Connection::~Connection() { socket_.close(); }

Bytes Connection::take_leftover_plaintext() { return std::exchange(leftover_, {}); }

void Connection::set_handlers(DataHandler on_data, CloseHandler on_close) {
  on_data_ = std::move(on_data);
  on_close_ = std::move(on_close);
}

bool Connection::send(ByteSpan plaintext) {
  if (!socket_.is_open()) return false;
  if (Status st = secret_->send(plaintext); !st) {
    socket_.close();
    return false;
  }
  if (secret_->has_output() && socket_.write(secret_->take_output()) != 0) {
    socket_.close();
    return false;
  }
  return true;
}

void Connection::close(Millis linger) {
  on_data_ = {};
  on_close_ = {};
  socket_.close_gracefully(linger);
}

void Connection::abort() {
  on_data_ = {};
  on_close_ = {};
  socket_.close();
}

void Connection::on_data(ByteSpan data) {
  if (Status st = secret_->on_receive(data); !st) {
    end(Failure{Stage::kMConnection, classify_secret_error(st.error().code)}, st.error().message());
    return;
  }
  if (!secret_->has_plaintext()) return;
  if (!on_data_) {
    append(leftover_, secret_->take_plaintext());
    return;
  }
  Bytes plain = secret_->take_plaintext();
  DataHandler handler = on_data_; // the handler may close or destroy this connection
  handler(plain);
}

void Connection::on_end(int status) {
  bool closed = status == UV_EOF || status == UV_ECONNRESET || status == UV_EPIPE;
  end(Failure{Stage::kMConnection, closed ? Reason::kClosed : Reason::kIoError},
      "socket: " + uv_error_text(status));
}

void Connection::end(Failure failure, std::string detail) {
  socket_.close();
  CloseHandler handler = std::exchange(on_close_, {});
  on_data_ = {};
  if (handler) handler(failure, detail); // last statement: the handler may destroy us
}

} // namespace seedscope::runtime
