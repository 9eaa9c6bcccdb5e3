// Fuzz target: config.toml parsing (crawler/app/config). Any text may be refused, but only
// with ConfigError (every line of its message names the file); what is accepted must render
// to TOML that parses back to the same config (render(parse(render(c))) == render(c)). Also
// Go duration strings: what parse_duration accepts formats to a string it reads back the same.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "crawler/app/config.hpp"
#include "fuzz/fuzz_invariant.hpp"

using namespace seedscope;

namespace {

void check_message(const std::string& what) {
  FUZZ_INVARIANT(!what.empty());
  std::size_t at = 0;
  while (at < what.size()) {
    if (what.compare(at, 11, "config.toml") != 0)
      std::fprintf(stderr, "message: %s\n", what.c_str());
    FUZZ_INVARIANT(what.compare(at, 11, "config.toml") == 0);
    const auto nl = what.find('\n', at);
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (size <= 64) {
    if (auto d = app::parse_duration(text)) {
      FUZZ_INVARIANT(d->count() >= 0);
      const std::string formatted = app::format_duration(*d);
      const auto again = app::parse_duration(formatted);
      FUZZ_INVARIANT(again && *again == *d);
    }
  }

  app::Config config;
  try {
    config = app::parse_config(text, "config.toml");
  } catch (const app::ConfigError& e) {
    check_message(e.what());
    return 0;
  }
  const std::string rendered = app::render_config(config);
  try {
    const app::Config again = app::parse_config(rendered, "config.toml");
    FUZZ_INVARIANT(app::render_config(again) == rendered);
  } catch (const app::ConfigError& e) {
    std::fprintf(stderr, "a rendered config does not parse: %s\n", e.what());
    FUZZ_INVARIANT(false);
  }
  return 0;
}
