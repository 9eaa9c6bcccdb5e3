#include "crawler/geo/maxmind.hpp"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace seedscope::geo {

namespace fs = std::filesystem;

std::string_view to_string(DbKind kind) { return kind == DbKind::kAsn ? "asn" : "country"; }

std::optional<DbKind> kind_of_type(std::string_view database_type) {
  std::string t(database_type);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t.find("asn") != std::string::npos || t.find("isp") != std::string::npos) return DbKind::kAsn;
  if (t.find("country") != std::string::npos || t.find("city") != std::string::npos)
    return DbKind::kCountry;
  return std::nullopt;
}

struct MaxMindDb::Handle {
  MMDB_s mmdb{};
  ~Handle() { MMDB_close(&mmdb); }
};

MaxMindDb::MaxMindDb(fs::path file, std::unique_ptr<Handle> handle, DbKind kind, std::string type)
    : file_(std::move(file)),
      handle_(std::move(handle)),
      kind_(kind),
      type_(std::move(type)) {}

MaxMindDb::~MaxMindDb() = default;

namespace {

// A private copy of `file` in `dir`, or "" when it cannot be made (then the file is opened in
// place).
fs::path private_copy(const fs::path& file, const fs::path& dir) {
  if (dir.empty()) return {};
  static std::atomic<unsigned> counter{0};
  const fs::path copy = dir / fmt::format(".seedscope-geo-{}-{}.mmdb", ::getpid(), counter++);
  std::error_code ec;
  if (!fs::copy_file(file, copy, fs::copy_options::overwrite_existing, ec)) {
    fs::remove(copy, ec);
    return {};
  }
  return copy;
}

} // namespace

std::unique_ptr<MaxMindDb> MaxMindDb::open(const fs::path& file, std::optional<DbKind> kind,
                                           const fs::path& scratch_dir) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    throw GeoError(fmt::format("geo database {}: no such file", file.string()));
  if (!fs::is_regular_file(file, ec))
    throw GeoError(fmt::format("geo database {}: not a regular file", file.string()));
  auto handle = std::make_unique<Handle>();
  const fs::path copy = private_copy(file, scratch_dir);
  const fs::path& target = copy.empty() ? file : copy;
  const int status = MMDB_open(target.c_str(), MMDB_MODE_MMAP, &handle->mmdb);
  const int open_errno = errno;
  if (!copy.empty()) fs::remove(copy, ec); // the mapping outlives the name
  if (status != MMDB_SUCCESS) {
    std::string why = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR)
      why += fmt::format(" ({})", std::strerror(open_errno));
    // MMDB_open leaves nothing to close on failure.
    handle->mmdb = MMDB_s{};
    throw GeoError(
        fmt::format("geo database {}: not a usable MaxMind DB file: {}", file.string(), why));
  }
  const char* raw_type = handle->mmdb.metadata.database_type;
  std::string type = raw_type != nullptr ? raw_type : "";
  const auto found = kind_of_type(type);
  if (!found)
    throw GeoError(fmt::format("geo database {}: its type \"{}\" holds neither countries nor "
                               "ASNs (expected a Country, City or ASN database)",
                               file.string(), type));
  if (kind && *found != *kind) {
    auto what = [](DbKind k) { return k == DbKind::kAsn ? "ASNs" : "countries"; };
    throw GeoError(fmt::format("geo database {}: holds {} (\"{}\"), not {}", file.string(),
                               what(*found), type, what(*kind)));
  }
  return std::unique_ptr<MaxMindDb>(new MaxMindDb(file, std::move(handle), *found, type));
}

namespace {

// A string value at `path`, or "" (missing or of another type).
std::string string_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return {};
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING) return {};
  return std::string(data.utf8_string, data.data_size);
}

std::uint32_t uint_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data{};
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return 0;
  switch (data.type) {
  case MMDB_DATA_TYPE_UINT16: return data.uint16;
  case MMDB_DATA_TYPE_UINT32: return data.uint32;
  case MMDB_DATA_TYPE_INT32: return data.int32 > 0 ? static_cast<std::uint32_t>(data.int32) : 0;
  case MMDB_DATA_TYPE_UINT64:
    return data.uint64 <= 0xffffffffu ? static_cast<std::uint32_t>(data.uint64) : 0;
  default: return 0;
  }
}

} // namespace

bool MaxMindDb::lookup(const IpAddress& ip, GeoInfo& info, std::string& error) const {
  sockaddr_storage storage{};
  const auto& b = ip.bytes();
  if (ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, b.data() + 12, 4);
  } else {
    if (handle_->mmdb.metadata.ip_version == 4) return true; // not covered
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, b.data(), 16);
  }
  int mmdb_error = MMDB_SUCCESS;
  auto result = MMDB_lookup_sockaddr(&handle_->mmdb, reinterpret_cast<const sockaddr*>(&storage),
                                     &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) {
    error = fmt::format("geo database {}: lookup of {} failed: {}", file_.string(), ip.to_string(),
                        MMDB_strerror(mmdb_error));
    return false;
  }
  if (!result.found_entry) return true;
  if (kind_ == DbKind::kCountry) {
    static const char* const country[] = {"country", "iso_code", nullptr};
    static const char* const registered[] = {"registered_country", "iso_code", nullptr};
    std::string code = string_at(result.entry, country);
    if (code.empty()) code = string_at(result.entry, registered);
    if (!code.empty()) info.country = std::move(code);
  } else {
    static const char* const number[] = {"autonomous_system_number", nullptr};
    static const char* const org[] = {"autonomous_system_organization", nullptr};
    if (auto asn = uint_at(result.entry, number)) info.asn = asn;
    std::string name = string_at(result.entry, org);
    if (!name.empty()) info.as_org = std::move(name);
  }
  return true;
}

GeoLookup::GeoLookup(std::vector<Source> sources, fs::path scratch_dir)
    : scratch_dir_(std::move(scratch_dir)) {
  for (auto& s : sources) {
    Entry e;
    e.source = std::move(s);
    entries_.push_back(std::move(e));
  }
}

bool GeoLookup::refresh(std::vector<std::string>& errors) {
  bool changed = false;
  for (auto& e : entries_) {
    // What the file is now: its mtime and size, or none when it cannot be seen (missing).
    std::error_code ec;
    std::optional<Stamp> stamp = Stamp{fs::last_write_time(e.source.file, ec), 0};
    if (!ec) stamp->size = fs::file_size(e.source.file, ec);
    if (ec) stamp.reset();
    if (e.tried && stamp == e.stamp) continue; // unchanged: opened, or said, already
    e.tried = true;
    e.stamp = stamp;
    try {
      e.db = MaxMindDb::open(e.source.file, e.source.kind, scratch_dir_);
      changed = true;
    } catch (const GeoError& err) {
      errors.push_back(std::string(err.what()) +
                       (e.db ? " (the database opened before stays in use)" : ""));
    }
  }
  return changed;
}

bool GeoLookup::any_open() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const Entry& e) { return e.db != nullptr; });
}

std::vector<std::string> GeoLookup::describe() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e.db)
      out.push_back(fmt::format("{}: {} ({})", to_string(e.db->kind()), e.source.file.string(),
                                e.db->type()));
  return out;
}

GeoInfo GeoLookup::lookup(const IpAddress& ip, std::vector<std::string>& errors) const {
  GeoInfo info;
  for (const auto& e : entries_) {
    if (!e.db) continue;
    std::string error;
    if (!e.db->lookup(ip, info, error)) errors.push_back(std::move(error));
  }
  return info;
}

} // namespace seedscope::geo
