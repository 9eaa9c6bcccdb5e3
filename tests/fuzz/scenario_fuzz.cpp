// Fuzz target: netsim scenario parsing (crawler/netsim/scenario). Any text may be refused, but
// only with ScenarioError, one line naming the source; what is accepted keeps the documented limits
// (valid chain IDs, 1 to 60000 nodes in all, seeds within the nodes, fewer known peers than
// nodes, fractions from 0 to 1 adding up to at most 0.9, positive version weights).
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "core/types/node_info.hpp"
#include "crawler/netsim/scenario.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;
using namespace seedscope::netsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Scenario s;
  try {
    s = parse_scenario(text, "scenario.toml");
  } catch (const ScenarioError& e) {
    const std::string what = e.what();
    FUZZ_INVARIANT(what.rfind("scenario.toml", 0) == 0);
    FUZZ_INVARIANT(what.find('\n') == std::string::npos); // one line
    return 0;
  }
  FUZZ_INVARIANT(!s.networks.empty());
  FUZZ_INVARIANT(s.total_nodes() >= 1 && s.total_nodes() <= 60000);
  FUZZ_INVARIANT(s.port >= 1);
  FUZZ_INVARIANT(s.churn.offline_fraction >= 0 && s.churn.offline_fraction <= 1);
  FUZZ_INVARIANT(s.churn.period.count() >= 0);
  std::set<std::string> ids;
  for (const auto& n : s.networks) {
    FUZZ_INVARIANT(validate_chain_id(n.chain_id).ok());
    FUZZ_INVARIANT(ids.insert(n.chain_id).second);
    FUZZ_INVARIANT(n.nodes >= 1);
    FUZZ_INVARIANT(n.seed_nodes <= n.nodes);
    FUZZ_INVARIANT(n.known_peers < n.nodes);
    FUZZ_INVARIANT(n.rpc_fraction >= 0 && n.rpc_fraction <= 1);
    FUZZ_INVARIANT(!n.versions.empty());
    for (const auto& v : n.versions) FUZZ_INVARIANT(!v.version.empty() && v.weight > 0);
    double sum = 0;
    for (const auto& [b, f] : n.fractions) {
      FUZZ_INVARIANT(f >= 0 && f <= 1);
      FUZZ_INVARIANT(b != Behaviour::kNormal && b != Behaviour::kSeed);
      sum += f;
    }
    FUZZ_INVARIANT(sum <= 0.9);
  }
  return 0;
}
