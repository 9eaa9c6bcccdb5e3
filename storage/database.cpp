#include "storage/database.hpp"

#include <sqlite3.h>

#include <array>
#include <cmath>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "core/base/error_category.hpp"

namespace seedscope::storage {

namespace {

std::string_view describe(StorageErrc e) {
  switch (e) {
  case StorageErrc::kSqlite: return "database error";
  case StorageErrc::kNotOurs: return "not a seedscope database";
  case StorageErrc::kNewerSchema: return "database written by a newer seedscope";
  case StorageErrc::kCorrupt: return "database damaged";
  case StorageErrc::kFile: return "file error";
  case StorageErrc::kFormat: return "invalid addrbook.json";
  }
  return "unknown storage error";
}

// Migration N takes the schema from version N-1 to N. Never edit a released migration: add
// one. Version 1: the address book.
constexpr std::array<std::string_view, 4> kMigrations = {
    R"sql(
CREATE TABLE addrbook_meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key TEXT NOT NULL,        -- 24 hex characters: the bucket-hash key
  saved_at INTEGER NOT NULL -- ns since the Unix epoch
);
CREATE TABLE addrbook_addrs (
  id TEXT PRIMARY KEY,      -- node ID (40 hex)
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  src_id TEXT NOT NULL,     -- who told us (may be empty)
  src_ip TEXT NOT NULL,
  src_port INTEGER NOT NULL,
  buckets TEXT NOT NULL,    -- comma-separated bucket indices
  attempts INTEGER NOT NULL,
  bucket_type INTEGER NOT NULL CHECK (bucket_type IN (1, 2)), -- 1 new, 2 old
  last_attempt INTEGER NOT NULL, -- ns since the Unix epoch; 0 = never
  last_success INTEGER NOT NULL,
  last_ban_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE addrbook_bans (
  id TEXT PRIMARY KEY,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  src_id TEXT NOT NULL,
  src_ip TEXT NOT NULL,
  src_port INTEGER NOT NULL,
  buckets TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  bucket_type INTEGER NOT NULL,
  last_attempt INTEGER NOT NULL,
  last_success INTEGER NOT NULL,
  last_ban_time INTEGER NOT NULL,
  until INTEGER NOT NULL    -- ns since the Unix epoch
) WITHOUT ROWID;
)sql",
    // Version 2: the crawler's observatory (storage/SCHEMA.md). Times are Unix seconds (REAL,
    // millisecond precision): datetime(last_seen, 'unixepoch') reads them.
    R"sql(
CREATE TABLE nodes (
  network TEXT NOT NULL,
  id TEXT NOT NULL,
  moniker TEXT NOT NULL,
  version TEXT NOT NULL,
  p2p_version INTEGER NOT NULL,
  block_version INTEGER NOT NULL,
  app_version INTEGER NOT NULL,
  listen_addr TEXT NOT NULL,
  rpc_address TEXT NOT NULL,
  tx_index TEXT NOT NULL,
  channels TEXT NOT NULL,       -- hex
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  PRIMARY KEY (network, id)
) WITHOUT ROWID;
CREATE TABLE node_info_history (
  network TEXT NOT NULL,
  id TEXT NOT NULL,
  seen_at REAL NOT NULL,        -- first seen with these values
  version TEXT NOT NULL,
  moniker TEXT NOT NULL,
  p2p_version INTEGER NOT NULL,
  block_version INTEGER NOT NULL,
  app_version INTEGER NOT NULL
);
CREATE INDEX node_info_history_node ON node_info_history (network, id, seen_at);
CREATE TABLE addresses (
  id TEXT NOT NULL,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  network TEXT NOT NULL,        -- the node's own once contacted; before, its advertiser's
  state TEXT NOT NULL CHECK (state IN ('new', 'reachable', 'unreachable', 'retired')),
  failures INTEGER NOT NULL,    -- consecutive failed contacts
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,      -- last advertised or contacted
  last_attempt REAL,
  last_success REAL,
  next_attempt REAL,            -- NULL when retired
  advertisers INTEGER NOT NULL DEFAULT 0, -- distinct nodes that advertised it
  PRIMARY KEY (id, ip, port)
) WITHOUT ROWID;
CREATE INDEX addresses_network ON addresses (network, state);
CREATE TABLE contacts (
  at REAL NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
  id TEXT NOT NULL,             -- '' when the peer never authenticated
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  network TEXT NOT NULL,
  outcome TEXT NOT NULL,
  stage TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  connect_ms REAL,
  handshake_ms REAL,
  addrs_received INTEGER NOT NULL
);
CREATE INDEX contacts_at ON contacts (at);
CREATE INDEX contacts_node ON contacts (id, at);
CREATE TABLE advertised (
  network TEXT NOT NULL,
  source_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  target_ip TEXT NOT NULL,
  target_port INTEGER NOT NULL,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  PRIMARY KEY (source_id, target_id, target_ip, target_port)
) WITHOUT ROWID;
CREATE INDEX advertised_target ON advertised (target_id);
CREATE TABLE availability (
  network TEXT NOT NULL,
  id TEXT NOT NULL,
  a2h REAL NOT NULL, a8h REAL NOT NULL, a1d REAL NOT NULL, a7d REAL NOT NULL, a30d REAL NOT NULL,
  score REAL NOT NULL,
  updated_at REAL NOT NULL,
  decay_state TEXT NOT NULL,    -- reliability,weight,count per window: resumes the decay
  PRIMARY KEY (network, id)
) WITHOUT ROWID;
CREATE VIEW network_summary AS
  SELECT n.network,
         count(*) AS nodes,
         sum(EXISTS (SELECT 1 FROM addresses a WHERE a.id = n.id AND a.state = 'reachable'))
           AS reachable,
         count(DISTINCT n.version) AS versions,
         sum(n.rpc_address <> '') AS with_rpc,
         max(n.last_seen) AS last_seen
  FROM nodes n GROUP BY n.network;
)sql",
    // Version 3: misbehaving addresses have their own state (they used to be recorded as
    // reachable); the networks seen, and whether an outbound contact confirmed them; the
    // per-network counts defined once (network_counts) for stats, metrics, the API and the
    // crawl summary; the chain an address-book entry belongs to.
    R"sql(
DROP VIEW network_summary;
CREATE TABLE addresses_v3 (
  id TEXT NOT NULL,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  network TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state IN ('new', 'reachable', 'misbehaving', 'unreachable', 'retired')),
  failures INTEGER NOT NULL,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,
  last_attempt REAL,
  last_success REAL,
  next_attempt REAL,
  advertisers INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (id, ip, port)
) WITHOUT ROWID;
INSERT INTO addresses_v3 SELECT id, ip, port, network, state, failures, first_seen, last_seen,
  last_attempt, last_success, next_attempt, advertisers FROM addresses;
