// The log model, free of I/O: levels, records of a message and key=value fields, the
// per-module filter in Tendermint's syntax ("p2p:info,crawler:debug,*:error"), the three line
// formats, and the handle components hold to log (Logger). Where lines go (stderr, a file)
// is the application's sink; the core only describes and formats them.
//
// Ports Tendermint's libs/log (tm_logger.go, tmfmt_logger.go) and libs/cli/flags/log_level.go
// @ v0.34: the same levels (debug, info, error, none), the same filter syntax, and "plain" is
// its tmfmt line (`I[2026-12-01|12:00:00.123] message<padded to 44> module=p2p key=value`),
// in UTC with milliseconds.
//
// Messages are fixed text ("peer added"); everything that varies is a field, so that every
// line parses. Pure functions and a value type; Logger is safe to copy between threads when
// its sink is thread-safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/base/clock.hpp"
#include "core/base/result.hpp"

namespace seedscope {

enum class LogLevel : std::uint8_t { debug = 0, info = 1, error = 2, none = 3 };

// "debug", "info", "error", "none".
std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

// The modules that log (the layout's components): what a filter may name.
//   main     the command itself: start-up, stop, summaries of the run
//   p2p      the node's switch: peers added and removed, failed connections, the book
//   pex      the PEX reactor (reserved: it logs through p2p today)
//   crawler  the crawler and seed service (engine::Crawler), its status lines
//   storage  the observatory writer and the database
//   metrics  the metrics endpoint and the gauges recomputed from the database
//   geo      the MaxMind DB files and lookups
//   api      the HTTP API
//   netsim   simulated networks
inline constexpr std::string_view kLogModules[] = {"main",    "p2p", "pex", "crawler", "storage",
                                                   "metrics", "geo", "api", "netsim"};

// One key=value pair. Keys are short literals (snake_case); values any text, which the
// formatters quote and escape as needed.
struct LogField {
  std::string_view key;
  std::string value;

  LogField(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <class T>
  requires(std::integral<T> || std::floating_point<T>) LogField(std::string_view k, T v)
      : key(k),
        value(fmt::to_string(v)) {}
};

struct LogRecord {
  WallTime time{};
  LogLevel level = LogLevel::info;
  std::string_view module;
  std::string_view message;
  std::span<const LogField> fields;
};

// Which records pass: a level per module, and one for every other module ("*").
struct LogFilter {
  LogLevel fallback = LogLevel::info;
  std::vector<std::pair<std::string, LogLevel>> modules;

  LogLevel level_for(std::string_view module) const;
  bool allows(LogLevel level, std::string_view module) const {
    return level != LogLevel::none && level >= level_for(module);
  }
};

// Tendermint's syntax: one level for everything ("info"), or a comma-separated list of
// module:level pairs in which "*" is every other module ("p2p:info,crawler:debug,*:error";
// without "*" the others are at info). An unknown level or module, a pair without ':' or a
// module given twice is an error, one line naming it ("unknown module \"crawlr\"; did you
// mean \"crawler\"?").
Result<LogFilter> parse_log_filter(std::string_view text);

enum class LogFormat : std::uint8_t { plain, json, logfmt };
std::string_view to_string(LogFormat format);
// "plain", "json" or "logfmt"; an error otherwise ("unknown log format \"jsno\"; did you mean
// \"json\"?").
Result<LogFormat> parse_log_format(std::string_view text);

// One line, '\n' included:
//   plain   I[2026-12-01|12:00:00.123] peer added<spaces to 44> module=p2p peer=ab..
//   addr=1.2.3.4:26656 json
//   {"ts":"2026-12-01T12:00:00.123Z","level":"info","module":"p2p","msg":"peer added",...} logfmt
//   ts=2026-12-01T12:00:00.123Z level=info module=p2p msg="peer added" peer=ab.. ...
// Times in UTC, milliseconds. Control characters in the message are escaped (one record is
// one line); field values are logfmt-quoted when they need it (empty, a space, '=', '"',
// control or non-ASCII bytes); JSON values are JSON strings (invalid UTF-8 replaced).
std::string format_log_line(LogFormat format, const LogRecord& record);

// A logfmt value as written: bare when it can be, else quoted with \" \\ \n \r \t \u00XX.
std::string logfmt_value(std::string_view value);

// Where records go (the application's: filter, format, write). Thread-safety is the
// implementation's; the app's sink is thread-safe.
class LogSink {
public:
  virtual ~LogSink() = default;
  virtual bool enabled(LogLevel level, std::string_view module) const = 0;
  // Called only for records enabled() lets through (it may check again).
  virtual void write(LogLevel level, std::string_view module, std::string_view message,
                     std::span<const LogField> fields) = 0;
};

// What a component holds to log: its module and the shared sink. Cheap to copy; a
// default-constructed Logger discards everything. `module` must outlive every copy (a
// literal, or one of kLogModules).
class Logger {
public:
  Logger() = default;
  Logger(std::shared_ptr<LogSink> sink, std::string_view module)
      : sink_(std::move(sink)),
        module_(module) {}

  // The same sink under another module.
  Logger with_module(std::string_view module) const { return Logger(sink_, module); }
  std::string_view module() const { return module_; }

  // Check before building expensive fields: a disabled level costs this call only.
  bool enabled(LogLevel level) const { return sink_ && sink_->enabled(level, module_); }

  void log(LogLevel level, std::string_view message, std::span<const LogField> fields) const {
    if (enabled(level)) sink_->write(level, module_, message, fields);
  }
  void debug(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::debug, message, std::span<const LogField>(fields.begin(), fields.size()));
  }
  void info(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::info, message, std::span<const LogField>(fields.begin(), fields.size()));
  }
  void error(std::string_view message, std::initializer_list<LogField> fields = {}) const {
    log(LogLevel::error, message, std::span<const LogField>(fields.begin(), fields.size()));
  }

private:
  std::shared_ptr<LogSink> sink_;
  std::string_view module_ = "main";
};

} // namespace seedscope
