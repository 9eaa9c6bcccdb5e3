// An SQLite database of ours: WAL mode, identified by its application_id, with a versioned
// schema (PRAGMA user_version) brought up to date by ordered migrations, each in its own
// transaction. A file that is not ours (not SQLite, another application, a newer schema) or
// that is damaged is refused with a clear error before anything is written to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "core/base/clock.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace seedscope::storage {

class StorageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class StorageErrc {
  kSqlite = 1,  // an SQLite call failed
  kNotOurs,     // not SQLite, or another application's database
  kNewerSchema, // written by a newer seedscope
  kCorrupt,     // integrity check failed
  kFile,        // reading or writing a file
  kFormat,      // an addrbook.json that cannot be used
};
const std::error_category& storage_category();
std::error_code make_error_code(StorageErrc e);

// A prepared statement. Columns and parameters are 0-based for columns, 1-based for binds
// (SQLite's convention). Throws StorageError.
class Statement {
public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_real(int index, double value);
  Statement& bind_null(int index);
  // True when a row is ready, false when done.
  bool step();
  void reset();
  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  double column_double(int index) const;
  bool column_is_null(int index) const;

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Times in the observatory tables: Unix seconds as REAL, millisecond precision (a double
// holds Unix seconds to about 0.2 us, so reading back rounds to the millisecond).
double unix_seconds(WallTime t);
WallTime wall_from_unix_seconds(double seconds);

class Database {
public:
  static constexpr std::uint32_t kApplicationId = 0x53454544; // "SEED"

  // Opens (creating it and its directory if missing) and migrates. Throws StorageError.
  static Database open(const std::filesystem::path& file);
  // Opens (creating) and migrates only up to `version`: for tests of the migrations.
  static Database open_at_version(const std::filesystem::path& file, int version);
  // Opens an existing database for reading only (exports, the HTTP API, stats): nothing is
  // created, migrated or written. Throws StorageError when missing, not ours, damaged, or of
  // another schema version than this seedscope's.
  static Database open_read_only(const std::filesystem::path& file);
  ~Database();
  Database(Database&& other) noexcept;
  Database& operator=(Database&&) = delete;
  Database(const Database&) = delete;

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  int schema_version();
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes();
  // The rowid of the last row inserted on this connection.
  std::int64_t last_insert_rowid();
  static int latest_schema_version();
  const std::filesystem::path& path() const { return path_; }
  sqlite3* handle() { return db_; }

private:
  Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  // sqlite3_open_v2 with `flags`, extended result codes, a busy timeout, then check_ours().
  static Database connect(const std::filesystem::path& file, int flags);
  void check_ours();
  void migrate(int up_to);
  std::int64_t pragma_int(const char* name);

  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted (an exception left).
class Transaction {
public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

private:
  Database& db_;
  bool done_ = false;
};

} // namespace seedscope::storage

namespace std {
template <> struct is_error_code_enum<seedscope::storage::StorageErrc> : true_type {};
} // namespace std
