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

SettingFlags::SettingFlags(CLI::App* sub) {
  const std::string group = "Settings (each overrides config.toml and its SEEDSCOPE_ variable)";
  for (const std::string& name : setting_names()) {
    const std::string flag = "--" + name;
    if (sub->get_option_no_throw(flag) != nullptr) continue; // the command's own option
    auto f = std::make_unique<Flag>();
    f->name = name;
    // A global option of that name (--log_level): the setting comes from it.
    const CLI::App* above = sub->get_parent();
    while (above != nullptr && above->get_option_no_throw(flag) == nullptr)
      above = above->get_parent();
    if (above != nullptr) {
      f->option = above->get_option_no_throw(flag);
      f->global = true;
      flags_.push_back(std::move(f));
      continue;
    }
    const std::string_view type = setting_type(name);
    if (type == "bool") {
      f->option =
          sub->add_flag(flag, f->value, "true when given alone, or =true / =false")->group(group);
    } else {
      const char* kind = type == "duration" ? "DURATION" : type == "integer" ? "INT" : "TEXT";
      f->option = sub->add_option(flag, f->value, "as " + name + " in config.toml")
                      ->type_name(kind)
                      ->group(group);
    }
    flags_.push_back(std::move(f));
  }
}

std::vector<ConfigOverride> SettingFlags::given() const {
  std::vector<ConfigOverride> out;
  for (const auto& f : flags_)
    if (f->option->count() != 0)
      out.push_back({f->name, f->global ? f->option->results().back() : f->value, "--" + f->name});
  return out;
}

} // namespace seedscope::app
