// The CLI subcommands. Each cmd_*.cpp adds its subcommand and options to the command line
// (add_*_command) and runs it (cmd_*). A command returns the process exit code; start-up
// errors are exceptions (ConfigError, NodeKeyFileError, std::runtime_error) that run_cli
// reports on one line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "crawler/app/config.hpp"
#include "storage/exports.hpp"

namespace CLI {
class App;
}

namespace seedscope::app {

int run_cli(int argc, char** argv);

// A subcommand on the command line and what runs it, given --home, once it is parsed.
struct Command {
  CLI::App* app;
  std::function<int(const std::filesystem::path& home)> run;
};
Command add_init_command(CLI::App& app);
Command add_show_node_id_command(CLI::App& app);
Command add_start_command(CLI::App& app);
Command add_probe_command(CLI::App& app);
Command add_addrbook_command(CLI::App& app);
Command add_netsim_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_crawl_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_api_command(CLI::App& app);
Command add_stats_command(CLI::App& app);
Command add_version_command(CLI::App& app);
Command add_config_command(CLI::App& app);

// Like Tendermint's init, safe to run again: writes what is missing (config/config.toml, the
// node key, the data directory), keeps what exists (an existing node_key.json is loaded and
// used), says which, and prints the node ID.
int cmd_init(const std::filesystem::path& home);
int cmd_show_node_id(const std::filesystem::path& home);
// What `version` and `--version` print (version.hpp's version_text) on stdout.
int cmd_version();
// Runs a node from the config (switch, PEX in normal or seed mode, persistent peers, address
// book), logging every peer; stops gracefully on SIGINT/SIGTERM.
int cmd_start(const std::filesystem::path& home, const std::vector<ConfigOverride>& settings = {});
// The address book between the database ([db_file]) and Tendermint's addrbook.json. Import
// validates the whole file first and replaces the stored addresses (bans are kept); export
// writes the file atomically. Stop the node before importing: it saves its own book.
// A file with no addresses does not replace a stored book that has some unless `force`.
// Export to "-" writes the JSON on stdout (the summary line then goes to stderr).
int cmd_addrbook_import(const std::filesystem::path& home, const std::filesystem::path& file,
                        bool force);
int cmd_addrbook_export(const std::filesystem::path& home, const std::filesystem::path& file);

struct ProbeArgs {
  std::string address;                // ID@host:port
  std::optional<std::string> network; // answer in this chain ID instead of adopting
  std::optional<Millis> timeout;      // handshake timeout
  std::optional<Millis> dial_timeout;
};
// Dials one node, prints its NodeInfo and timings as JSON on stdout; on failure also prints
// "probe failed: <stage>/<reason>: <detail>" on stderr and returns 1.
int cmd_probe(const std::filesystem::path& home, const ProbeArgs& args);
struct NetsimArgs {
  std::string scenario_file; // TOML; empty: the preset
  std::string preset = "demo";
  std::string ground_truth;       // write the ground truth JSON here
  std::optional<Millis> duration; // run this long; unset: until SIGINT/SIGTERM
  std::string print_preset;       // print a preset's TOML and exit
};
// Hosts a simulated network on loopback (crawler/netsim).
int cmd_netsim(const NetsimArgs& args);

struct DemoArgs {
  std::string preset = "demo";                  // the netsim preset to crawl
  Millis duration{90000};                       // stop after this long at most
  std::string metrics_addr = "127.0.0.1:26660"; // Prometheus endpoint ("" or "off": none)
  double target = 0.99;              // stop once this share of reachable nodes is contacted
  std::string db;                    // keep the observatory database here ("": temporary)
  std::optional<std::uint16_t> port; // netsim nodes' port instead of the preset's
  std::uint32_t address_offset = 0;  // shift netsim addresses (beside another netsim)
};
// The main job (scripts/run.sh): a simulated network (netsim preset) and a seedscope seed
// node crawling it in one process, with progress lines, metrics and a summary.
int cmd_demo(const DemoArgs& args);

struct CrawlArgs {
  std::vector<ConfigOverride> settings; // --p2p.laddr and the other setting flags
  std::vector<std::string> seeds;       // more ID@host:port lists, besides [p2p] seeds
  std::optional<std::string> network;   // only this chain ID
  std::optional<std::string> db;        // instead of [db_file]
  std::optional<std::string> laddr;     // instead of [p2p] laddr
  std::optional<std::int64_t> max_concurrent_dials;
  std::optional<Millis> duration;          // stop after this long
  bool loopback_only = false;              // simulations: dial and learn loopback only
  std::optional<std::string> metrics_addr; // instead of prometheus_listen_addr
  std::vector<std::string> geo_dbs;        // MaxMind DB files besides [geo]'s, kind by type
  std::string chain_registry;              // a cosmos/chain-registry checkout: its peers as seeds
  bool testnets = false;                   // also the registry's testnets/
};
// The crawler and seed service, recording into the observatory database.
int cmd_crawl(const std::filesystem::path& home, const CrawlArgs& args);
int run_crawler(const std::filesystem::path& home, const CrawlArgs& args);
struct ExportArgs {
  storage::ExportFilter filter;
  std::string format = "persistent_peers";
  std::optional<std::string> db;
  std::string out; // "": stdout
};
// A network's peers from the database, filtered, in one of the export formats.
int cmd_export(const std::filesystem::path& home, const ExportArgs& args);

// The read-only HTTP API over the database.
int cmd_api(const std::filesystem::path& home, const std::string& listen,
            const std::optional<std::string>& db);

// The crawl summary from the database.
int cmd_stats(const std::filesystem::path& home, const std::optional<std::string>& db);

} // namespace seedscope::app
