// The crawler's Prometheus metrics on a registry of the caller's: contacts by outcome and by
// failure (stage, reason) with connect and handshake latency histograms, dials in flight, the
// scheduler's queue, addresses by state, the seed service and the observatory writer.
// Counters move with the crawl's observations (an observe::Observer); gauges are set from its
// status snapshots. Label values are bounded: outcome, stage, reason and state names, and at
// most `max_networks` chain IDs (the first seen; the rest counted as "other").
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/observe/observations.hpp"
#include "core/observe/status.hpp"
#include "metrics/followed_counter.hpp"
#include "storage/observatory.hpp"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
template <typename T> class Family;
} // namespace prometheus

namespace seedscope::metrics {

class CrawlerMetrics final : public observe::Observer {
public:
  explicit CrawlerMetrics(std::shared_ptr<prometheus::Registry> registry,
                          const std::string& ns = "seedscope", std::size_t max_networks = 64);
  ~CrawlerMetrics() override;
  CrawlerMetrics(const CrawlerMetrics&) = delete;
  CrawlerMetrics& operator=(const CrawlerMetrics&) = delete;

  // observe::Observer: contacts move the counters and histograms.
  void observe(const observe::Observation& o) override;
  void update(const observe::CrawlStatus& status, const storage::WriterStats& writer);
  // One committed write batch (thread-safe).
  void observe_batch(double seconds);
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

private:
  std::size_t max_networks_;
  std::shared_ptr<prometheus::Registry> registry_;
  void on_contact(const observe::ContactRecord& c);
  prometheus::Family<prometheus::Counter>* contacts_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Histogram* connect_latency_;
  prometheus::Histogram* handshake_latency_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* queue_;
  prometheus::Gauge* known_;
  prometheus::Family<prometheus::Gauge>* by_state_;
  // Per network (a label of its own for the first `max_networks` chain IDs, then "other").
  std::string network_label(const std::string& network);
  prometheus::Family<prometheus::Counter>* seed_requests_;
  prometheus::Family<prometheus::Counter>* seed_addresses_;
  prometheus::Family<prometheus::Counter>* seed_connections_;
  std::set<std::string> labelled_networks_;
  struct SeedCounters {
    FollowedCounter requests, addresses;
  };
  std::map<std::string, SeedCounters> seed_counters_; // by network
  FollowedCounter rows_written_;
  FollowedCounter excluded_refused_, excluded_not_dialed_, excluded_not_learnt_, subnet_deferred_;
  prometheus::Gauge* pending_records_;
  prometheus::Gauge* batch_seconds_;
  prometheus::Histogram* batch_latency_;
};

} // namespace seedscope::metrics
