// Network and topology metrics computed from the observatory database on a schedule, on a
// thread of their own with a read-only connection, so the crawler's loop never waits for
// them; plus the process metrics (CPU, memory, file descriptors, start time) and the
// database size. Registered on the CrawlerMetrics registry. Every number comes from a query
// of storage/queries.hpp; this class turns them into gauges, one function per metric family.
//
// Per network (chain ID, at most `max_networks`, the largest): nodes by software version (the
// 20 most common, the rest as "other"), by p2p/block protocol, with a public RPC, by
// tx_index, distinct /16 groups of reachable nodes, nodes joined and left in the last hour
// and day, nodes by reliability score (cumulative buckets); from the advertised-by graph:
// edges, in- and out-degree distributions (cumulative buckets), nodes nobody advertises, the
// largest strongly connected component; where its reachable nodes are, once geo databases
// have located addresses: by country, ASN and AS organisation (the 20 largest, the rest as
// other, and unknown), how many distinct, and how few hold a third and a half of them.
//
// A refresh that fails (the database cannot be opened, a query fails) is counted in
// `<ns>_observatory_refresh_failures_total` and logged, at most one line a minute (the first
// failure at once; a line says how many failures went unlogged before it), then the first
// success after a logged failure is logged too. Gauges a failed refresh did not reach keep
// their previous values.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/log.hpp"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
template <typename T> class Family;
} // namespace prometheus

namespace seedscope::storage {
class Database;
struct NetworkCounts;
struct NetworkVersions;
struct ProtocolCount;
struct NodeServices;
struct Churn;
struct AdvertisedGraph;
struct NetworkGeo;
} // namespace seedscope::storage

namespace seedscope::metrics {

// Size of the largest strongly connected component of a directed graph given as adjacency
// lists over nodes 0..n-1 (iterative Tarjan).
std::size_t largest_scc(const std::vector<std::vector<std::uint32_t>>& adjacency);

struct ObservatoryMetricsOptions {
  std::string ns = "seedscope"; // metric name prefix
  std::chrono::milliseconds interval = std::chrono::seconds(15);
  std::size_t max_networks = 64;
  // Failed refreshes and the recovery from them (see above), module metrics; from the
  // refreshing thread. Default: silent.
  Logger log;
  // Wall time for the churn windows, monotonic time for pacing the log. Non-owning; nullptr:
  // the system's clocks.
  const Clock* clock = nullptr;
  // false: no thread of its own; the gauges change only when refresh() is called (tests).
  bool background = true;
};

class ObservatoryMetrics {
public:
  ObservatoryMetrics(std::shared_ptr<prometheus::Registry> registry, std::filesystem::path db_file,
                     ObservatoryMetricsOptions options);
  // The same without a log.
  ObservatoryMetrics(std::shared_ptr<prometheus::Registry> registry, std::filesystem::path db_file,
                     const std::string& ns = "seedscope",
                     std::chrono::milliseconds interval = std::chrono::seconds(15),
                     std::size_t max_networks = 64);
  ~ObservatoryMetrics();
  ObservatoryMetrics(const ObservatoryMetrics&) = delete;
  ObservatoryMetrics& operator=(const ObservatoryMetrics&) = delete;

  // Computes once now, on the caller's thread (tests); returns false if the database could
  // not be read (counted and logged as above). Thread-safe: one refresh runs at a time.
  bool refresh();
  std::uint64_t refreshes() const { return refreshes_; } // successful ones

private:
  using Labels = std::map<std::string, std::string>;
  void set(prometheus::Family<prometheus::Gauge>* family, const Labels& labels, double value);
  void run();
  void refresh_process();
  // Everything that comes from the database; throws StorageError.
  void refresh_networks(storage::Database& db);
  // One per metric family: set its gauges from the storage result.
  std::vector<std::string> set_counts(const std::vector<storage::NetworkCounts>& counts);
  void set_versions(const storage::NetworkVersions& versions);
  void set_protocols(const std::string& net, const std::vector<storage::ProtocolCount>& protocols);
  void set_services(const std::string& net, const storage::NodeServices& services);
  void set_ip_groups(const std::string& net, std::int64_t groups);
  void set_churn(const std::string& net, const std::string& window, const storage::Churn& churn);
  void set_reliability(const std::string& net, const std::vector<double>& scores);
  void set_topology(const std::string& net, const storage::AdvertisedGraph& graph);
  void set_geo(const storage::NetworkGeo& geo);
  // Series of networks or versions that are gone are removed.
  void remove_stale_series();
  void refresh_failed(const std::string& what);
  void refresh_succeeded();

  std::shared_ptr<prometheus::Registry> registry_;
  std::filesystem::path db_file_;
  ObservatoryMetricsOptions options_;
  const Clock* clock_; // non-owning: options_.clock or the system's
  std::mutex mu_;      // one refresh at a time
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
  prometheus::Family<prometheus::Gauge>* by_country_;
  prometheus::Family<prometheus::Gauge>* by_asn_;
  prometheus::Family<prometheus::Gauge>* by_as_org_;
  prometheus::Family<prometheus::Gauge>* geo_distinct_;
  prometheus::Family<prometheus::Gauge>* geo_coefficient_;
  prometheus::Gauge* db_bytes_;
  prometheus::Gauge* refresh_seconds_;
  prometheus::Counter* refresh_failures_;
  // The failure log's pacing (under mu_).
  std::optional<TimePoint> last_failure_log_;
  std::uint64_t failures_unlogged_ = 0; // failures since the last line that reported one
  std::uint64_t failing_for_ = 0;       // consecutive failed refreshes
  bool failure_logged_ = false;         // a line reported a failure of the current streak
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
