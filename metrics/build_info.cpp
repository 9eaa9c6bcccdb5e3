#include "metrics/build_info.hpp"

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace seedscope::metrics {

void add_build_info(prometheus::Registry& registry, const std::string& ns,
                    const BuildLabels& labels) {
  prometheus::BuildGauge()
      .Name(ns + "_build_info")
      .Help("Always 1; the labels say which seedscope build serves these metrics")
      .Register(registry)
      .Add({{"version", labels.version},
            {"revision", labels.revision},
            {"build_type", labels.build_type}})
      .Set(1);
}

} // namespace seedscope::metrics