-- Addresses whose latest outbound contact misbehaved were recorded as reachable.
UPDATE addresses_v3 SET state = 'misbehaving'
WHERE state = 'reachable' AND (
  SELECT c.outcome FROM contacts c
  WHERE c.direction = 'out' AND c.id = addresses_v3.id AND c.ip = addresses_v3.ip
    AND c.port = addresses_v3.port
  ORDER BY c.at DESC LIMIT 1) = 'misbehaving';
DROP TABLE addresses;
ALTER TABLE addresses_v3 RENAME TO addresses;
CREATE INDEX addresses_network ON addresses (network, state);

CREATE TABLE networks (
  network TEXT PRIMARY KEY,
  first_seen REAL NOT NULL,
  last_seen REAL NOT NULL,     -- last NodeInfo received in this network
  confirmed_at REAL            -- first outbound handshake with one of its nodes; NULL: known
                               -- only from inbound peers
) WITHOUT ROWID;
INSERT INTO networks
  SELECT n.network, min(n.first_seen), max(n.last_seen),
         CASE WHEN EXISTS (SELECT 1 FROM addresses a WHERE a.network = n.network AND
                           a.last_success IS NOT NULL) THEN min(n.first_seen) END
  FROM nodes n GROUP BY n.network;

-- The counts every view of the observatory reports, defined once. nodes: NodeInfo received
-- in this network; reachable: distinct nodes with an address whose last contact verified
-- them (state 'reachable'); misbehaving: likewise with state 'misbehaving'; addresses: every
-- address filed under the network (the node's own once contacted, else its advertiser's).
CREATE VIEW network_counts AS
  SELECT w.network,
         (SELECT count(*) FROM nodes n WHERE n.network = w.network) AS nodes,
         (SELECT count(DISTINCT a.id) FROM addresses a
          WHERE a.network = w.network AND a.state = 'reachable') AS reachable,
         (SELECT count(DISTINCT a.id) FROM addresses a
          WHERE a.network = w.network AND a.state = 'misbehaving') AS misbehaving,
         (SELECT count(*) FROM addresses a WHERE a.network = w.network) AS addresses,
         w.confirmed_at IS NOT NULL AS confirmed,
         w.first_seen, w.last_seen
  FROM networks w;
