// `seedscope init` and `seedscope show-node-id`.
#include <fstream>

#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/node_key_file.hpp"
#include "crawler/app/report.hpp"

namespace seedscope::app {

int cmd_init(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  crypto::init_sodium();
  fs::create_directories(dir / "config");
  fs::create_directories(dir / "data");
  Home home = open_home(dir, /*require_config=*/false);
  fs::path key_file = home.node_key_file();
  std::error_code ec;
  if (fs::exists(key_file, ec)) {
    fmt::print(stderr, "seedscope: node key {} already exists; refusing to overwrite it\n",
               key_file.string());
    return 1;
  }
  fs::create_directories(key_file.parent_path());
  crypto::NodeKey key = crypto::NodeKey::generate();
  save_node_key(key_file, key);
  if (!home.has_config) {
    fs::path tmp = home.config_file();
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << render_config(home.config);
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, home.config_file());
    log_line("wrote " + home.config_file().string());
  } else {
    log_line("kept existing " + home.config_file().string());
  }
  log_line("wrote " + key_file.string());
  fmt::print("{}\n", key.node_id());
  return 0;
}

int cmd_show_node_id(const std::filesystem::path& dir) {
  crypto::init_sodium();
  Home home = open_home(dir, /*require_config=*/false);
  crypto::NodeKey key = load_node_key(home.node_key_file());
  fmt::print("{}\n", key.node_id());
  return 0;
}

} // namespace seedscope::app
