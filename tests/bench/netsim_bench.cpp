// netsim figures: start-up time and RSS for 1,000 and 10,000 simulated nodes (each in its own
// process, so RSS is not shared), and handshakes per second netsim sustains as a responder
// when this process dials its normal nodes with many concurrent Transport dials.
// Usage: netsim_bench [seconds of dialing, default 5] [concurrency, default 200]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "bench_util.hpp"

#include "core/crypto/keys.hpp"
#include "crawler/netsim/netsim.hpp"

using namespace seedscope;

namespace {

using bench::cpu_seconds;

// Runs in a child: builds and starts the preset, prints its figures.
void startup_figures(const char* preset) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto t0 = std::chrono::steady_clock::now();
    netsim::SimNetwork net(netsim::preset(preset));
    const auto t1 = std::chrono::steady_clock::now();
    runtime::Loop loop;
    netsim::Netsim sim(loop, net);
    sim.start();
    const auto t2 = std::chrono::steady_clock::now();
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    fmt::print("netsim {:>5} nodes ({}): model {:.2f} s + listeners {:.2f} s = start-up {:.2f} s, "
               "{} listening, peak RSS {:.1f} MiB\n",
               net.nodes().size(), preset, std::chrono::duration<double>(t1 - t0).count(),
               std::chrono::duration<double>(t2 - t1).count(),
               std::chrono::duration<double>(t2 - t0).count(), sim.stats().online,
               double(ru.ru_maxrss) / 1024.0);
    std::fflush(stdout);
    sim.stop();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

} // namespace

int main(int argc, char** argv) {
  crypto::init_sodium();
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  const std::size_t concurrency = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 200;
  startup_figures("demo");
  startup_figures("large");

  // Responder throughput: the demo preset's normal nodes, dialed round-robin.
  netsim::SimNetwork net(netsim::preset("demo"));
  runtime::Loop loop;
  netsim::Netsim sim(loop, net);
  sim.start();
  std::vector<PeerAddress> targets;
  for (const auto& n : net.nodes())
    if (n.behaviour == netsim::Behaviour::kNormal && sim.online(n.index)) // churn: some are off
      targets.push_back(parse_peer_address(n.address().to_string()).value());
  runtime::Transport dialer(loop,
                            std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate()));
  runtime::DialOptions dopt;
  dopt.upgrade.our_info.moniker = "bench";
  dopt.upgrade.our_info.listen_addr = "tcp://127.0.0.1:1";
  dopt.upgrade.our_info.channels = {0x00};
  dopt.upgrade.adopt_peer_network = true;
  std::size_t next = 0, ok = 0, failed = 0, in_flight = 0;
  bool stopping = false;
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::function<void()> launch = [&] {
    while (!stopping && in_flight < concurrency) {
      ++in_flight;
      dialer.dial(targets[next++ % targets.size()], dopt, [&](runtime::UpgradeResult r) {
        --in_flight;
        (r.ok() ? ok : failed)++;
        if (r.ok()) r.connection->abort();
        launch();
      });
    }
  };
  launch();
  runtime::Timer end(loop);
  end.start(Millis(static_cast<long>(seconds * 1000)), [&] {
    stopping = true;
    dialer.close();
    sim.stop();
  });
  loop.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  fmt::print("responder: {} handshakes in {:.2f} s = {:.0f} handshakes/s ({} failed), "
             "{} concurrent dials; CPU {:.2f} s for both sides = {:.0f} µs per handshake "
             "(both sides, one process, one core)\n",
             ok, wall, double(ok) / wall, failed, concurrency, cpu, cpu / double(ok) * 1e6);
  return 0;
}