CREATE VIEW network_summary AS
  SELECT c.network, c.nodes, c.reachable,
         (SELECT count(DISTINCT n.version) FROM nodes n WHERE n.network = c.network) AS versions,
         (SELECT count(*) FROM nodes n WHERE n.network = c.network AND n.rpc_address <> '')
           AS with_rpc,
         c.last_seen
  FROM network_counts c;

ALTER TABLE addrbook_addrs ADD COLUMN network TEXT NOT NULL DEFAULT '';
ALTER TABLE addrbook_bans ADD COLUMN network TEXT NOT NULL DEFAULT '';
)sql",
    // Version 4: where each IP address is, as the operator's MaxMind DB files say.
    R"sql(
CREATE TABLE ip_geo (
  ip TEXT PRIMARY KEY,
  country TEXT NOT NULL,       -- ISO 3166-1 alpha-2; '' unknown
  asn INTEGER NOT NULL,        -- 0 unknown
  as_org TEXT NOT NULL,        -- '' unknown
  updated_at REAL NOT NULL     -- when it was last looked up with a changed answer
) WITHOUT ROWID;
)sql",
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw StorageError(fmt::format("{}: {}", file.string(), what));
}

bool has_sqlite_header(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::array<char, 16> header{};
  in.read(header.data(), header.size());
  return in && std::string_view(header.data(), header.size()) ==
                   std::string_view("SQLite format 3\0", 16);
}

bool is_damage(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

} // namespace

const std::error_category& storage_category() {
  return enum_category<StorageErrc>("storage", describe);
}
std::error_code make_error_code(StorageErrc e) { return {static_cast<int>(e), storage_category()}; }

// ---- Statement ----------------------------------------------------------------------------

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK)
    throw StorageError(fmt::format("prepare \"{}\": {}", sql.substr(0, 60), sqlite3_errmsg(db)));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
    throw StorageError(fmt::format("bind: {}", sqlite3_errmsg(db_)));
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    throw StorageError(fmt::format("bind: {}", sqlite3_errmsg(db_)));
  return *this;
}

Statement& Statement::bind_real(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK)
    throw StorageError(fmt::format("bind: {}", sqlite3_errmsg(db_)));
  return *this;
}

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK)
    throw StorageError(fmt::format("bind: {}", sqlite3_errmsg(db_)));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw StorageError(fmt::format(
      "{}: {}", sqlite3_sql(stmt_) ? std::string_view(sqlite3_sql(stmt_)).substr(0, 60) : "?",
      sqlite3_errmsg(db_)));
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* p = sqlite3_column_text(stmt_, index);
  const int n = sqlite3_column_bytes(stmt_, index);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

// ---- Database -----------------------------------------------------------------------------

double unix_seconds(WallTime t) { return static_cast<double>(t.time_since_epoch().count()) / 1e9; }

WallTime wall_from_unix_seconds(double seconds) {
  return WallTime(std::chrono::milliseconds(std::llround(seconds * 1000.0)));
}

Database Database::connect(const std::filesystem::path& file, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
  Database db(raw, file);
  if (rc != SQLITE_OK)
    fail(file, fmt::format("cannot open: {}", raw ? sqlite3_errmsg(raw) : "out of memory"));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  db.check_ours();
  return db;
}

