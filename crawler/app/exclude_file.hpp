// The exclude list's file ([crawler] exclude_file): read at start-up, then checked for a
// change (its modification time and size, like the geo databases) and read again. A missing
// file is an empty list; a file with bad lines at start-up is an error listing every one; a
// bad file later keeps the list in use and says why, one line per problem. The file is small
// and read on the caller's thread (at most kMaxBytes; larger is a bad file).
// Single-threaded; list() keeps its address for the object's life (reloads replace its
// contents), so the crawler, the switch and the PEX reactor hold a pointer to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/p2p/exclude_list.hpp"

namespace seedscope::app {

class ExcludeFile {
public:
  static constexpr std::uintmax_t kMaxBytes = 4 << 20;

  // An empty path: no file, always the empty list. Throws ConfigError (every problem, one a
  // line) when the file exists and cannot be read or has bad lines.
  explicit ExcludeFile(std::filesystem::path path);

  // What a refresh did: `reloaded` when the list in use was replaced, and the lines to log,
  // "exclude list reloaded: N entries from FILE" then, or else the problems and "exclude list
  // FILE not reloaded: ... keeping the N entries in use". No lines: no change.
  struct Refresh {
    bool reloaded = false;
    std::vector<std::string> lines;
    bool empty() const { return lines.empty(); }
  };
  // Reads the file again when it changed since it was last read (or found missing).
  Refresh refresh();

  const ExcludeList& list() const { return list_; }
  const std::filesystem::path& path() const { return path_; }

private:
  struct Stamp {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  static std::optional<Stamp> stamp_of(const std::filesystem::path& path);
  // The file's list, or its problems.
  static ExcludeList read(const std::filesystem::path& path, bool exists,
                          std::vector<std::string>& errors);

  std::filesystem::path path_;
  ExcludeList list_;
  std::optional<Stamp> stamp_; // as last read; none: missing
};

// [crawler] exclude_file of `home`'s config resolved in the home, or empty when disabled.
std::filesystem::path exclude_file_path(const std::filesystem::path& home,
                                        const std::string& setting);

} // namespace seedscope::app
