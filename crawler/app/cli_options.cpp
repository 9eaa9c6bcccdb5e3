#include "crawler/app/cli_options.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "core/types/node_info.hpp"
#include "crawler/app/config.hpp"

namespace seedscope::app {

std::optional<Millis> duration_option(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    throw std::runtime_error(fmt::format("{}: bad duration \"{}\" (expected e.g. 5s, 500ms)",
                                         name, text));
  return d;
}

std::int64_t integer_option(const std::string& text, const char* name, std::int64_t lo,
                            std::int64_t hi) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ptr != end || ec != std::errc() || v < lo || v > hi)
    throw std::runtime_error(
        fmt::format("{}: \"{}\" is not a whole number from {} to {}", name, text, lo, hi));
  return v;
}

std::string path_option(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::string chain_id_option(const std::string& text, const char* name) {
  if (Status st = validate_chain_id(text); !st)
    throw std::runtime_error(fmt::format("{}: {}", name, st.error().detail));
  return text;
}

} // namespace seedscope::app
