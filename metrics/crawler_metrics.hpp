// The crawler's Prometheus metrics: contacts by outcome with connect and handshake latency
// histograms, dials in flight, the scheduler's queue, addresses by state, per-network node
// counts, the seed service and the observatory writer. Counters move from the loop (as a
// CrawlerObserver); gauges are set from periodic snapshots. Label values are bounded: outcome
// and state names, and at most `max_networks` chain IDs (gauges: the largest networks;
// counters: the first seen, the rest counted as "other").
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "crawler/crawl/crawler.hpp"
#include "storage/observatory.hpp"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
template <typename T>
class Family;
} // namespace prometheus

namespace seedscope::metrics {

class Exposer;

class CrawlerMetrics final : public crawler::CrawlerObserver {
public:
  // Serves /metrics on `listen_addr` (see Exposer); throws std::runtime_error
  // "metrics: cannot listen on ADDR: REASON" when it cannot.
  explicit CrawlerMetrics(const std::string& listen_addr, const std::string& ns = "seedscope",
                          std::size_t max_networks = 64);
  ~CrawlerMetrics() override;
  CrawlerMetrics(const CrawlerMetrics&) = delete;
  CrawlerMetrics& operator=(const CrawlerMetrics&) = delete;

  void on_contact(const storage::Contact& contact, crawl::Outcome outcome) override;
  void update(const crawler::CrawlerStats& stats, const storage::WriterStats& writer);
  // One committed write batch (thread-safe).
  void observe_batch(double seconds);
  std::string endpoint() const;
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

private:
  std::size_t max_networks_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* contacts_;
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
  std::map<std::string, std::pair<double, double>> seed_seen_; // requests, addresses
  prometheus::Counter* rows_written_;
  prometheus::Gauge* pending_records_;
  prometheus::Gauge* batch_seconds_;
  prometheus::Histogram* batch_latency_;
  double rows_seen_ = 0;
};

} // namespace seedscope::metrics
