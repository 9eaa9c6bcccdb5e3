#include "crawler/app/report.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace seedscope::app {

namespace {
double round_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }
} // namespace

nlohmann::ordered_json node_info_json(const NodeInfo& info) {
  nlohmann::ordered_json j;
  j["protocol_version"] = {{"p2p", info.protocol_version.p2p},
                           {"block", info.protocol_version.block},
                           {"app", info.protocol_version.app}};
  j["id"] = info.node_id;
  j["listen_addr"] = info.listen_addr;
  j["network"] = info.network;
  j["version"] = info.version;
  j["channels"] = to_hex(info.channels);
  j["moniker"] = info.moniker;
  j["other"] = {{"tx_index", info.tx_index}, {"rpc_address", info.rpc_address}};
  return j;
}

nlohmann::ordered_json probe_json(const runtime::UpgradeResult& result) {
  nlohmann::ordered_json j;
  j["ok"] = result.ok();
  if (result.ok()) {
    const runtime::Connection& c = *result.connection;
    j["peer_id"] = c.peer_id();
    j["remote_address"] = c.remote_address();
    j["tcp_connect_ms"] = round_ms(c.timings().tcp_connect_ms);
    j["handshake_ms"] = round_ms(c.timings().handshake_ms);
    j["node_info"] = node_info_json(c.peer_info());
    j["our_network"] = c.our_info().network;
    return j;
  }
  const runtime::UpgradeFailure& f = result.failure;
  j["peer_id"] = f.peer_id;
  j["remote_address"] = f.remote_address;
  j["tcp_connect_ms"] = round_ms(f.timings.tcp_connect_ms);
  j["handshake_ms"] = round_ms(f.timings.handshake_ms);
  j["node_info"] = f.peer_info ? node_info_json(*f.peer_info) : nlohmann::ordered_json();
  j["failure"] = {{"stage", std::string(to_string(f.failure.stage))},
                  {"reason", std::string(to_string(f.failure.reason))},
                  {"detail", f.detail}};
  return j;
}

std::string failure_text(const runtime::UpgradeFailure& f) {
  return fmt::format("{}/{}: {}", to_string(f.failure.stage), to_string(f.failure.reason),
                     f.detail);
}

} // namespace seedscope::app