Database Database::open(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) fail(file, "is a directory, not a database file");
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) fail(file, fmt::format("cannot create its directory: {}", ec.message()));
  }
  // Not even SQLite: say so before SQLite gets to touch it.
  if (std::filesystem::exists(file, ec) && std::filesystem::file_size(file, ec) > 0 &&
      !has_sqlite_header(file))
    fail(file, "not a seedscope database (not an SQLite file); refusing to use or overwrite it");
  Database db = connect(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  db.migrate(latest_schema_version());
  return db;
}

Database Database::open_at_version(const std::filesystem::path& file, int version) {
  Database db = connect(file, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL;");
  db.migrate(std::min(version, latest_schema_version()));
  return db;
}

Database Database::open_read_only(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) fail(file, "is a directory, not a database file");
  if (!std::filesystem::exists(file, ec))
    fail(file, "no such database (run `seedscope crawl` first)");
  if (!has_sqlite_header(file)) fail(file, "not a seedscope database (not an SQLite file)");
  Database db = connect(file, SQLITE_OPEN_READONLY);
  if (db.schema_version() != latest_schema_version())
    fail(file, fmt::format("schema version {} (this seedscope reads {}); run `seedscope crawl` "
                           "once to migrate it",
                           db.schema_version(), latest_schema_version()));
  return db;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      path_(std::move(other.path_)) {}

void Database::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (is_damage(rc)) fail(path_, "database damaged: " + msg);
    fail(path_, msg);
  }
}

int Database::changes() { return sqlite3_changes(db_); }

std::int64_t Database::last_insert_rowid() { return sqlite3_last_insert_rowid(db_); }

std::int64_t Database::pragma_int(const char* name) {
  Statement st(db_, fmt::format("PRAGMA {}", name));
  return st.step() ? st.column_int(0) : 0;
}

int Database::schema_version() { return static_cast<int>(pragma_int("user_version")); }
int Database::latest_schema_version() { return static_cast<int>(kMigrations.size()); }

void Database::check_ours() {
  try {
    std::int64_t tables = 0;
    {
      Statement st(db_, "SELECT count(*) FROM sqlite_schema");
      if (st.step()) tables = st.column_int(0);
    }
    const auto app_id = static_cast<std::uint32_t>(pragma_int("application_id"));
    if (app_id != kApplicationId && (app_id != 0 || tables != 0))
      fail(path_, app_id == 0
                      ? "an SQLite database of another application (it has tables but no "
                        "seedscope application_id); refusing to use or overwrite it"
                      : fmt::format("an SQLite database of another application (application_id "
                                    "{:#x}); refusing to use or overwrite it",
                                    app_id));
    const int version = schema_version();
    if (version > latest_schema_version())
      fail(path_, fmt::format("schema version {} was written by a newer seedscope (this one "
                              "knows up to {}); upgrade seedscope",
                              version, latest_schema_version()));
    Statement check(db_, "PRAGMA quick_check");
    std::string result;
    while (check.step()) {
      if (!result.empty()) result += "; ";
      result += check.column_text(0);
      if (result.size() > 300) break;
    }
    if (result != "ok")
      fail(path_, "database damaged (quick_check: " + result +
                      "); restore it from a backup or move it away");
  } catch (const StorageError& e) {
    const int rc = sqlite3_extended_errcode(db_);
    const std::string what = e.what();
    if (what.rfind(path_.string() + ":", 0) == 0) throw;
    if (is_damage(rc))
      fail(path_, fmt::format("database damaged ({}); restore it from a backup or move it away",
                              sqlite3_errmsg(db_)));
    fail(path_, what);
  }
}

void Database::migrate(int up_to) {
  for (int v = schema_version(); v < up_to; ++v) {
    Transaction tx(*this);
    exec(kMigrations[static_cast<std::size_t>(v)]);
    exec(fmt::format("PRAGMA user_version = {}", v + 1));
    if (v == 0) exec(fmt::format("PRAGMA application_id = {}", kApplicationId));
    tx.commit();
  }
}

// ---- Transaction --------------------------------------------------------------------------

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  char* err = nullptr;
  sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, &err);
  sqlite3_free(err);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

} // namespace seedscope::storage
