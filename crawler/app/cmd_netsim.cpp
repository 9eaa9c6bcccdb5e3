// `seedscope netsim`: hosts a simulated network on loopback until SIGINT/SIGTERM or
// --duration, writing its ground truth first.
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/report.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/shutdown.hpp"
#include "storage/addrbook_json.hpp"

namespace seedscope::app {

namespace {

double rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / 1024.0;
}

} // namespace

int cmd_netsim(const NetsimArgs& args) {
  crypto::init_sodium();
  if (!args.print_preset.empty()) {
    print_out("{}", netsim::preset_toml(args.print_preset));
    return 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  netsim::Scenario scenario = args.scenario_file.empty()
                                  ? netsim::preset(args.preset)
                                  : netsim::load_scenario(args.scenario_file);
  netsim::SimNetwork network(std::move(scenario));
  if (!args.ground_truth.empty()) {
    if (auto st = storage::write_file_atomically(args.ground_truth,
                                                 network.ground_truth().dump(1) + "\n");
        !st.ok())
      throw std::runtime_error(st.error().detail);
  }
  runtime::Loop loop;
  netsim::Netsim sim(loop, network);
  try {
    sim.start();
  } catch (const runtime::ListenError& e) {
    if (!e.address_in_use()) throw;
    throw std::runtime_error(fmt::format(
        "{}: the simulated nodes' addresses are in use (another netsim or demo?); set another "
        "port or address_offset in a scenario (seedscope netsim --print-preset {} > my.toml)",
        e.what(), args.preset));
  }
  // Where a crawler starts: each chain's seeds, as a `seeds` value (stdout, for scripts).
  for (std::uint32_t i = 0; i < network.scenario().networks.size(); ++i) {
    const std::string list = network.seed_list(i);
    print_out("{} seeds: {}\n", network.scenario().networks[i].chain_id,
              list.empty() ? "(no seed nodes)" : list);
  }
  const double startup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Logger log = logger("netsim");
  std::vector<LogField> started{{"nodes", network.nodes().size()},
                                {"networks", network.scenario().networks.size()},
                                {"listening", sim.stats().online},
                                {"startup_s", fmt::format("{:.2f}", startup_s)},
                                {"rss_mib", fmt::format("{:.0f}", rss_mib())}};
  if (!args.ground_truth.empty()) started.emplace_back("ground_truth", args.ground_truth);
  log.log(LogLevel::info, "netsim started", started);
  runtime::Timer status(loop), end(loop);
  auto stop = [&](int) {
    log.info("netsim stopping");
    sim.stop();
    status.stop();
    end.stop();
    loop.stop();
  };
  runtime::StopRequest stop_request(loop, stop);
  std::function<void()> report = [&] {
    const auto& s = sim.stats();
    log.info("netsim status", {{"online", s.online},
                               {"accepted", s.accepted},
                               {"handshakes", s.handshakes},
                               {"handshakes_failed", s.handshake_failures},
                               {"pex_requests", s.pex_requests},
                               {"pex_answers", s.pex_answers},
                               {"open", s.open_connections}});
    status.start(Millis(10000), report);
  };
  status.start(Millis(10000), report);
  if (args.duration) end.start(*args.duration, [&] { stop(0); });
  loop.run();
  return 0;
}

Command add_netsim_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "netsim", "host a simulated Tendermint network on loopback (127.x.y.z addresses)");
  struct Raw {
    NetsimArgs args;
    std::string duration;
  };
  auto raw = std::make_shared<Raw>();
  sub->add_option("--scenario", raw->args.scenario_file, "scenario TOML file");
  sub->add_option("--preset", raw->args.preset, "built-in scenario: small, demo, large")
      ->capture_default_str()
      ->check(CLI::IsMember(netsim::preset_names()));
  sub->add_option("--ground-truth", raw->args.ground_truth,
                  "write every node's ID, address, network, class to this JSON file");
  sub->add_option("--duration", raw->duration, "stop after this long, e.g. 60s");
  sub->add_option("--print-preset", raw->args.print_preset,
                  "print a preset's scenario TOML (a starting point) and exit");
  return {sub, [raw](const std::filesystem::path&) {
            NetsimArgs args = raw->args;
            args.duration = duration_option(raw->duration, "--duration");
            return cmd_netsim(args);
          }};
}

} // namespace seedscope::app
