// The HTTP endpoint shared by the metrics classes: a prometheus-cpp Exposer on an address,
// with a readable error, and the URL it ended up serving (port 0 picks a free port).
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Exposer;
}

namespace seedscope::metrics {

// Throws std::runtime_error "metrics: cannot serve on ADDR: ..." when it cannot bind.
std::unique_ptr<prometheus::Exposer> make_exposer(const std::string& listen_addr);
// "http://host:port/metrics" of a started exposer.
std::string endpoint_of(prometheus::Exposer& exposer, const std::string& listen_addr);

} // namespace seedscope::metrics
