// Crawler figures on simulated networks of 1,000 and 10,000 nodes (40 % unreachable, split
// across the kinds; netsim runs in a child process on the same cores): wall time until 99 %
// of the reachable nodes of every network are known and contacted, crawler CPU per contact
// next to the raw crypto cost of one handshake side, peak RSS, database rows per second; and
// for the same network, how long the Go seed node's schedule needs for the same coverage
// (a model: one GetSelection of at most 250 addresses per 30 s round, dialed one after
// another with Go's 3 s dial and 20 s handshake timeouts).
// Usage: crawl_bench [nodes ...]   (default: 1000 10000)
#include <sodium.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "bench_util.hpp"

#include "core/crypto/keys.hpp"
#include "crawler/engine/crawler.hpp"
#include "crawler/netsim/netsim.hpp"

using namespace seedscope;
using netsim::Behaviour;

namespace {

using bench::cpu_seconds;

double thread_cpu_seconds() { return cpu_seconds(RUSAGE_THREAD); }

netsim::Scenario scenario(std::size_t nodes) {
  // Unreachable (no handshake): refused .24, blackhole .03, silent .04, slowloris .02,
  // bad_signature .02, id_mismatch .02, incompatible_version .03 = 40 %.
  std::string text = "seed = 21\naddress_offset = 100000\n";
  const std::size_t a = nodes * 6 / 10, b = nodes - a;
  for (auto [chain, n] : {std::pair<const char*, std::size_t>{"bench-a", a}, {"bench-b", b}}) {
    text += fmt::format(
        "[[network]]\nchain_id = \"{}\"\nnodes = {}\nknown_peers = 20\nstale_addresses = 2\n"
        "seed_nodes = 2\n[network.fractions]\nrefused = 0.24\nblackhole = 0.03\nsilent = 0.04\n"
        "slowloris = 0.02\nbad_signature = 0.02\nid_mismatch = 0.02\nincompatible_version = 0.03\n"
        "incompatible_network = 0.01\ngarbage_after_handshake = 0.01\nunsolicited_addrs = 0.01\n"
        "oversized_message = 0.01\nprivate_and_duplicate_addrs = 0.01\n",
        chain, n);
  }
  return netsim::parse_scenario(text, "crawl-bench");
}

// One handshake side's public-key work: X25519 key pair and shared secret, Ed25519 sign and
// verify (the symmetric part is negligible next to it).
double crypto_side_us() {
  unsigned char pk[32], sk[32], peer_pk[32], peer_sk[32], shared[32];
  unsigned char epk[32], esk[64], sig[64], msg[32] = {1};
  crypto_box_keypair(peer_pk, peer_sk);
  crypto_sign_keypair(epk, esk);
  const int reps = 2000;
  const double c0 = cpu_seconds();
  for (int i = 0; i < reps; ++i) {
    crypto_box_keypair(pk, sk);
    if (crypto_scalarmult(shared, sk, peer_pk) != 0) std::abort();
    crypto_sign_detached(sig, nullptr, msg, sizeof msg, esk);
    if (crypto_sign_verify_detached(sig, msg, sizeof msg, epk) != 0) std::abort();
    msg[0] = shared[0];
  }
  return (cpu_seconds() - c0) / reps * 1e6;
}

// The Go seed's schedule on the same network: seconds until 99 % of reachable nodes were
// dialed successfully (capped at 48 h of simulated time).
double go_seed_model(const netsim::SimNetwork& net,
                     const std::map<std::string, std::size_t>& reachable) {
  std::mt19937_64 rng(7);
  struct Known {
    std::uint32_t node = 0;
    bool stale = false;
    int attempts = 0;
    double last_dialed = -1e9;
    double last_crawled = -1e9;
  };
  std::map<std::string, std::uint32_t> index;
  for (const auto& n : net.nodes()) index[n.id] = n.index;
  std::vector<Known> book;
  std::set<std::string> in_book;
  auto add = [&](const NetAddress& a) {
    if (!a.loopback() || !in_book.insert(a.id).second) return;
    auto it = index.find(a.id);
    Known k;
    k.stale = it == index.end();
    if (!k.stale) k.node = it->second;
    book.push_back(k);
  };
  for (const auto& a : net.seed_addresses()) add(*a.net_address());
  std::map<std::string, std::size_t> reached;
  std::set<std::uint32_t> done;
  std::size_t target_total = 0, reached_total = 0;
  for (const auto& [c, n] : reachable) target_total += std::size_t(std::ceil(0.99 * double(n)));
  double t = 0;
  while (t < 48 * 3600.0) {
    const double round_start = t;
    // GetSelection: 23 % of the book, at least 32, at most 250, uniformly at random.
    std::size_t want = std::max(std::min<std::size_t>(32, book.size()), book.size() * 23 / 100);
    want = std::min<std::size_t>(want, 250);
    std::vector<std::size_t> order(book.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(want);
    for (std::size_t i : order) {
      Known& k = book[i];
      if (round_start - k.last_crawled < 120) continue; // minTimeBetweenCrawls
      k.last_crawled = round_start;
      // dialPeer's back-off: too early after failures.
      if (k.attempts > 0 && t - k.last_dialed < double(1 << std::min(k.attempts, 20))) continue;
      k.last_dialed = t;
      if (k.stale) {
        t += 0.001;
        ++k.attempts;
        continue;
      } // refused
      const auto& n = net.node(k.node);
      switch (n.behaviour) {
      case Behaviour::kRefused:
        t += 0.001;
        ++k.attempts;
        continue;
      case Behaviour::kBlackhole:
        t += 3;
        ++k.attempts;
        continue;
      case Behaviour::kSilent:
      case Behaviour::kSlowloris:
        t += 3 + 20;
        ++k.attempts;
        continue; // connect, then 20 s
      case Behaviour::kBadSignature:
      case Behaviour::kIdMismatch:
      case Behaviour::kIncompatibleVersion:
        t += 0.005;
        ++k.attempts;
        continue;
      default: break;
      }
      t += 0.005;
      k.attempts = 0;
      if (done.insert(n.index).second) {
        const auto chain = net.node_info(n).network;
        if (reachable.count(chain)) {
          ++reached[chain];
          ++reached_total;
        }
      }
      for (const auto& a : net.pex_answer(n)) add(a);
    }
    bool all = true;
    for (const auto& [c, n] : reachable) all = all && double(reached[c]) >= 0.99 * double(n);
    if (all) return t;
    t = std::max(round_start + 30, t);
  }
  (void)target_total;
  return -1;
}

void run(std::size_t nodes) {
  netsim::SimNetwork net(scenario(nodes));
  std::map<std::string, std::size_t> reachable;
  std::map<std::string, std::set<std::string>> reachable_ids;
  const std::vector<PeerAddress> seeds = net.seed_addresses();
  for (const auto& n : net.nodes()) {
    if (netsim::verified_in_own_network(n.behaviour)) {
      ++reachable[net.chain_id(n)];
      reachable_ids[net.chain_id(n)].insert(n.id);
    }
  }
  std::size_t unreachable = 0;
  for (const auto& n : net.nodes()) unreachable += netsim::completes_handshake(n.behaviour) ? 0 : 1;

  // netsim in a child process.
  int ready[2];
  if (pipe(ready) != 0) std::abort();
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    runtime::Loop loop;
    netsim::Netsim sim(loop, net);
    sim.start();
    if (write(ready[1], "r", 1) != 1) _exit(1);
    close(ready[1]);
    loop.run();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  if (read(ready[0], &c, 1) != 1) {
    fmt::print("netsim child failed to start\n");
    return;
  }
  close(ready[0]);

  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("seedscope-crawl-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  const auto db_file = dir / "bench.db";
  storage::load_observatory(db_file);
  storage::ObservatoryWriter writer(db_file);
  runtime::Loop loop;
  engine::CrawlerOptions o;
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.our_info.moniker = "crawl-bench";
  o.our_info.version = "seedscope-bench";
  o.our_info.listen_addr = "tcp://127.0.0.1:0";
  o.laddr = "tcp://127.0.0.1:0";
  o.loopback_only = true;
  o.observer = &writer;
  engine::Crawler crawler(loop, o);
  for (const auto& s : seeds) crawler.add_seed(s);
  const double c0 = cpu_seconds();
  const double m0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  crawler.start();
  double covered_at = -1;
  runtime::Timer tick(loop);
  std::function<void()> check = [&] {
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bool all = true;
    for (const auto& [chain, ids] : reachable_ids) {
      std::size_t hit = 0;
      auto it = crawler.nodes().find(chain);
      if (it != crawler.nodes().end())
        for (const auto& id : ids) hit += it->second.count(id);
      all = all && double(hit) >= 0.99 * double(ids.size());
    }
    if (all || el > 300) {
      covered_at = all ? el : -1;
      crawler.stop();
      loop.stop();
      return;
    }
    tick.start(Millis(200), check);
  };
  tick.start(Millis(200), check);
  loop.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double main_cpu = thread_cpu_seconds() - m0;
  writer.flush();
  const double cpu = cpu_seconds() - c0;
  const auto st = crawler.stats();
  const auto ws = writer.stats();
  writer.stop();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  std::uint64_t handshaken = 0;
  for (const auto& [o2, n] : st.outcomes)
    if (auto oc = o2; oc == "ok" || oc == "full" || oc == "no_answer" || oc == "misbehaving" ||
                      oc == "incompatible" || oc == "id_mismatch")
      handshaken += n;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double side = crypto_side_us();
  fmt::print("crawl {:>5} nodes ({} unreachable = {:.0f} %, {} networks, {} seeds): 99 % of "
             "reachable nodes contacted in {:.2f} s; {} contacts ({} handshakes) in {:.2f} s\n",
             nodes, unreachable, 100.0 * double(unreachable) / double(nodes), reachable.size(),
             seeds.size(), covered_at, st.contacts, handshaken, wall);
  fmt::print("  crawler CPU {:.2f} s: event loop {:.2f} s + database writer thread {:.2f} s\n", cpu,
             main_cpu, cpu - main_cpu);
  fmt::print("  event loop: {:.0f} us per contact, {:.0f} us per handshaken contact; raw crypto "
             "of one handshake side {:.0f} us (ratio {:.2f} per handshaken contact)\n",
             main_cpu / double(st.contacts) * 1e6, main_cpu / double(handshaken) * 1e6, side,
             main_cpu / double(handshaken) * 1e6 / side);
  fmt::print("  whole process: {:.0f} us per handshaken contact (ratio {:.2f})\n",
             cpu / double(handshaken) * 1e6, cpu / double(handshaken) * 1e6 / side);
  fmt::print("  peak RSS {:.1f} MiB (crawler process); database {} rows in {} transactions, "
             "{:.0f} rows/s over the crawl, {:.0f} rows/s of writer busy time\n",
             double(ru.ru_maxrss) / 1024.0, ws.rows_written, ws.batches,
             double(ws.rows_written) / wall,
             ws.total_batch_ms > 0 ? double(ws.rows_written) / (ws.total_batch_ms / 1000) : 0.0);
  const double go = go_seed_model(net, reachable);
  if (go < 0) fmt::print("  Go seed schedule (model): 99 % not reached in 48 h\n");
  else
    fmt::print("  Go seed schedule (model): 99 % after {:.0f} s ({:.1f} h), {:.0f}x longer\n", go,
               go / 3600, covered_at > 0 ? go / covered_at : 0.0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

} // namespace

int main(int argc, char** argv) {
  crypto::init_sodium();
  std::vector<std::size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::strtoul(argv[i], nullptr, 10));
  if (sizes.empty()) sizes = {1000, 10000};
  for (auto n : sizes) run(n);
  return 0;
}
