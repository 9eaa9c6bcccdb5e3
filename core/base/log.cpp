#include "core/base/log.hpp"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "core/base/error_category.hpp"
#include "core/base/spelling.hpp"

namespace seedscope {

namespace {

enum class LogConfigError { kInvalid = 1 };
std::string_view describe(LogConfigError) { return "invalid log setting"; }
std::error_code make_error_code(LogConfigError e) {
  return {static_cast<int>(e), enum_category<LogConfigError>("log", describe)};
}
Error invalid(std::string detail) {
  return Error{make_error_code(LogConfigError::kInvalid), std::move(detail)};
}

constexpr std::string_view kLevelNames[] = {"debug", "info", "error", "none"};
constexpr std::string_view kFormatNames[] = {"plain", "json", "logfmt"};
constexpr std::size_t kPlainMessageWidth = 44; // tmfmt's %-44s

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Result<LogLevel> level_of(std::string_view text) {
  if (auto l = parse_log_level(text)) return *l;
  return invalid(unknown_name(fmt::format("log level \"{}\"", one_line(text)), text, kLevelNames) +
                 " (levels: debug, info, error, none)");
}

// "2026-12-01", "12:00:00.123" of `t` in UTC.
struct CivilTime {
  std::string date;
  std::string time;
};
CivilTime civil(WallTime t) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(ms - day);
  return {fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())),
          fmt::format("{:02}:{:02}:{:02}.{:03}", hms.hours().count(), hms.minutes().count(),
                      hms.seconds().count(), hms.subseconds().count())};
}

std::string rfc3339(WallTime t) {
  const CivilTime c = civil(t);
  return c.date + "T" + c.time + "Z";
}

// A key as logfmt allows it: no space, '=', '"' or control character (ours are literals;
// this only keeps a line parseable whatever a caller passes).
std::string logfmt_key(std::string_view key) {
  std::string out(key.empty() ? "_" : key);
  for (char& c : out)
    if (static_cast<unsigned char>(c) <= ' ' || c == '=' || c == '"' || c == 0x7f) c = '_';
  return out;
}

void append_fields(std::string& out, const LogRecord& r) {
  for (const LogField& f : r.fields) {
    out += ' ';
    out += logfmt_key(f.key);
    out += '=';
    out += logfmt_value(f.value);
  }
}

std::string plain_line(const LogRecord& r) {
  static constexpr char kLetter[] = {'D', 'I', 'E', 'N'};
  const CivilTime c = civil(r.time);
  std::string out;
  out += kLetter[static_cast<int>(r.level)];
  out += '[' + c.date + '|' + c.time + "] ";
  const std::string message = one_line(r.message);
  out += message;
  if (message.size() < kPlainMessageWidth) out.append(kPlainMessageWidth - message.size(), ' ');
  out += " module=";
  out += logfmt_value(r.module);
  append_fields(out, r);
  return out + '\n';
}

std::string logfmt_line(const LogRecord& r) {
  std::string out = "ts=" + rfc3339(r.time) + " level=" + std::string(to_string(r.level)) +
                    " module=" + logfmt_value(r.module) + " msg=" + logfmt_value(r.message);
  append_fields(out, r);
  return out + '\n';
}

std::string json_line(const LogRecord& r) {
  nlohmann::ordered_json j;
  j["ts"] = rfc3339(r.time);
  j["level"] = to_string(r.level);
  j["module"] = r.module;
  j["msg"] = r.message;
  for (const LogField& f : r.fields) {
    std::string key(f.key);
    if (j.contains(key)) key = "field_" + key; // never overwrite ts, level, module, msg
    j[key] = f.value;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

} // namespace

std::string_view to_string(LogLevel level) { return kLevelNames[static_cast<int>(level)]; }

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kLevelNames); ++i)
    if (text == kLevelNames[i]) return static_cast<LogLevel>(i);
  return std::nullopt;
}

LogLevel LogFilter::level_for(std::string_view module) const {
  for (const auto& [name, level] : modules)
    if (name == module) return level;
  return fallback;
}

Result<LogFilter> parse_log_filter(std::string_view text) {
  text = trim(text);
  if (text.empty()) return invalid("empty log level (e.g. \"info\" or \"p2p:debug,*:error\")");
  LogFilter filter;
  if (text.find(':') == std::string_view::npos) {
    auto level = level_of(text);
    if (!level) return level.error();
    filter.fallback = *level;
    return filter;
  }
  bool star = false;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos)
      return invalid("\"" + one_line(item) + "\": expected module:level (e.g. \"p2p:debug\")");
    const std::string_view module = trim(item.substr(0, colon));
    auto level = level_of(trim(item.substr(colon + 1)));
    if (!level) return level.error();
    if (module == "*") {
      if (star) return invalid("\"*\" given twice");
      star = true;
      filter.fallback = *level;
      continue;
    }
    if (std::find(std::begin(kLogModules), std::end(kLogModules), module) == std::end(kLogModules))
      return invalid(unknown_name("module \"" + one_line(module) + "\"", module, kLogModules) +
                     " (modules: main, p2p, pex, crawler, storage, metrics, geo, api, netsim)");
    for (const auto& [name, _] : filter.modules)
      if (name == module) return invalid("module \"" + std::string(module) + "\" given twice");
    filter.modules.emplace_back(module, *level);
  }
  return filter;
}

std::string_view to_string(LogFormat format) { return kFormatNames[static_cast<int>(format)]; }

Result<LogFormat> parse_log_format(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kFormatNames); ++i)
    if (text == kFormatNames[i]) return static_cast<LogFormat>(i);
  return invalid(unknown_name("log format \"" + one_line(text) + "\"", text, kFormatNames) +
                 " (formats: plain, json, logfmt)");
}

std::string logfmt_value(std::string_view value) {
  bool bare = !value.empty();
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || c == '=' || c == '"' || c == '\\') bare = false;
  }
  if (bare) return std::string(value);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (u < 0x20 || u == 0x7f) {
        out += "\\u00";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c; // UTF-8 bytes pass as they are
      }
    }
  }
  return out + '"';
}

std::string format_log_line(LogFormat format, const LogRecord& record) {
  switch (format) {
  case LogFormat::plain: return plain_line(record);
  case LogFormat::json: return json_line(record);
  case LogFormat::logfmt: return logfmt_line(record);
  }
  return plain_line(record);
}

} // namespace seedscope
