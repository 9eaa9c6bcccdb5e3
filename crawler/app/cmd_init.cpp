// `seedscope init` and `seedscope show-node-id`.
#include <fstream>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/app_log.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/report.hpp"

namespace seedscope::app {

namespace {

bool present(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(p, ec));
}

void write_config(const Home& home) {
  std::filesystem::path tmp = home.config_file();
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << render_config(home.config);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, home.config_file());
}

} // namespace

// Like Tendermint's init: safe to run again. What exists is kept (an existing node key is
// loaded, so a broken one is an error, never replaced); only what is missing is written.
int init_home(const std::filesystem::path& dir);

int cmd_init(const std::filesystem::path& dir) {
  try {
    return init_home(dir);
  } catch (const std::filesystem::filesystem_error& e) {
    const auto& where = e.path1().empty() ? dir : e.path1();
    throw std::runtime_error(
        fmt::format("cannot create {}: {}", where.string(), e.code().message()));
  }
}

int init_home(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/false);
  const Logger log = logger("main");
  fs::create_directories(dir / "config");

  const fs::path key_file = home.node_key_file();
  std::optional<crypto::NodeKey> key;
  if (present(key_file)) {
    key = load_node_key(key_file);
    log.info("kept existing node key", {{"file", key_file.string()}});
  } else {
    fs::create_directories(key_file.parent_path());
    key = crypto::NodeKey::generate();
    save_node_key(key_file, *key);
    log.info("wrote node key", {{"file", key_file.string()}});
  }
  if (home.has_config) {
    log.info("kept existing config", {{"file", home.config_file().string()}});
  } else {
    write_config(home);
    log.info("wrote config", {{"file", home.config_file().string()}});
  }
  const fs::path data_dir = home.db_file().parent_path();
  if (fs::is_directory(data_dir)) {
    log.info("kept existing data directory", {{"dir", data_dir.string()}});
  } else {
    fs::create_directories(data_dir);
    log.info("created data directory", {{"dir", data_dir.string()}});
  }
  if (!write_result(key->node_id() + "\n"))
    throw std::runtime_error("cannot write the node ID to stdout");
  return 0;
}

int cmd_show_node_id(const std::filesystem::path& dir) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/false);
  std::error_code ec;
  if (!std::filesystem::exists(home.node_key_file(), ec))
    throw std::runtime_error(fmt::format("no node key at {} (run `seedscope init --home {}` first)",
                                         home.node_key_file().string(), dir.string()));
  crypto::NodeKey key = load_node_key(home.node_key_file());
  if (!write_result(key.node_id() + "\n"))
    throw std::runtime_error("cannot write the node ID to stdout");
  return 0;
}

Command add_init_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("init", "create the home directory, config and node key");
  return {sub, [](const std::filesystem::path& home) { return cmd_init(home); }};
}

Command add_show_node_id_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("show-node-id", "print this node's ID");
  return {sub, [](const std::filesystem::path& home) { return cmd_show_node_id(home); }};
}

} // namespace seedscope::app
