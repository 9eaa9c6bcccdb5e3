// Network and topology metrics computed from the observatory database on a schedule, on a
// thread of their own with a read-only connection, so the crawler's loop never waits for
// them; plus the process metrics (CPU, memory, file descriptors, start time) and the
// database size. Registered on the CrawlerMetrics registry.
//
// Per network (chain ID, at most `max_networks`, the largest): nodes by software version (the
// 20 most common, the rest as "other"), by p2p/block protocol, with a public RPC, by
// tx_index, distinct /16 groups of reachable nodes, nodes joined and left in the last hour
// and day, nodes by reliability score (cumulative buckets); from the advertised-by graph:
// edges, in- and out-degree distributions (cumulative buckets), nodes nobody advertises, the
// largest strongly connected component.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace prometheus {
class Registry;
class Gauge;
class Counter;
template <typename T>
class Family;
} // namespace prometheus

namespace seedscope::metrics {

// Size of the largest strongly connected component of a directed graph given as adjacency
// lists over nodes 0..n-1 (iterative Tarjan).
std::size_t largest_scc(const std::vector<std::vector<std::uint32_t>>& adjacency);

class ObservatoryMetrics {
public:
  ObservatoryMetrics(std::shared_ptr<prometheus::Registry> registry, std::filesystem::path db_file,
                     const std::string& ns = "seedscope",
                     std::chrono::milliseconds interval = std::chrono::seconds(15),
                     std::size_t max_networks = 64);
  ~ObservatoryMetrics();
  ObservatoryMetrics(const ObservatoryMetrics&) = delete;
  ObservatoryMetrics& operator=(const ObservatoryMetrics&) = delete;

  // Computes once now, on the caller's thread (tests); returns false if the database could
  // not be read.
  bool refresh();
  std::uint64_t refreshes() const { return refreshes_; }

private:
  using Labels = std::map<std::string, std::string>;
  void set(prometheus::Family<prometheus::Gauge>* family, const Labels& labels, double value);
  void run();
  void refresh_process();

  std::shared_ptr<prometheus::Registry> registry_;
  std::filesystem::path db_file_;
  std::string ns_;
  std::chrono::milliseconds interval_;
  std::size_t max_networks_;
  std::mutex mu_; // one refresh at a time
  std::map<prometheus::Family<prometheus::Gauge>*, std::set<Labels>> seen_, current_;
  prometheus::Family<prometheus::Gauge>* nodes_;
  prometheus::Family<prometheus::Gauge>* reachable_;
  prometheus::Family<prometheus::Gauge>* misbehaving_;
  prometheus::Family<prometheus::Gauge>* addresses_;
  prometheus::Family<prometheus::Gauge>* by_version_;
  prometheus::Family<prometheus::Gauge>* by_protocol_;
  prometheus::Family<prometheus::Gauge>* with_rpc_;
  prometheus::Family<prometheus::Gauge>* by_tx_index_;
  prometheus::Family<prometheus::Gauge>* groups_;
  prometheus::Family<prometheus::Gauge>* churn_;
  prometheus::Family<prometheus::Gauge>* reliability_;
  prometheus::Family<prometheus::Gauge>* edges_;
  prometheus::Family<prometheus::Gauge>* in_degree_;
  prometheus::Family<prometheus::Gauge>* out_degree_;
  prometheus::Family<prometheus::Gauge>* unadvertised_;
  prometheus::Family<prometheus::Gauge>* scc_;
  prometheus::Gauge* db_bytes_;
  prometheus::Gauge* refresh_seconds_;
  prometheus::Counter* process_cpu_;
  double cpu_seen_ = 0;
  prometheus::Gauge* process_rss_;
  prometheus::Gauge* process_vsize_;
  prometheus::Gauge* process_fds_;
  prometheus::Gauge* process_max_fds_;
  prometheus::Gauge* process_start_;
  std::atomic<std::uint64_t> refreshes_{0};
  std::mutex wait_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace seedscope::metrics
