#include "crawler/runtime/resolver.hpp"

#include <cstring>
#include <memory>
#include <utility>

namespace seedscope::runtime {

struct Resolver::Request {
  uv_getaddrinfo_t req{};
  Resolver* owner = nullptr; // null once cancelled
  Handler handler;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    std::unique_ptr<Request> self(static_cast<Request*>(req->data));
    std::vector<sockaddr_storage> addrs;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      addrs.push_back(ss);
    }
    if (res != nullptr) uv_freeaddrinfo(res);
    if (self->owner == nullptr) return;
    self->owner->request_ = nullptr;
    if (status == 0 && addrs.empty()) status = UV_EAI_NONAME;
    self->handler(status, std::move(addrs));
  }
};

int Resolver::resolve(const std::string& host, std::uint16_t port, Handler handler) {
  cancel();
  auto request = std::make_unique<Request>();
  request->req.data = request.get();
  request->owner = this;
  request->handler = std::move(handler);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  std::string service = std::to_string(port);
  int rc = uv_getaddrinfo(loop_.get(), &request->req, &Request::on_resolved, host.c_str(),
                          service.c_str(), &hints);
  if (rc != 0) return rc;
  request_ = request.release();
  return 0;
}

void Resolver::cancel() {
  Request* request = std::exchange(request_, nullptr);
  if (request == nullptr) return;
  request->owner = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&request->req)); // the callback still frees it
}

} // namespace seedscope::runtime
