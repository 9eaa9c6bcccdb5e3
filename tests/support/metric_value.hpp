// Reading a Prometheus registry in tests: the value of one series.
#pragma once

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace seedscope::test {

enum class Labels { kInclude, kExactly };

// The value (a counter's or a gauge's) of the first series of `name` whose labels include
// `labels` (or are exactly `labels`); -1 when there is none.
inline double metric_value(prometheus::Registry& registry, const std::string& name,
                           const std::map<std::string, std::string>& labels = {},
                           Labels match = Labels::kInclude) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& pair : metric.label) got[pair.name] = pair.value;
      bool ok = match == Labels::kExactly ? got == labels : true;
      if (match == Labels::kInclude)
        for (const auto& [k, v] : labels) {
          const auto it = got.find(k);
          ok = ok && it != got.end() && it->second == v;
        }
      if (ok)
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
    }
  }
  return -1;
}

} // namespace seedscope::test
