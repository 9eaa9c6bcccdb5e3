// `<ns>_build_info{version,revision,build_type} 1`: which build a scrape comes from, after the
// Prometheus convention (prometheus_build_info, go_build_info), so a dashboard or an alert can
// join on it and an upgrade shows as a change of labels. Registered once per registry (the
// family lives in the registry); the labels never change during a process's life.
#pragma once

#include <string>

namespace prometheus {
class Registry;
}

namespace seedscope::metrics {

struct BuildLabels {
  std::string version;    // the release: "0.1.0"
  std::string revision;   // the git commit ("unknown" outside a checkout)
  std::string build_type; // CMake's build type: "Release", "RelWithDebInfo", "Debug"
};

void add_build_info(prometheus::Registry& registry, const std::string& ns,
                    const BuildLabels& labels);

} // namespace seedscope::metrics
