// Suggestions for misspelt names.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "core/base/spelling.hpp"

using namespace seedscope;

namespace {
constexpr std::array<std::string_view, 6> kKeys = {
    "laddr", "seeds", "seed_mode", "pex", "max_num_inbound_peers", "dial_timeout"};
std::string nearest(std::string_view name) {
  auto n = nearest_name(name, kKeys);
  return n ? std::string(*n) : std::string("-");
}
} // namespace

TEST_CASE("nearest_name: typos find their key and unrelated names find nothing") {
  CHECK(nearest("seed_mod") == "seed_mode");   // a letter missing
  CHECK(nearest("seed_modes") == "seed_mode"); // one too many
  CHECK(nearest("seed_mdoe") == "seed_mode");  // two swapped
  CHECK(nearest("Seed_Mode") == "seed_mode");  // case
  CHECK(nearest("dial_timout") == "dial_timeout");
  CHECK(nearest("max_num_inbound_peer") == "max_num_inbound_peers");
  CHECK(nearest("seed") == "seeds");
  CHECK(nearest("pexx") == "pex");
  CHECK(nearest("colour") == "-");
  CHECK(nearest("proxy_app") == "-");
  CHECK(nearest("") == "-");
  CHECK(nearest(std::string(1000, 'x')) == "-");
  CHECK(nearest_name("laddr", {}) == std::nullopt);
}

TEST_CASE("unknown_name: the phrase with and without a suggestion") {
  CHECK(unknown_name("key", "seed_mod", kKeys) == "unknown key; did you mean \"seed_mode\"?");
  CHECK(unknown_name("section", "colour", kKeys) == "unknown section");
}
