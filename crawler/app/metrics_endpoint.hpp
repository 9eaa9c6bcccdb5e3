// The metrics endpoint: GET /metrics answers a prometheus-cpp Registry (what metrics/ fills) in
// Prometheus' text format (prometheus-cpp's core TextSerializer), served by our own
// runtime::HttpServerThread, on a thread and loop of its own: a scrape never waits for the
// crawler's loop, and the crawler never waits for a scrape (the metric values are atomic).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}
namespace seedscope::runtime {
class HttpServerThread;
}

namespace seedscope::app {

class MetricsEndpoint {
public:
  // Serves `registry` on `listen_addr` (runtime::parse_listen_address: "127.0.0.1:26660",
  // ":26660", "tcp://...", "[::1]:26660"; port 0 picks a free port). Throws
  // std::runtime_error "metrics: cannot listen on ADDR: REASON" when it cannot.
  MetricsEndpoint(const std::string& listen_addr, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // "http://host:port/metrics" with the bound host and port.
  const std::string& endpoint() const { return endpoint_; }
  std::uint16_t port() const;

private:
  std::unique_ptr<runtime::HttpServerThread> server_;
  std::string endpoint_;
};

} // namespace seedscope::app
