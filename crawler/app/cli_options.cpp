#include "crawler/app/cli_options.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/types/node_info.hpp"
#include "crawler/app/config.hpp"

namespace seedscope::app {

std::optional<Millis> duration_option(const std::string& text, const char* name) {
  if (text.empty()) return std::nullopt;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    throw UsageError(fmt::format("{}: bad duration \"{}\" (expected e.g. 5s, 500ms)", name, text));
  return d;
}

std::int64_t integer_option(const std::string& text, const char* name, std::int64_t lo,
                            std::int64_t hi) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ptr != end || ec != std::errc() || v < lo || v > hi)
    throw UsageError(
        fmt::format("{}: \"{}\" is not a whole number from {} to {}", name, text, lo, hi));
  return v;
}

double number_option(const std::string& text, const char* name, double lo, double hi) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v >= lo && v <= hi))
    throw UsageError(fmt::format("{}: \"{}\" is not a number from {} to {}", name, text, lo, hi));
  return v;
}

std::string path_option(const std::string& path) {
  return std::filesystem::absolute(path).lexically_normal().string();
}

std::string chain_id_option(const std::string& text, const char* name) {
  if (Status st = validate_chain_id(text); !st)
    throw UsageError(fmt::format("{}: {}", name, st.error().detail));
  return text;
}

std::optional<LogFilter> log_level_option(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto filter = parse_log_filter(text);
  if (!filter) throw UsageError("--log_level: " + filter.error().detail);
  return *filter;
}

std::optional<LogFormat> log_format_option(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto format = parse_log_format(text);
  if (!format) throw UsageError("--log_format: " + format.error().detail);
  return *format;
}

void add_db_option(CLI::App* sub, std::string& raw) {
  sub->add_option("--db", raw, "database file (default: [db_file] in the home)");
}

std::optional<std::string> db_option(const std::string& raw) {
  if (raw.empty()) return std::nullopt;
  return path_option(raw);
}

} // namespace seedscope::app
