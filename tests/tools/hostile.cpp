// seedscope-hostile: runs one attack of tests/support/hostile_peer against a node on loopback
// (refuses any other target) and prints what it did; with --honest N it also runs N honest
// clients meanwhile and prints their success rate and latencies. For the soak script and for
// operators testing their own seed:
//   seedscope-hostile --target ID@127.0.0.1:26656 --network simhub-1 --attack ping-flood
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "support/hostile_peer.hpp"

using namespace seedscope;
namespace hostile = seedscope::test::hostile;

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"seedscope-hostile: misbehaving peers against a node on loopback"};
  std::string target_text, network = "simhub-1", attack_text;
  std::size_t connections = 1, honest = 0, padding = 0;
  double duration_s = 10, rate = 0, timeout_s = 5;
  int source_octet = 66;
  app.add_option("--target", target_text, "ID@127.x.y.z:PORT (loopback only)")->required();
  app.add_option("--network", network, "the chain ID to claim")->capture_default_str();
  app.add_option("--attack", attack_text,
                 fmt::format("one of: {}", fmt::join(hostile::attack_names(), ", ")))
      ->required();
  app.add_option("--connections", connections, "connections in all")->capture_default_str();
  app.add_option("--duration", duration_s, "seconds each connection is held (churn: runs)")
      ->capture_default_str();
  app.add_option("--rate", rate, "connections opened per second (0: at once)")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "seconds for each connect/handshake")
      ->capture_default_str();
  app.add_option("--source-octet", source_octet, "connections come from 127.<octet>.x.y")
      ->check(CLI::Range(1, 254))
      ->capture_default_str();
  app.add_option("--padding", padding,
                 "half-handshake: pad the key message with this many bytes (at most ~1 MiB)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--honest", honest, "honest clients running meanwhile")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto parsed = parse_peer_address(target_text);
  if (!parsed.ok()) {
    std::fprintf(stderr, "seedscope-hostile: --target: %s\n", parsed.error().message().c_str());
    return 2;
  }
  hostile::Target target{*parsed, network, Millis(static_cast<long long>(timeout_s * 1000))};
  if (std::string why = hostile::loopback_problem(target.address); !why.empty()) {
    std::fprintf(stderr, "seedscope-hostile: %s\n", why.c_str());
    return 2;
  }
  auto attack = hostile::parse_attack(attack_text);
  if (!attack) {
    std::fprintf(stderr, "seedscope-hostile: --attack: unknown attack \"%s\" (one of: %s)\n",
                 attack_text.c_str(),
                 fmt::format("{}", fmt::join(hostile::attack_names(), ", ")).c_str());
    return 2;
  }
  if (connections == 0 || connections > 100'000 || duration_s <= 0 || duration_s > 3600) {
    std::fprintf(stderr, "seedscope-hostile: --connections 1..100000, --duration (0, 3600]\n");
    return 2;
  }
  hostile::AttackOptions o;
  o.attack = *attack;
  o.connections = connections;
  o.duration = Millis(static_cast<long long>(duration_s * 1000));
  o.rate = rate;
  o.source_octet = static_cast<std::uint8_t>(source_octet);
  o.ephemeral_padding = padding;

  std::unique_ptr<hostile::HonestLoad> load;
  if (honest > 0)
    load = std::make_unique<hostile::HonestLoad>(
        target, honest, Millis(100), o.duration + Millis(1000),
        static_cast<std::uint8_t>(source_octet == 10 ? 11 : 10));
  const hostile::AttackReport report = hostile::run_attack(target, o);
  std::printf("attack=%s target=%s network=%s connections=%zu duration_s=%g rate=%g %s\n",
              hostile::attack_name(o.attack).c_str(), target.address.to_string().c_str(),
              network.c_str(), connections, duration_s, rate, report.summary().c_str());
  if (load) {
    load->stop();
    const auto s = hostile::summarize(load->results(), Millis(1000));
    std::printf("%s\n", s.summary().c_str());
  }
  std::fflush(stdout);
  return report.refused.empty() ? 0 : 2;
}
