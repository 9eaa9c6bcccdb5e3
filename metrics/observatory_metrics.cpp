#include "metrics/observatory_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>

#include "storage/database.hpp"
#include "storage/queries.hpp"

namespace seedscope::metrics {

namespace {

const double kScoreBuckets[] = {0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
const double kDegreeBuckets[] = {0, 1, 2, 5, 10, 20, 50, 100, 250};
constexpr std::size_t kTopVersions = 20;  // per network; the rest as "other"
constexpr std::size_t kTopGeo = 20;       // countries, ASNs, organisations per network
constexpr std::size_t kTopProtocols = 20; // (p2p, block) pairs per network
const std::pair<const char*, std::chrono::seconds> kChurnWindows[] = {
    {"1h", std::chrono::hours(1)}, {"1d", std::chrono::hours(24)}};
constexpr auto kFailureLogInterval = std::chrono::minutes(1);

std::string bucket_label(double b) { return fmt::format("{}", b); }

prometheus::Family<prometheus::Gauge>* gauge(prometheus::Registry& r, const std::string& name,
                                             const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class SystemClock final : public Clock {
public:
  TimePoint mono() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::steady_clock::now());
  }
  WallTime wall() const override {
    return std::chrono::time_point_cast<WallTime::duration>(std::chrono::system_clock::now());
  }
};
const SystemClock kSystemClock;

// Cumulative bucket counts: how many of `values` are at most each bound.
template <typename T> double at_most(const std::vector<T>& values, double bound) {
  return double(
      std::count_if(values.begin(), values.end(), [&](T v) { return double(v) <= bound; }));
}

} // namespace

std::size_t largest_scc(const std::vector<std::vector<std::uint32_t>>& adj) {
  const std::uint32_t n = static_cast<std::uint32_t>(adj.size());
  constexpr std::uint32_t kUnset = 0xffffffff;
  std::vector<std::uint32_t> index(n, kUnset), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<std::uint32_t> stack;
  std::vector<std::pair<std::uint32_t, std::size_t>> work; // node, next edge
  std::uint32_t next = 0;
  std::size_t best = 0;
  for (std::uint32_t root = 0; root < n; ++root) {
    if (index[root] != kUnset) continue;
    work.push_back({root, 0});
    while (!work.empty()) {
      auto& [v, i] = work.back();
      if (i == 0 && index[v] == kUnset) {
        index[v] = low[v] = next++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (i < adj[v].size()) {
        const std::uint32_t w = adj[v][i++];
        if (index[w] == kUnset) {
          work.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::size_t size = 0;
        std::uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          ++size;
        } while (w != v);
        best = std::max(best, size);
      }
      const std::uint32_t done = v;
      work.pop_back();
      if (!work.empty()) {
        const std::uint32_t parent = work.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
    }
  }
  return best;
}

ObservatoryMetrics::ObservatoryMetrics(std::shared_ptr<prometheus::Registry> registry,
                                       std::filesystem::path db_file, const std::string& ns,
                                       std::chrono::milliseconds interval, std::size_t max_networks)
    : ObservatoryMetrics(std::move(registry), std::move(db_file),
                         ObservatoryMetricsOptions{ns, interval, max_networks, {}, nullptr, true}) {
}

ObservatoryMetrics::ObservatoryMetrics(std::shared_ptr<prometheus::Registry> registry,
                                       std::filesystem::path db_file,
                                       ObservatoryMetricsOptions options)
    : registry_(std::move(registry)),
      db_file_(std::move(db_file)),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &kSystemClock) {
  const std::string& ns = options_.ns;
  auto& r = *registry_;
  nodes_ =
      gauge(r, ns + "_network_known_nodes", "Nodes whose NodeInfo reached the crawler, by network");
  reachable_ = gauge(r, ns + "_network_reachable_nodes",
                     "Nodes verified (handshake, protocol kept) at their last contact");
  misbehaving_ = gauge(r, ns + "_network_misbehaving_nodes",
                       "Nodes that broke the protocol after the handshake at their last contact");
  addresses_ = gauge(r, ns + "_network_addresses",
                     "Addresses filed under the network (the node's own, or its advertiser's)");
  by_version_ = gauge(r, ns + "_network_nodes_by_version",
                      "Nodes by software version (the 20 most common; the rest as other)");
  by_protocol_ =
      gauge(r, ns + "_network_nodes_by_protocol", "Nodes by p2p and block protocol version");
  with_rpc_ = gauge(r, ns + "_network_nodes_with_rpc", "Nodes advertising an RPC address");
  by_tx_index_ = gauge(r, ns + "_network_nodes_by_tx_index", "Nodes by tx_index setting");
  groups_ =
      gauge(r, ns + "_network_ip_groups", "Distinct /16 (IPv6: /32) groups of reachable nodes");
  churn_ = gauge(r, ns + "_network_churn_nodes",
                 "Nodes first seen (joined) or last reached (left) within the window");
  reliability_ =
      gauge(r, ns + "_network_reliability_nodes",
            "Nodes whose reliability score is at most at_most (cumulative; not a histogram)");
  edges_ = gauge(r, ns + "_topology_edges", "Edges of the advertised-by graph");
  in_degree_ = gauge(r, ns + "_topology_in_degree_nodes",
                     "Nodes advertised by at most at_most others (cumulative; not a histogram)");
  out_degree_ = gauge(r, ns + "_topology_out_degree_nodes",
                      "Nodes advertising at most at_most others (cumulative; not a histogram)");
  unadvertised_ = gauge(r, ns + "_topology_unadvertised_nodes", "Known nodes no node advertises");
  scc_ = gauge(r, ns + "_topology_largest_scc_nodes",
               "Nodes in the largest strongly connected component of the advertised-by graph");
  by_country_ = gauge(r, ns + "_network_nodes_by_country",
                      "Reachable nodes by country (ISO code; the 20 largest, other, unknown)");
  by_asn_ = gauge(r, ns + "_network_nodes_by_asn",
                  "Reachable nodes by autonomous system (the 20 largest, other, unknown)");
  by_as_org_ = gauge(r, ns + "_network_nodes_by_as_org",
                     "Reachable nodes by AS organisation (the 20 largest, other, unknown)");
  geo_distinct_ = gauge(r, ns + "_network_geo_distinct",
                        "Distinct countries, ASNs or AS organisations of reachable nodes");
  geo_coefficient_ =
      gauge(r, ns + "_network_geo_coefficient",
            "Fewest countries, ASNs or AS organisations holding a third or half of the located "
            "reachable nodes");
  db_bytes_ =
      &gauge(r, ns + "_storage_database_bytes", "Size of the database and its WAL")->Add({});
  refresh_seconds_ = &gauge(r, ns + "_observatory_refresh_seconds",
                            "Time the last network/topology recomputation took")
                          ->Add({});
  refresh_failures_ = &prometheus::BuildCounter()
                           .Name(ns + "_observatory_refresh_failures_total")
                           .Help("Network/topology recomputations that failed (database "
                                 "unreadable, a query failed)")
                           .Register(r)
                           .Add({});
  process_cpu_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("Total user and system CPU time spent in seconds")
                      .Register(r)
                      .Add({});
  process_rss_ =
      &gauge(r, "process_resident_memory_bytes", "Resident memory size in bytes")->Add({});
  process_vsize_ =
      &gauge(r, "process_virtual_memory_bytes", "Virtual memory size in bytes")->Add({});
  process_fds_ = &gauge(r, "process_open_fds", "Number of open file descriptors")->Add({});
  process_max_fds_ =
      &gauge(r, "process_max_fds", "Maximum number of open file descriptors")->Add({});
  process_start_ = &gauge(r, "process_start_time_seconds",
                          "Start time of the process since the Unix epoch in seconds")
                        ->Add({});
  process_start_->Set(now_seconds());
  if (options_.background) thread_ = std::thread([this] { run(); });
}

ObservatoryMetrics::~ObservatoryMetrics() {
  {
    std::lock_guard lock(wait_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ObservatoryMetrics::run() {
  // Warm-up: 1 s, 2 s, 4 s, ... until the interval, so dashboards fill soon after start.
  std::chrono::milliseconds wait(1000);
  for (;;) {
    refresh();
    std::unique_lock lock(wait_mu_);
    if (wake_.wait_for(lock, std::min(wait, options_.interval), [&] { return stopping_; })) return;
    wait *= 2;
  }
}

void ObservatoryMetrics::set(prometheus::Family<prometheus::Gauge>* family, const Labels& labels,
                             double value) {
  family->Add(labels).Set(value);
  current_[family].insert(labels);
}

void ObservatoryMetrics::refresh_process() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (cpu > cpu_seen_) process_cpu_->Increment(cpu - cpu_seen_);
  cpu_seen_ = std::max(cpu_seen_, cpu);
  std::ifstream statm("/proc/self/statm");
  double pages_total = 0, pages_rss = 0;
  if (statm >> pages_total >> pages_rss) {
    const double page = double(sysconf(_SC_PAGESIZE));
    process_vsize_->Set(pages_total * page);
    process_rss_->Set(pages_rss * page);
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  process_fds_->Set(double(fds));
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) process_max_fds_->Set(double(rl.rlim_cur));
}

bool ObservatoryMetrics::refresh() {
  std::lock_guard lock(mu_);
  const auto t0 = std::chrono::steady_clock::now();
  refresh_process();
  db_bytes_->Set(double(storage::database_bytes(db_file_)));
  current_.clear();
  try {
    auto db = storage::Database::open_read_only(db_file_);
    refresh_networks(db);
  } catch (const std::exception& e) {
    refresh_failed(e.what());
    return false;
  }
  remove_stale_series();
  refresh_succeeded();
  refresh_seconds_->Set(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  ++refreshes_;
  return true;
}

void ObservatoryMetrics::refresh_networks(storage::Database& db) {
  const WallTime now = clock_->wall();
  const auto networks = set_counts(storage::network_counts(db));
  const bool located = storage::located_addresses(db) > 0;
  std::unordered_map<std::string, storage::NetworkVersions> versions;
  for (auto& v : storage::versions_by_network(db, kTopVersions))
    versions.emplace(v.network, std::move(v));
  for (const auto& net : networks) {
    if (auto it = versions.find(net); it != versions.end()) set_versions(it->second);
    set_protocols(net, storage::protocol_versions(db, net, kTopProtocols));
    set_services(net, storage::node_services(db, net));
    set_ip_groups(net, storage::reachable_ip_groups(db, net));
    for (const auto& [label, window] : kChurnWindows)
      set_churn(net, label, storage::churn(db, net, now, window));
    set_reliability(net, storage::reliability_scores(db, net));
    set_topology(net, storage::advertised_graph(db, net));
    if (located) set_geo(storage::geo_concentration(db, net, kTopGeo));
  }
}

void ObservatoryMetrics::set_geo(const storage::NetworkGeo& geo) {
  const struct {
    const char* attribute;
    prometheus::Family<prometheus::Gauge>* family;
    const geo::Concentration& c;
  } parts[] = {{"country", by_country_, geo.by_country},
               {"asn", by_asn_, geo.by_asn},
               {"as_org", by_as_org_, geo.by_org}};
  for (const auto& p : parts) {
    const std::string net = geo.network;
    for (const auto& s : p.c.top)
      set(p.family, {{"network", net}, {p.attribute, s.key}}, double(s.nodes));
    set(p.family, {{"network", net}, {p.attribute, "other"}}, double(p.c.other));
    set(p.family, {{"network", net}, {p.attribute, "unknown"}}, double(p.c.unknown));
    set(geo_distinct_, {{"network", net}, {"attribute", p.attribute}}, double(p.c.distinct));
    set(geo_coefficient_, {{"network", net}, {"attribute", p.attribute}, {"share", "third"}},
        double(p.c.to_third));
    set(geo_coefficient_, {{"network", net}, {"attribute", p.attribute}, {"share", "half"}},
        double(p.c.to_half));
  }
}

std::vector<std::string>
ObservatoryMetrics::set_counts(const std::vector<storage::NetworkCounts>& counts) {
  // The largest networks by known nodes (chain IDs come from peers: their number is not ours
  // to bound), with the counts stats and the API show.
  std::vector<std::string> networks;
  for (const auto& n : counts) {
    if (networks.size() >= options_.max_networks) break;
    networks.push_back(n.network);
    const Labels l{{"network", n.network}};
    set(nodes_, l, double(n.nodes));
    set(reachable_, l, double(n.reachable));
    set(misbehaving_, l, double(n.misbehaving));
    set(addresses_, l, double(n.addresses));
    set(with_rpc_, l, double(n.with_rpc));
  }
  return networks;
}

void ObservatoryMetrics::set_versions(const storage::NetworkVersions& versions) {
  for (const auto& v : versions.top)
    set(by_version_, {{"network", versions.network}, {"version", v.version}}, double(v.nodes));
  if (versions.other > 0)
    set(by_version_, {{"network", versions.network}, {"version", "other"}}, double(versions.other));
}

void ObservatoryMetrics::set_protocols(const std::string& net,
                                       const std::vector<storage::ProtocolCount>& protocols) {
  for (const auto& p : protocols)
    set(by_protocol_,
        {{"network", net}, {"p2p", std::to_string(p.p2p)}, {"block", std::to_string(p.block)}},
        double(p.nodes));
}

void ObservatoryMetrics::set_services(const std::string& net,
                                      const storage::NodeServices& services) {
  set(by_tx_index_, {{"network", net}, {"tx_index", "on"}}, double(services.tx_index_on));
  set(by_tx_index_, {{"network", net}, {"tx_index", "off"}}, double(services.tx_index_off));
  set(by_tx_index_, {{"network", net}, {"tx_index", "other"}}, double(services.tx_index_other));
}

void ObservatoryMetrics::set_ip_groups(const std::string& net, std::int64_t groups) {
  set(groups_, {{"network", net}}, double(groups));
}

void ObservatoryMetrics::set_churn(const std::string& net, const std::string& window,
                                   const storage::Churn& churn) {
  set(churn_, {{"network", net}, {"direction", "joined"}, {"window", window}},
      double(churn.joined));
  set(churn_, {{"network", net}, {"direction", "left"}, {"window", window}}, double(churn.left));
}

void ObservatoryMetrics::set_reliability(const std::string& net,
                                         const std::vector<double>& scores) {
  for (double b : kScoreBuckets)
    set(reliability_, {{"network", net}, {"at_most", bucket_label(b)}}, at_most(scores, b));
  set(reliability_, {{"network", net}, {"at_most", "+Inf"}}, double(scores.size()));
}

void ObservatoryMetrics::set_topology(const std::string& net,
                                      const storage::AdvertisedGraph& graph) {
  const std::size_t n = graph.ids.size();
  std::vector<std::vector<std::uint32_t>> adj(n);
  std::vector<std::uint32_t> in(n, 0), out(n, 0);
  for (auto [a, b] : graph.edges) {
    adj[a].push_back(b);
    ++out[a];
    ++in[b];
  }
  set(edges_, {{"network", net}}, double(graph.edges.size()));
  for (double b : kDegreeBuckets) {
    set(in_degree_, {{"network", net}, {"at_most", bucket_label(b)}}, at_most(in, b));
    set(out_degree_, {{"network", net}, {"at_most", bucket_label(b)}}, at_most(out, b));
  }
  set(in_degree_, {{"network", net}, {"at_most", "+Inf"}}, double(n));
  set(out_degree_, {{"network", net}, {"at_most", "+Inf"}}, double(n));
  set(unadvertised_, {{"network", net}}, double(graph.unadvertised));
  set(scc_, {{"network", net}}, double(largest_scc(adj)));
}

void ObservatoryMetrics::remove_stale_series() {
  for (auto& [family, labels] : seen_)
    for (const auto& l : labels)
      if (current_[family].count(l) == 0) family->Remove(&family->Add(l));
  seen_ = current_;
}

void ObservatoryMetrics::refresh_failed(const std::string& what) {
  refresh_failures_->Increment();
  // Series a failed refresh created must go at the next successful one if they are gone.
  for (const auto& [family, labels] : current_) seen_[family].insert(labels.begin(), labels.end());
  ++failing_for_;
  ++failures_unlogged_;
  const TimePoint now = clock_->mono();
  if (last_failure_log_ && now - *last_failure_log_ < kFailureLogInterval) return;
  last_failure_log_ = now;
  if (options_.log.enabled(LogLevel::error)) {
    // Open errors name the file already; query errors do not.
    const std::string file = db_file_.string() + ": ";
    options_.log.error("observatory metrics: refresh failed",
                       {{"db", db_file_.string()},
                        {"failures", failures_unlogged_},
                        {"err", what.rfind(file, 0) == 0 ? what.substr(file.size()) : what}});
  }
  failures_unlogged_ = 0;
  failure_logged_ = true;
}

void ObservatoryMetrics::refresh_succeeded() {
  if (failure_logged_)
    options_.log.info("observatory metrics: refresh works again",
                      {{"db", db_file_.string()}, {"failed_attempts", failing_for_}});
  failing_for_ = 0;
  failure_logged_ = false;
}

} // namespace seedscope::metrics
