#include "metrics/observatory_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "core/types/net_address.hpp"
#include "storage/database.hpp"
#include "storage/queries.hpp"

namespace seedscope::metrics {

namespace {

const double kScoreBuckets[] = {0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
const double kDegreeBuckets[] = {0, 1, 2, 5, 10, 20, 50, 100, 250};

std::string bucket_label(double b) { return fmt::format("{}", b); }

prometheus::Family<prometheus::Gauge>* gauge(prometheus::Registry& r, const std::string& name,
                                             const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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
                                       std::chrono::milliseconds interval,
                                       std::size_t max_networks)
    : registry_(std::move(registry)),
      db_file_(std::move(db_file)),
      ns_(ns),
      interval_(interval),
      max_networks_(max_networks) {
  auto& r = *registry_;
  nodes_ = gauge(r, ns + "_network_known_nodes",
                 "Nodes whose NodeInfo reached the crawler, by network");
  reachable_ = gauge(r, ns + "_network_reachable_nodes",
                     "Nodes verified (handshake, protocol kept) at their last contact");
  misbehaving_ = gauge(r, ns + "_network_misbehaving_nodes",
                       "Nodes that broke the protocol after the handshake at their last contact");
  addresses_ = gauge(r, ns + "_network_addresses",
                     "Addresses filed under the network (the node's own, or its advertiser's)");
  by_version_ = gauge(r, ns + "_network_nodes_by_version",
                      "Nodes by software version (the 20 most common; the rest as other)");
  by_protocol_ = gauge(r, ns + "_network_nodes_by_protocol", "Nodes by p2p and block protocol version");
  with_rpc_ = gauge(r, ns + "_network_nodes_with_rpc", "Nodes advertising an RPC address");
  by_tx_index_ = gauge(r, ns + "_network_nodes_by_tx_index", "Nodes by tx_index setting");
  groups_ = gauge(r, ns + "_network_ip_groups", "Distinct /16 (IPv6: /32) groups of reachable nodes");
  churn_ = gauge(r, ns + "_network_churn_nodes",
                 "Nodes first seen (joined) or last reached (left) within the window");
  reliability_ = gauge(r, ns + "_network_reliability_nodes",
                       "Nodes whose reliability score is at most at_most (cumulative; not a histogram)");
  edges_ = gauge(r, ns + "_topology_edges", "Edges of the advertised-by graph");
  in_degree_ = gauge(r, ns + "_topology_in_degree_nodes",
                     "Nodes advertised by at most at_most others (cumulative; not a histogram)");
  out_degree_ = gauge(r, ns + "_topology_out_degree_nodes",
                      "Nodes advertising at most at_most others (cumulative; not a histogram)");
  unadvertised_ = gauge(r, ns + "_topology_unadvertised_nodes", "Known nodes no node advertises");
  scc_ = gauge(r, ns + "_topology_largest_scc_nodes",
               "Nodes in the largest strongly connected component of the advertised-by graph");
  db_bytes_ = &gauge(r, ns + "_storage_database_bytes", "Size of the database and its WAL")->Add({});
  refresh_seconds_ = &gauge(r, ns + "_observatory_refresh_seconds",
                            "Time the last network/topology recomputation took")->Add({});
  process_cpu_ = &prometheus::BuildCounter()
                      .Name("process_cpu_seconds_total")
                      .Help("Total user and system CPU time spent in seconds")
                      .Register(r)
                      .Add({});
  process_rss_ = &gauge(r, "process_resident_memory_bytes", "Resident memory size in bytes")->Add({});
  process_vsize_ = &gauge(r, "process_virtual_memory_bytes", "Virtual memory size in bytes")->Add({});
  process_fds_ = &gauge(r, "process_open_fds", "Number of open file descriptors")->Add({});
  process_max_fds_ = &gauge(r, "process_max_fds", "Maximum number of open file descriptors")->Add({});
  process_start_ = &gauge(r, "process_start_time_seconds",
                          "Start time of the process since the Unix epoch in seconds")->Add({});
  process_start_->Set(now_seconds());
  thread_ = std::thread([this] { run(); });
}

ObservatoryMetrics::~ObservatoryMetrics() {
  {
    std::lock_guard lock(wait_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ObservatoryMetrics::run() {
  // Warm-up: 1 s, 2 s, 4 s, ... until the interval, so dashboards fill soon after start.
  std::chrono::milliseconds wait(1000);
  for (;;) {
    refresh();
    std::unique_lock lock(wait_mu_);
    if (wake_.wait_for(lock, std::min(wait, interval_), [&] { return stopping_; })) return;
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
  std::error_code ec;
  double bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(db_file_.string() + suffix, ec);
    if (!ec) bytes += double(size);
  }
  db_bytes_->Set(bytes);
  current_.clear();
  try {
    auto db = storage::Database::open_read_only(db_file_);
    const double now = now_seconds();
    // The largest networks by known nodes (chain IDs come from peers: their number is not
    // ours to bound), with the counts stats and the API show.
    std::vector<std::string> networks;
    for (const auto& n : storage::network_counts(db)) {
      if (networks.size() >= max_networks_) break;
      networks.push_back(n.network);
      const Labels l{{"network", n.network}};
      set(nodes_, l, double(n.nodes));
      set(reachable_, l, double(n.reachable));
      set(misbehaving_, l, double(n.misbehaving));
      set(addresses_, l, double(n.addresses));
    }
    for (const auto& net : networks) {
      {
        auto st = db.prepare("SELECT version, count(*) FROM nodes WHERE network = ?1 GROUP BY version ORDER BY 2 DESC");
        st.bind(1, net);
        int rank = 0;
        double other = 0;
        while (st.step()) {
          if (++rank <= 20) set(by_version_, {{"network", net}, {"version", st.column_text(0)}}, double(st.column_int(1)));
          else other += double(st.column_int(1));
        }
        if (other > 0) set(by_version_, {{"network", net}, {"version", "other"}}, other);
      }
      {
        auto st = db.prepare("SELECT p2p_version, block_version, count(*) FROM nodes WHERE network = ?1 GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20");
        st.bind(1, net);
        while (st.step())
          set(by_protocol_, {{"network", net}, {"p2p", std::to_string(st.column_int(0))}, {"block", std::to_string(st.column_int(1))}},
              double(st.column_int(2)));
      }
      {
        auto st = db.prepare("SELECT sum(rpc_address <> ''), sum(tx_index = 'on'), sum(tx_index = 'off'), "
                             "sum(tx_index NOT IN ('on', 'off')) FROM nodes WHERE network = ?1");
        st.bind(1, net);
        if (st.step()) {
          set(with_rpc_, {{"network", net}}, double(st.column_int(0)));
          set(by_tx_index_, {{"network", net}, {"tx_index", "on"}}, double(st.column_int(1)));
          set(by_tx_index_, {{"network", net}, {"tx_index", "off"}}, double(st.column_int(2)));
          set(by_tx_index_, {{"network", net}, {"tx_index", "other"}}, double(st.column_int(3)));
        }
      }
      {
        auto st = db.prepare("SELECT ip FROM addresses WHERE network = ?1 AND state = 'reachable'");
        st.bind(1, net);
        std::set<std::string> groups;
        while (st.step())
          if (auto ip = IpAddress::parse(st.column_text(0))) groups.insert(group_key(NetAddress{"", *ip, 1}, false));
        set(groups_, {{"network", net}}, double(groups.size()));
      }
      for (auto [window, secs] : {std::pair<const char*, double>{"1h", 3600.0}, {"1d", 86400.0}}) {
        auto joined = db.prepare("SELECT count(*) FROM nodes WHERE network = ?1 AND first_seen >= ?2");
        joined.bind(1, net).bind_real(2, now - secs);
        if (joined.step()) set(churn_, {{"network", net}, {"direction", "joined"}, {"window", window}}, double(joined.column_int(0)));
        // Left: reached within the previous window, not since the window began.
        auto left = db.prepare("SELECT count(DISTINCT id) FROM addresses WHERE network = ?1 AND state <> 'reachable' "
                               "AND last_success >= ?2 AND last_success < ?3");
        left.bind(1, net).bind_real(2, now - 2 * secs).bind_real(3, now - secs);
        if (left.step()) set(churn_, {{"network", net}, {"direction", "left"}, {"window", window}}, double(left.column_int(0)));
      }
      {
        auto st = db.prepare("SELECT score FROM availability WHERE network = ?1");
        st.bind(1, net);
        std::vector<double> scores;
        while (st.step()) scores.push_back(st.column_double(0));
        for (double b : kScoreBuckets)
          set(reliability_, {{"network", net}, {"at_most", bucket_label(b)}},
              double(std::count_if(scores.begin(), scores.end(), [&](double s) { return s <= b; })));
        set(reliability_, {{"network", net}, {"at_most", "+Inf"}}, double(scores.size()));
      }
      {
        // The advertised-by graph between node IDs of this network.
        std::unordered_map<std::string, std::uint32_t> index;
        auto id_of = [&](const std::string& id) {
          auto [it, inserted] = index.emplace(id, static_cast<std::uint32_t>(index.size()));
          return it->second;
        };
        {
          auto st = db.prepare("SELECT id FROM nodes WHERE network = ?1");
          st.bind(1, net);
          while (st.step()) id_of(st.column_text(0));
        }
        std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
        auto st = db.prepare("SELECT DISTINCT source_id, target_id FROM advertised WHERE network = ?1");
        st.bind(1, net);
        while (st.step()) {
          const auto a = id_of(st.column_text(0));
          const auto b = id_of(st.column_text(1));
          if (a != b) edges.push_back({a, b});
        }
        std::vector<std::vector<std::uint32_t>> adj(index.size());
        std::vector<std::uint32_t> in(index.size(), 0), out(index.size(), 0);
        for (auto [a, b] : edges) {
          adj[a].push_back(b);
          ++out[a];
          ++in[b];
        }
        set(edges_, {{"network", net}}, double(edges.size()));
        for (double b : kDegreeBuckets) {
          set(in_degree_, {{"network", net}, {"at_most", bucket_label(b)}},
              double(std::count_if(in.begin(), in.end(), [&](auto d) { return d <= b; })));
          set(out_degree_, {{"network", net}, {"at_most", bucket_label(b)}},
              double(std::count_if(out.begin(), out.end(), [&](auto d) { return d <= b; })));
        }
        set(in_degree_, {{"network", net}, {"at_most", "+Inf"}}, double(in.size()));
        set(out_degree_, {{"network", net}, {"at_most", "+Inf"}}, double(out.size()));
        // Known nodes (handshaken) that nobody advertises.
        auto un = db.prepare("SELECT count(*) FROM nodes n WHERE network = ?1 AND NOT EXISTS "
                             "(SELECT 1 FROM advertised e WHERE e.target_id = n.id)");
        un.bind(1, net);
        if (un.step()) set(unadvertised_, {{"network", net}}, double(un.column_int(0)));
        set(scc_, {{"network", net}}, double(largest_scc(adj)));
      }
    }
  } catch (const std::exception&) {
    return false;
  }
  // Series of networks or versions that are gone.
  for (auto& [family, labels] : seen_)
    for (const auto& l : labels)
      if (current_[family].count(l) == 0) family->Remove(&family->Add(l));
  seen_ = current_;
  refresh_seconds_->Set(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  ++refreshes_;
  return true;
}

} // namespace seedscope::metrics
