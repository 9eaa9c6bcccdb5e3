// Checks of option values shared by the commands: each throws UsageError with one line naming
// the option ("--limit: \"0\" is not a whole number from 1 to 1000000000"); run_cli prints it
// and exits with 2, as for any other usage error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/log.hpp"
#include "crawler/app/config.hpp"

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace seedscope::app {

class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// "" is no duration (nullopt); otherwise a Go duration greater than zero.
std::optional<Millis> duration_option(const std::string& text, const char* name);
// A whole number from `lo` to `hi` (CLI11 would wrap "-1" into a huge unsigned value).
std::int64_t integer_option(const std::string& text, const char* name, std::int64_t lo,
                            std::int64_t hi);
// A number from `lo` to `hi`.
double number_option(const std::string& text, const char* name, double lo, double hi);
// A path given on the command line is relative to the working directory (db_file in
// config.toml is relative to the home).
std::string path_option(const std::string& path);
// A chain ID, checked as Tendermint checks one.
std::string chain_id_option(const std::string& text, const char* name);
// --log_level and --log_format: "" is not given (nullopt).
std::optional<LogFilter> log_level_option(const std::string& text);
std::optional<LogFormat> log_format_option(const std::string& text);
// --db of the commands that read or write the observatory database instead of the home's
// [db_file]: add_db_option registers it on `sub` with its text going to `raw`; db_option is
// that text as a path_option, nullopt when --db was not given.
void add_db_option(CLI::App* sub, std::string& raw);
std::optional<std::string> db_option(const std::string& raw);

// Every config.toml setting as a flag of `sub`, named as in Tendermint: --moniker,
// --p2p.laddr, --p2p.seed_mode (a flag alone means true; --p2p.seed_mode=false), except a
// name `sub` already has. Values are checked when the config is resolved (resolve_config),
// so a bad one is reported with the file's problems. A setting that is also a global option
// (--log_level, --log_format) is not added again; given() reports the global one.
class SettingFlags {
public:
  explicit SettingFlags(CLI::App* sub);
  // The flags given, as overrides (after parsing).
  std::vector<ConfigOverride> given() const;

private:
  struct Flag {
    std::string name;
    std::string value;
    const CLI::Option* option = nullptr;
    bool global = false; // an option of the program (--log_level), not of `sub`
  };
  std::vector<std::unique_ptr<Flag>> flags_; // stable addresses: CLI11 writes into value
};

} // namespace seedscope::app
