// What `crawl`, `demo` and `start` share around their event loop, in one place: the metrics
// registry and its endpoint, the observatory (its writer thread, the metrics computed from it
// and the crawler's counters, fanned out as one observe::Observer), the stop on SIGINT,
// SIGTERM, a duration or the command's own request, with a bound on how long stopping may
// take, and a tick once a second for status lines and gauges.
//
// Construct it (start-up: throws for an address that cannot be served or a database that
// cannot be opened), build the command's objects on its registry and observer, then run().
// Single-threaded (the loop's); the writer and the metrics endpoint have threads of their own.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/base/clock.hpp"
#include "core/base/log.hpp"
#include "core/observe/observations.hpp"
#include "core/observe/status.hpp"
#include "core/p2p/exclude_list.hpp"
#include "crawler/geo/maxmind.hpp"
#include "crawler/runtime/loop.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "crawler/runtime/timer.hpp"
#include "storage/observatory.hpp"

namespace prometheus {
class Registry;
}

namespace seedscope::metrics {
class CrawlerMetrics;
class ObservatoryMetrics;
} // namespace seedscope::metrics

namespace seedscope::app {

class MetricsEndpoint;
class GeoAnnotator;
class ExcludeFile;

struct HarnessOptions {
  std::string metrics_addr; // "" or "off": no metrics
  std::string metrics_namespace = "seedscope";
  bool metrics_optional = false; // an address that cannot be served: go on without metrics
  // The observatory database (crawl, demo): a writer thread, the gauges computed from it.
  std::optional<std::filesystem::path> observatory;
  storage::WriterOptions writer; // its log and on_batch are set by the harness
  Millis observatory_interval{15'000};
  // With an observatory: MaxMind DB files for countries and ASNs (GeoAnnotator); none: geo
  // is off, said once.
  std::vector<geo::GeoLookup::Source> geo;
  Millis geo_check_interval{60'000};
  // The exclude list's file ([crawler] exclude_file resolved; empty: none), read at start (a
  // bad file stops start-up) and checked for a change every exclude_check_interval.
  std::filesystem::path exclude_file;
  Millis exclude_check_interval{10'000};
  std::optional<Millis> duration; // stop after this long
  Millis give_up{1500};           // after the stop, the loop ends at the latest this much later
  Millis tick{1000};
};

class RunHarness {
public:
  RunHarness(runtime::Loop& loop, HarnessOptions options);
  ~RunHarness();
  RunHarness(const RunHarness&) = delete;
  RunHarness& operator=(const RunHarness&) = delete;

  // Null without metrics.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  // Null without an observatory.
  storage::ObservatoryWriter* writer() { return writer_.get(); }
  // The writer, the crawler's counters and what add_observer() added; null without an
  // observatory.
  observe::Observer* observer() { return writer_ ? &fan_out_ : nullptr; }
  void add_observer(observe::Observer* observer) { fan_out_.add(observer); }
  // The exclude list in effect (empty without a file); its address stays, reloads replace
  // its contents on the loop. For the crawler, the switch and the PEX reactor.
  const ExcludeList* exclude() const;
  // Null without geo databases configured.
  GeoAnnotator* geo() { return geo_.get(); }
  // Where an address is, when the annotator learns it (on the loop); set before run().
  void on_geo(std::function<void(const IpAddress&, const geo::GeoInfo&)> listener) {
    geo_listener_ = std::move(listener);
  }
  // With metrics and an observatory: the crawler's gauges follow `status` (call it each tick).
  void update_metrics(const observe::CrawlStatus& status);

  // Runs the loop until everything ended. `on_tick` every tick; `on_stop(why)` once, on
  // SIGINT/SIGTERM, the duration or request_stop(): it must end what runs (the loop then ends
  // when idle, or give_up later).
  void run(std::function<void()> on_tick, std::function<void(const std::string& why)> on_stop);
  void request_stop(const std::string& why);
  // After run(): writes what is pending to the database and stops the writer (idempotent).
  void finish();

private:
  runtime::Loop& loop_;
  HarnessOptions options_;
  Logger log_; // module main
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<metrics::CrawlerMetrics> crawler_metrics_;
  std::unique_ptr<storage::ObservatoryWriter> writer_;
  std::unique_ptr<metrics::ObservatoryMetrics> observatory_metrics_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  std::unique_ptr<GeoAnnotator> geo_; // after writer_: destroyed before it
  std::unique_ptr<ExcludeFile> exclude_;
  TimePoint exclude_checked_{};
  std::function<void(const IpAddress&, const geo::GeoInfo&)> geo_listener_;
  observe::FanOut fan_out_;
  runtime::Timer tick_;
  runtime::Timer deadline_;
  runtime::Timer give_up_;
  std::function<void()> on_tick_;
  std::function<void(const std::string&)> on_stop_;
  bool stopping_ = false;
};

} // namespace seedscope::app
