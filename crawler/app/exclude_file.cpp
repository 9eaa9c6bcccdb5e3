#include "crawler/app/exclude_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "crawler/app/config.hpp"

namespace seedscope::app {

namespace fs = std::filesystem;

std::optional<ExcludeFile::Stamp> ExcludeFile::stamp_of(const fs::path& path) {
  std::error_code ec;
  Stamp s{fs::last_write_time(path, ec), 0};
  if (!ec) s.size = fs::file_size(path, ec);
  if (ec) return std::nullopt;
  return s;
}

ExcludeList ExcludeFile::read(const fs::path& path, bool exists, std::vector<std::string>& errors) {
  if (!exists) return {};
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    errors.push_back(fmt::format("{}: is a directory, not an exclude list", path.string()));
    return {};
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxBytes) {
    errors.push_back(fmt::format("{}: {} bytes, more than an exclude list may have ({})",
                                 path.string(), size, kMaxBytes));
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    errors.push_back(fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    return {};
  }
  return ExcludeList::parse(text.str(), path.string(), errors);
}

ExcludeFile::ExcludeFile(fs::path path) : path_(std::move(path)) {
  if (path_.empty()) return;
  stamp_ = stamp_of(path_);
  std::vector<std::string> errors;
  ExcludeList list = read(path_, stamp_.has_value(), errors);
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    throw ConfigError(all);
  }
  list_ = std::move(list);
}

ExcludeFile::Refresh ExcludeFile::refresh() {
  Refresh r;
  if (path_.empty()) return r;
  const auto stamp = stamp_of(path_);
  if (stamp == stamp_) return r;
  stamp_ = stamp; // a bad file is said once per change, not at every check
  ExcludeList list = read(path_, stamp.has_value(), r.lines);
  if (!r.lines.empty()) {
    r.lines.push_back(fmt::format("exclude list {} not reloaded ({} problems): keeping the {} "
                                  "entries in use",
                                  path_.string(), r.lines.size(), list_.size()));
    return r;
  }
  list_ = std::move(list);
  r.reloaded = true;
  r.lines.push_back(fmt::format("exclude list reloaded: {} entries from {}{}", list_.size(),
                                path_.string(), stamp ? "" : " (the file is gone)"));
  return r;
}

fs::path exclude_file_path(const fs::path& home, const std::string& setting) {
  if (setting.empty()) return {};
  return resolve_in_home(home, setting);
}

} // namespace seedscope::app
