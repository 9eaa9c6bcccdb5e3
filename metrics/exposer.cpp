#include "metrics/exposer.hpp"

#include <prometheus/exposer.h>

#include <stdexcept>

#include <fmt/format.h>

namespace seedscope::metrics {

std::unique_ptr<prometheus::Exposer> make_exposer(const std::string& listen_addr) {
  try {
    return std::make_unique<prometheus::Exposer>(listen_addr, 2);
  } catch (const std::exception& e) {
    throw std::runtime_error(fmt::format("metrics: cannot serve on {}: {}", listen_addr, e.what()));
  }
}

std::string endpoint_of(prometheus::Exposer& exposer, const std::string& listen_addr) {
  const auto ports = exposer.GetListeningPorts();
  const auto colon = listen_addr.rfind(':');
  return fmt::format("http://{}:{}/metrics",
                     colon == std::string::npos ? listen_addr : listen_addr.substr(0, colon),
                     ports.empty() ? 0 : ports.front());
}

} // namespace seedscope::metrics
