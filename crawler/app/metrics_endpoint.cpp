#include "crawler/app/metrics_endpoint.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <stdexcept>

#include <fmt/format.h>

#include "crawler/runtime/http_server.hpp"

namespace seedscope::app {

namespace {

http::Response scrape(const prometheus::Registry& registry, const http::Request& request) {
  if (request.path != "/metrics") return http::text_response(404, "metrics are at /metrics");
  http::Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = prometheus::TextSerializer().Serialize(registry.Collect());
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

} // namespace

MetricsEndpoint::MetricsEndpoint(const std::string& listen_addr,
                                 std::shared_ptr<prometheus::Registry> registry) {
  try {
    server_ = std::make_unique<runtime::HttpServerThread>(
        runtime::parse_listen_address(listen_addr),
        [registry](const http::Request& request, runtime::HttpResponder respond) {
          respond.send(scrape(*registry, request));
        });
  } catch (const runtime::ListenError& e) {
    throw std::runtime_error(fmt::format("metrics: {}", e.what()));
  }
  endpoint_ = fmt::format("http://{}/metrics", server_->local_address());
}

MetricsEndpoint::~MetricsEndpoint() = default;

std::uint16_t MetricsEndpoint::port() const { return server_->port(); }

} // namespace seedscope::app
