#include "crawler/app/chain_registry.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/base/spelling.hpp"
#include "core/types/node_info.hpp"
#include "crawler/app/config.hpp"

namespace seedscope::app {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string string_field(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) throw RegistryError(fmt::format("{}: expected a string", key));
  return it->get<std::string>();
}

// One entry as a dialable address; why not when it is none.
std::optional<std::string> read_entry(const json& entry, PeerAddress& out) {
  if (!entry.is_object()) return "entry: expected an object";
  const auto id = entry.find("id");
  const auto address = entry.find("address");
  if (id == entry.end() || !id->is_string() || address == entry.end() || !address->is_string())
    return "entry: expected \"id\" and \"address\" strings";
  const std::string shown = id->get<std::string>() + "@" + address->get<std::string>();
  std::string host_port = address->get<std::string>();
  if (host_port.rfind("tcp://", 0) == 0) host_port.erase(0, 6);
  // Some entries repeat the ID in the address: it must be the same one.
  if (const auto at = host_port.find('@'); at != std::string::npos) {
    if (host_port.substr(0, at) != id->get<std::string>())
      return fmt::format("\"{}\": the address names another ID than \"id\"", shown);
    host_port.erase(0, at + 1);
  }
  const std::string text = id->get<std::string>() + "@" + host_port;
  auto parsed = parse_peer_address(text);
  if (!parsed) return peer_entry_problem(shown, parsed.error());
  out = std::move(*parsed);
  return std::nullopt;
}

void read_peers(const json& list, const char* name, bool seed, RegistryChain& chain) {
  if (list.is_null()) return;
  if (!list.is_array()) {
    chain.bad_entries.push_back(fmt::format("peers.{}: expected an array", name));
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& entry = list[i];
    RegistryPeer peer;
    if (auto why = read_entry(entry, peer.address)) {
      chain.bad_entries.push_back(one_line(fmt::format("peers.{}[{}]: {}", name, i, *why)));
      continue;
    }
    peer.seed = seed;
    if (entry.contains("provider") && entry["provider"].is_string())
      peer.provider = entry["provider"].get<std::string>();
    chain.peers.push_back(std::move(peer));
  }
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RegistryError("cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw RegistryError("cannot read");
  return ss.str();
}

// The chain.json files of `dir`'s subdirectories, by directory name.
std::vector<fs::path> chain_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '_' || name[0] == '.' || name == "testnets") continue;
    std::error_code file_ec;
    if (!entry.is_directory(file_ec)) continue;
    const fs::path file = entry.path() / "chain.json";
    if (fs::exists(file, file_ec)) out.push_back(file);
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

RegistryChain parse_chain_json(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw RegistryError(one_line(fmt::format("not JSON: {}", e.what())));
  }
  if (!doc.is_object()) throw RegistryError("not a JSON object");
  RegistryChain chain;
  chain.chain_name = string_field(doc, "chain_name");
  chain.chain_id = string_field(doc, "chain_id");
  chain.network_type = string_field(doc, "network_type");
  chain.status = string_field(doc, "status");
  if (chain.chain_id.empty()) throw RegistryError("no chain_id");
  if (Status st = validate_chain_id(chain.chain_id); !st)
    throw RegistryError(one_line(fmt::format("chain_id: {}", st.error().detail)));
  const auto peers = doc.find("peers");
  if (peers != doc.end() && !peers->is_null()) {
    if (!peers->is_object()) {
      chain.bad_entries.push_back("peers: expected an object");
    } else {
      read_peers(peers->value("seeds", json()), "seeds", true, chain);
      read_peers(peers->value("persistent_peers", json()), "persistent_peers", false, chain);
    }
  }
  return chain;
}

RegistryScan scan_chain_registry(const fs::path& dir, bool testnets) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw RegistryError(
        fmt::format("{}: not a directory (a checkout of cosmos/chain-registry)", dir.string()));
  struct Kind {
    fs::path dir;
    std::string_view network_type;
  };
  std::vector<Kind> kinds = {{dir, "mainnet"}};
  if (testnets) kinds.push_back({dir / "testnets", "testnet"});
  RegistryScan scan;
  std::size_t files = 0;
  for (const Kind& kind : kinds) {
    for (const fs::path& file : chain_files(kind.dir)) {
      ++files;
      RegistryChain chain;
      try {
        chain = parse_chain_json(read_text(file));
      } catch (const RegistryError& e) {
        scan.problems.push_back(fmt::format("{}: {}", file.string(), e.what()));
        continue;
      }
      chain.file = file;
      for (const std::string& bad : chain.bad_entries)
        scan.problems.push_back(fmt::format("{}: {}", file.string(), bad));
      if (!chain.network_type.empty() && chain.network_type != kind.network_type) {
        ++scan.other_networks;
        continue;
      }
      if (!chain.live()) {
        ++scan.not_live;
        continue;
      }
      scan.chains.push_back(std::move(chain));
    }
  }
  if (files == 0)
    throw RegistryError(fmt::format(
        "{}: no <chain>/chain.json in it (not a checkout of cosmos/chain-registry)", dir.string()));
  return scan;
}

} // namespace seedscope::app
