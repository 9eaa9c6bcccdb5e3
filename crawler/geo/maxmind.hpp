// Country and ASN lookups in MaxMind DB files that the operator provides (GeoLite2-Country,
// -City and -ASN, or DB-IP's free lite files), with libmaxminddb. Nothing is fetched and no
// data is bundled. Opening and looking up read files: call off the event loop.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/geo/geo.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::geo {

// A database file that cannot be used: missing, not a MaxMind DB file, or of the wrong kind.
// what() names the file and the reason.
class GeoError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class DbKind { kCountry, kAsn };
std::string_view to_string(DbKind kind); // "country", "asn"

// The kind a MaxMind DB's `database_type` names: Country and City databases (GeoLite2-City,
// DBIP-Country-Lite) give countries, ASN and ISP databases ASNs. None for other types.
std::optional<DbKind> kind_of_type(std::string_view database_type);

// One opened database file. Lookups are thread-safe and read only.
class MaxMindDb {
public:
  // Opens `file`. With `kind`, the file must be of that kind; without, its type decides.
  // With a `scratch_dir`, the file is first copied there and the copy opened (and unlinked at
  // once): the mapping is then private, so a database file rewritten in place while seedscope
  // runs cannot pull pages out from under it. Throws GeoError.
  static std::unique_ptr<MaxMindDb> open(const std::filesystem::path& file,
                                         std::optional<DbKind> kind,
                                         const std::filesystem::path& scratch_dir = {});
  ~MaxMindDb();
  MaxMindDb(const MaxMindDb&) = delete;
  MaxMindDb& operator=(const MaxMindDb&) = delete;

  DbKind kind() const { return kind_; }
  const std::string& type() const { return type_; } // metadata database_type
  const std::filesystem::path& file() const { return file_; }

  // Fills `info`'s fields of this database's kind (country, or asn and as_org). Returns false
  // and sets `error` when the lookup itself failed (a damaged data section); an address the
  // database does not cover is no error and leaves `info` unchanged.
  bool lookup(const IpAddress& ip, GeoInfo& info, std::string& error) const;

private:
  struct Handle;
  MaxMindDb(std::filesystem::path file, std::unique_ptr<Handle> handle, DbKind kind,
            std::string type);
  std::filesystem::path file_;
  std::unique_ptr<Handle> handle_;
  DbKind kind_;
  std::string type_;
};

// The configured databases, reopened when a file changes (its mtime or size). Not
// thread-safe: one thread at a time (crawler/app's annotator keeps it on one work item).
class GeoLookup {
public:
  struct Source {
    std::filesystem::path file;
    std::optional<DbKind> kind; // none: decided by the file's type (--geo-db)
  };
  explicit GeoLookup(std::vector<Source> sources, std::filesystem::path scratch_dir = {});

  // Checks every file and (re)opens those that changed since they were last opened or
  // tried. A file that cannot be opened leaves its previous database (if any) in use; the
  // error is returned once per change of the file. Returns true when a database was opened,
  // replaced or dropped: every address should be looked up again.
  bool refresh(std::vector<std::string>& errors);

  bool any_open() const;
  // What each file gives now: "country: /x/GeoLite2-Country.mmdb (GeoLite2-Country)".
  std::vector<std::string> describe() const;
  // Looks `ip` up in every open database. Errors (damaged data) are appended.
  GeoInfo lookup(const IpAddress& ip, std::vector<std::string>& errors) const;

private:
  struct Stamp {
    std::filesystem::file_time_type mtime{};
    std::uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Entry {
    Source source;
    std::unique_ptr<MaxMindDb> db;
    bool tried = false;
    std::optional<Stamp> stamp; // when last tried; none: the file was missing
  };
  std::vector<Entry> entries_;
  std::filesystem::path scratch_dir_;
};

} // namespace seedscope::geo
