#include "crawler/app/run_harness.hpp"

#include <prometheus/registry.h>

#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
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
      log_(logger("main")),
      tick_(loop),
      deadline_(loop),
      give_up_(loop) {
  // Every problem of the file at once, before anything listens.
  exclude_ = std::make_unique<ExcludeFile>(options_.exclude_file);
  if (!options_.exclude_file.empty())
    log_.info("exclude list loaded", {{"entries", exclude_->list().size()},
                                      {"file", options_.exclude_file.string()},
                                      {"exists", std::filesystem::exists(options_.exclude_file)}});
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
      if (everywhere)
        logger("metrics").info("serving metrics on every interface: other hosts can scrape it",
                               {{"url", endpoint}});
      else logger("metrics").info("serving metrics", {{"url", endpoint}});
    } catch (const std::exception& e) {
      if (!options_.metrics_optional) throw;
      logger("metrics").error("no metrics: continuing without them", {{"err", e.what()}});
      registry_.reset();
    }
  }
  if (!options_.observatory) return;
  if (registry_)
    crawler_metrics_ =
        std::make_unique<metrics::CrawlerMetrics>(registry_, options_.metrics_namespace);
  storage::WriterOptions w = options_.writer;
  w.log = logger("storage");
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
    g.log = logger("geo");
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
    mo.log = logger("metrics");
    observatory_metrics_ =
        std::make_unique<metrics::ObservatoryMetrics>(registry_, *options_.observatory, mo);
  }
}

RunHarness::~RunHarness() { finish(); }

const ExcludeList* RunHarness::exclude() const { return &exclude_->list(); }

void RunHarness::update_metrics(const observe::CrawlStatus& status) {
  if (crawler_metrics_ && writer_) crawler_metrics_->update(status, writer_->stats());
}

void RunHarness::run(std::function<void()> on_tick,
                     std::function<void(const std::string& why)> on_stop) {
  on_tick_ = std::move(on_tick);
  on_stop_ = std::move(on_stop);
  // Said once, after the command's own start-up line.
  if (writer_ && !geo_)
    logger("geo").info("geo: off (no [geo] country_db or asn_db, no --geo-db): countries and "
                       "ASNs are not recorded");
  if (geo_) geo_->tick(loop_.now()); // the files are opened at once, not a tick later
  std::function<void()> tick = [this, &tick] {
    if (on_tick_) on_tick_();
    if (geo_ && !stopping_) geo_->tick(loop_.now());
    if (!stopping_ && loop_.now() - exclude_checked_ >= options_.exclude_check_interval) {
      exclude_checked_ = loop_.now();
      const ExcludeFile::Refresh r = exclude_->refresh();
      for (const auto& line : r.lines) {
        if (r.reloaded) log_.info(line);
        else log_.error(line);
      }
    }
    if (!stopping_) tick_.start(options_.tick, tick);
  };
  tick_.start(options_.tick, tick);
  if (options_.duration)
    deadline_.start(*options_.duration, [this] { request_stop("--duration reached"); });
  runtime::StopRequest stop_request(loop_, [this](int signum) {
    request_stop(signum == SIGINT ? "received SIGINT" : "received SIGTERM");
  });
  loop_.run();
  tick_.stop();
  deadline_.stop();
  give_up_.stop();
}

void RunHarness::request_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  log_.info("shutting down", {{"why", why}});
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
