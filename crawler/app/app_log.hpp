// The process's log sink (core/base/log.hpp's LogSink): filters records by level and module,
// formats them (plain, json or logfmt), stamps them with the wall clock and posts them to the
// output writer (output.hpp: stderr or --log-file; never blocks the caller). It logs from the
// first line of main(): until the command line and the config are read it uses the defaults
// (info, plain), so errors about the config itself are logged too.
//
// Settings come from three places, the later winning: defaults, config.toml's log_level and
// log_format (apply_config_logging, when a command loads the config), the command line's
// --log_level and --log_format (set_log_flags). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base/log.hpp"

namespace seedscope::app {

// A handle on the process's sink for `module` (one of kLogModules).
Logger logger(std::string_view module);

// The command line's settings, already parsed; they override the config's from now on.
void set_log_flags(std::optional<LogFilter> level, std::optional<LogFormat> format);
// The config's settings, unless a flag gave them.
void apply_config_logging(const LogFilter& level, LogFormat format);

} // namespace seedscope::app
