// How the CLI shows peers and failures: NodeInfo as JSON (channels as hex), one-line logs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/types/node_info.hpp"
#include "crawler/app/output.hpp"
#include "crawler/runtime/transport.hpp"

namespace seedscope::app {

nlohmann::ordered_json node_info_json(const NodeInfo& info);
// The probe's output: peer id, remote address, timings, NodeInfo, and failure if any.
nlohmann::ordered_json probe_json(const runtime::UpgradeResult& result);
// "<stage>/<reason>: <detail>"
std::string failure_text(const runtime::UpgradeFailure& failure);

} // namespace seedscope::app
