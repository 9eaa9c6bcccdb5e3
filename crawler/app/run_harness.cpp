#include "crawler/app/run_harness.hpp"

#include <prometheus/registry.h>

#include <fmt/format.h>

#include "crawler/app/exclude_file.hpp"
#include "crawler/app/geo_annotator.hpp"
#include "crawler/app/metrics_endpoint.hpp"
#include "crawler/app/output.hpp"
#include "crawler/app/version.hpp"
#include "crawler/runtime/listen_address.hpp"
#include "metrics/build_info.hpp"
#include "metrics/crawler_metrics.hpp"
#include "metrics/observatory_metrics.hpp"

namespace seedscope::app {

RunHarness::RunHarness(runtime::Loop& loop, HarnessOptions options)
    : loop_(loop),
      options_(std::move(options)),
      tick_(loop),
      deadline_(loop),
      give_up_(loop) {
  // Every problem of the file at once, before anything listens.
  exclude_ = std::make_unique<ExcludeFile>(options_.exclude_file);
  if (!options_.exclude_file.empty())
    log(fmt::format("exclude list: {} entries from {}{}", exclude_->list().size(),
                    options_.exclude_file.string(),
                    std::filesystem::exists(options_.exclude_file) ? "" : " (no such file yet)"));
  exclude_checked_ = loop_.now();
  const bool want_metrics = !runtime::listen_address_off(options_.metrics_addr);
  if (want_metrics) {
    registry_ = std::make_shared<prometheus::Registry>();
    const BuildInfo& b = build_info();
    metrics::add_build_info(*registry_, options_.metrics_namespace,
                            {b.version, b.revision, b.build_type});
    try {
      endpoint_ = std::make_unique<MetricsEndpoint>(options_.metrics_addr, registry_);
      const std::string endpoint = endpoint_->endpoint();
      const bool everywhere =
          endpoint.rfind("http://0.0.0.0:", 0) == 0 || endpoint.rfind("http://[::]:", 0) == 0;
      log("metrics at " + endpoint +
          (everywhere ? " (every interface: other hosts can scrape it)" : ""));
    } catch (const std::exception& e) {
      if (!options_.metrics_optional) throw;
      log(fmt::format("{} (continuing without metrics)", e.what()));
      registry_.reset();
    }
  }
  if (!options_.observatory) return;
  if (registry_)
    crawler_metrics_ =
        std::make_unique<metrics::CrawlerMetrics>(registry_, options_.metrics_namespace);
  storage::WriterOptions w = options_.writer;
  const std::string prefix = options_.log_prefix;
  w.log = [prefix](const std::string& line) { log_line(prefix + line); };
  if (crawler_metrics_)
    w.on_batch = [m = crawler_metrics_.get()](double secs, std::uint64_t) {
      m->observe_batch(secs);
    };
  // A foreign, newer or damaged file stops start-up untouched (load_observatory checked it).
  writer_ = std::make_unique<storage::ObservatoryWriter>(*options_.observatory, std::move(w));
  fan_out_.add(writer_.get());
  fan_out_.add(crawler_metrics_.get());
  if (!options_.geo.empty()) {
    GeoAnnotatorOptions g;
    g.sources = options_.geo;
    g.scratch_dir = options_.observatory->parent_path();
    g.check_interval = options_.geo_check_interval;
    g.log = [prefix](const std::string& line) { log_line(prefix + line); };
    g.sink = writer_.get();
    g.on_result = [this](const IpAddress& ip, const geo::GeoInfo& info) {
      if (geo_listener_) geo_listener_(ip, info);
    };
    geo_ = std::make_unique<GeoAnnotator>(loop_, std::move(g));
    fan_out_.add(geo_.get());
  }
  if (registry_) {
    metrics::ObservatoryMetricsOptions mo;
    mo.ns = options_.metrics_namespace;
    mo.interval = options_.observatory_interval;
    mo.log = [prefix](const std::string& line) { log_line(prefix + line); };
    observatory_metrics_ =
        std::make_unique<metrics::ObservatoryMetrics>(registry_, *options_.observatory, mo);
  }
}

RunHarness::~RunHarness() { finish(); }

const ExcludeList* RunHarness::exclude() const { return &exclude_->list(); }

void RunHarness::update_metrics(const observe::CrawlStatus& status) {
  if (crawler_metrics_ && writer_) crawler_metrics_->update(status, writer_->stats());
}

void RunHarness::log(const std::string& line) const { log_line(options_.log_prefix + line); }

void RunHarness::run(std::function<void()> on_tick,
                     std::function<void(const std::string& why)> on_stop) {
  on_tick_ = std::move(on_tick);
  on_stop_ = std::move(on_stop);
  // Said once, after the command's own start-up line.
  if (writer_ && !geo_)
    log("geo: off (no [geo] country_db or asn_db, no --geo-db): countries and ASNs are not "
        "recorded");
  if (geo_) geo_->tick(loop_.now()); // the files are opened at once, not a tick later
  std::function<void()> tick = [this, &tick] {
    if (on_tick_) on_tick_();
    if (geo_ && !stopping_) geo_->tick(loop_.now());
    if (!stopping_ && loop_.now() - exclude_checked_ >= options_.exclude_check_interval) {
      exclude_checked_ = loop_.now();
      for (const auto& line : exclude_->refresh()) log(line);
    }
    if (!stopping_) tick_.start(options_.tick, tick);
  };
  tick_.start(options_.tick, tick);
  if (options_.duration)
    deadline_.start(*options_.duration, [this] { request_stop("--duration reached"); });
  runtime::StopRequest stop_request(loop_, [this](int signum) {
    request_stop(signum == SIGINT   ? "received SIGINT"
                 : signum == SIGHUP ? "received SIGHUP"
                                    : "received SIGTERM");
  });
  loop_.run();
  tick_.stop();
  deadline_.stop();
  give_up_.stop();
}

void RunHarness::request_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  log(why + ", shutting down");
  if (geo_) geo_->stop();
  tick_.stop();
  deadline_.stop();
  if (on_stop_) on_stop_(why);
  // What is closing (peers flushing, lingering sockets) ends by itself; never wait for it longer.
  give_up_.start(options_.give_up, [this] { loop_.stop(); });
  give_up_.unref();
}

void RunHarness::finish() {
  observatory_metrics_.reset(); // its thread reads the database: stop it first
  if (writer_) writer_->stop();
}

} // namespace seedscope::app
