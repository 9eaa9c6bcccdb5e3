// storage/: the SQLite database (migrations, refusals that leave the file untouched), the
// address-book store, and Tendermint's addrbook.json (Go's exact format, strict import).
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "storage/addr_book_store.hpp"
#include "storage/addrbook_json.hpp"
#include "storage/database.hpp"
#include "unit/pex/addr_book_fixture.hpp"

using namespace seedscope;
using namespace seedscope::pex;
using namespace seedscope::pex::test;
using namespace seedscope::storage;
namespace fs = std::filesystem;
using std::chrono::hours;

namespace {

struct TempDir {
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / fmt::format("seedscope-storage-{:x}", rd() ^ (rd() << 16));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string slurp(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}
void spit(const fs::path& f, const std::string& text) {
  std::ofstream out(f, std::ios::binary | std::ios::trunc);
  out << text;
}

// A book with new entries (one in several buckets), old entries, IPv6, attempts and bans.
AddrBookSnapshot sample_book() {
  SeededRng rng(7);
  AddrBook book(fixed_key(), rng);
  fill(book, 60, 25);
  const NetAddress multi = v4(30, 40, 1, 1, 1000);
  for (std::uint32_t i = 0; i < 300; ++i) (void)book.add_address(multi, spread_addr(i), kT0);
  auto v6 = IpAddress::parse("2001:4860:4860::8888");
  REQUIRE(v6);
  REQUIRE(book.add_address(NetAddress{make_id(5000), *v6, 26656}, spread_addr(1), kT0).ok());
  book.mark_attempt(spread_addr(30), kT0 + hours(1) + std::chrono::nanoseconds(123456700));
  book.mark_bad(spread_addr(31), hours(24), kT0);
  book.mark_bad(spread_addr(5), hours(48), kT0);
  return book.snapshot();
}

void check_same(const AddrBookSnapshot& a, const AddrBookSnapshot& b, bool with_bans = true) {
  CHECK(a.key_hex == b.key_hex);
  REQUIRE(a.addrs.size() == b.addrs.size());
  std::map<std::string, KnownAddress> by_id;
  for (const auto& ka : b.addrs) by_id[ka.addr.id] = ka;
  for (const auto& ka : a.addrs) {
    INFO(ka.addr.to_string());
    REQUIRE(by_id.count(ka.addr.id) == 1);
    CHECK(by_id[ka.addr.id] == ka);
  }
  if (with_bans) {
    REQUIRE(a.bans.size() == b.bans.size());
    std::map<std::string, Ban> bans;
    for (const auto& x : b.bans) bans[x.entry.addr.id] = x;
    for (const auto& x : a.bans) CHECK(bans[x.entry.addr.id] == x);
  }
}

void check_refused(const fs::path& file, const std::string& expected) {
  const std::string before = slurp(file);
  std::string what;
  try {
    Database::open(file);
  } catch (const StorageError& e) {
    what = e.what();
  }
  INFO(what);
  CHECK(what.find(expected) != std::string::npos);
  CHECK(what.find(file.string()) != std::string::npos);
  CHECK(slurp(file) == before); // untouched
  CHECK_FALSE(fs::exists(file.string() + "-wal"));
}

} // namespace

TEST_CASE("database: a new file is created at the latest schema with our application id") {
  TempDir dir;
  const fs::path file = dir.path / "sub" / "seedscope.db";
  {
    auto db = Database::open(file);
    CHECK(db.schema_version() == Database::latest_schema_version());
    auto st = db.prepare("PRAGMA application_id");
    REQUIRE(st.step());
    CHECK(st.column_int(0) == Database::kApplicationId);
    auto jm = db.prepare("PRAGMA journal_mode");
    REQUIRE(jm.step());
    CHECK(jm.column_text(0) == "wal");
  }
  // Reopening migrates nothing and keeps data.
  auto db = Database::open(file);
  CHECK(db.schema_version() == Database::latest_schema_version());
}

TEST_CASE("database: files that are not ours are refused and left untouched") {
  TempDir dir;
  SUBCASE("not SQLite") {
    const fs::path f = dir.path / "text.db";
    spit(f, "this is not a database, it is somebody's notes\n");
    check_refused(f, "not an SQLite file");
  }
  SUBCASE("another application's SQLite database") {
    const fs::path f = dir.path / "other.db";
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(f.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "CREATE TABLE wallet(k TEXT); INSERT INTO wallet VALUES('x');",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    check_refused(f, "another application");
  }
  SUBCASE("another application id") {
    const fs::path f = dir.path / "other-id.db";
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(f.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "PRAGMA application_id = 42; CREATE TABLE t(x);", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    check_refused(f, "application_id 0x2a");
  }
  SUBCASE("a newer schema") {
    const fs::path f = dir.path / "newer.db";
    {
      auto db = Database::open(f);
      db.exec("PRAGMA user_version = 999");
    }
    // Fold the WAL back so the file alone is the database.
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(f.c_str(), &raw) == SQLITE_OK);
    sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;", nullptr,
                 nullptr, nullptr);
    sqlite3_close(raw);
    check_refused(f, "newer seedscope");
  }
  SUBCASE("a damaged database") {
    const fs::path f = dir.path / "damaged.db";
    {
      auto db = Database::open(f);
      SqliteAddrBookStore store(db);
      REQUIRE(store.save(sample_book()).ok());
      db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    }
    std::string bytes = slurp(f);
    REQUIRE(bytes.size() > 4 * 4096);
    // Scribble over the second page onwards, keep the header page intact.
    for (std::size_t i = 4096 + 8; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(0xA5);
    spit(f, bytes);
    check_refused(f, "damaged");
  }
}

TEST_CASE("store: the address book survives a save, a reopen and a load") {
  TempDir dir;
  const fs::path file = dir.path / "book.db";
  AddrBookSnapshot snap = sample_book();
  REQUIRE(snap.bans.size() == 2);
  // The chain an address was verified in is kept (addrbook.json has no place for it).
  snap.addrs[0].network = "chain-x";
  snap.bans[0].entry.network = "chain-y";
  {
    auto db = Database::open(file);
    SqliteAddrBookStore store(db);
    auto empty = store.load();
    REQUIRE(empty.ok());
    CHECK_FALSE(empty->has_value());
    REQUIRE(store.save(snap).ok());
  }
  auto db = Database::open(file);
  SqliteAddrBookStore store(db);
  auto loaded = store.load();
  REQUIRE(loaded.ok());
  REQUIRE(loaded->has_value());
  check_same(snap, **loaded);
  // The loaded snapshot rebuilds the same book.
  SeededRng rng(1);
  AddrBook book(AddrBookConfig{true, std::nullopt}, rng);
  REQUIRE(book.restore(**loaded).ok());
  check_same(snap, book.snapshot());
}

TEST_CASE("store: a second save replaces the first; a failed save leaves the old book") {
  TempDir dir;
  auto db = Database::open(dir.path / "book.db");
  SqliteAddrBookStore store(db);
  const AddrBookSnapshot big = sample_book();
  REQUIRE(store.save(big).ok());
  AddrBookSnapshot small;
  small.key_hex = "ffeeddccbbaa998877665544";
  small.addrs.assign(big.addrs.begin(), big.addrs.begin() + 3);
  REQUIRE(store.save(small).ok());
  check_same(small, **store.load());

  // Two entries with the same ID violate the primary key halfway through the save.
  AddrBookSnapshot broken = big;
  broken.addrs.push_back(big.addrs.front());
  auto st = store.save(broken);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message().find("saving the address book") != std::string::npos);
  check_same(small, **store.load());
}

TEST_CASE("addrbook.json: Go's exact format") {
  AddrBookSnapshot snap;
  snap.key_hex = "0a1b2c3d4e5f60718293a4b5";
  KnownAddress ka;
  ka.addr = NetAddress{make_id(1), IpAddress::v4(1, 2, 3, 4), 26656};
  ka.src = NetAddress{make_id(2), *IpAddress::parse("2001:db8::1"), 26657};
  ka.buckets = {12, 200};
  ka.attempts = 2;
  ka.bucket_type = BucketType::kNew;
  ka.last_attempt = WallTime(std::chrono::sys_days{std::chrono::year{2024} / 3 / 5}) + hours(7) +
                    std::chrono::minutes(8) + std::chrono::seconds(9) +
                    std::chrono::nanoseconds(120000000);
  snap.addrs.push_back(ka);
  const std::string expected = "{\n"
                               "\t\"key\": \"0a1b2c3d4e5f60718293a4b5\",\n"
                               "\t\"addrs\": [\n"
                               "\t\t{\n"
                               "\t\t\t\"addr\": {\n"
                               "\t\t\t\t\"id\": \"0000000000000000000000000000000000000002\",\n"
                               "\t\t\t\t\"ip\": \"1.2.3.4\",\n"
                               "\t\t\t\t\"port\": 26656\n"
                               "\t\t\t},\n"
                               "\t\t\t\"src\": {\n"
                               "\t\t\t\t\"id\": \"0000000000000000000000000000000000000003\",\n"
                               "\t\t\t\t\"ip\": \"2001:db8::1\",\n"
                               "\t\t\t\t\"port\": 26657\n"
                               "\t\t\t},\n"
                               "\t\t\t\"buckets\": [\n"
                               "\t\t\t\t12,\n"
                               "\t\t\t\t200\n"
                               "\t\t\t],\n"
                               "\t\t\t\"attempts\": 2,\n"
                               "\t\t\t\"bucket_type\": 1,\n"
                               "\t\t\t\"last_attempt\": \"2024-03-05T07:08:09.12Z\",\n"
                               "\t\t\t\"last_success\": \"0001-01-01T00:00:00Z\",\n"
                               "\t\t\t\"last_ban_time\": \"0001-01-01T00:00:00Z\"\n"
                               "\t\t}\n"
                               "\t]\n"
                               "}";
  CHECK(to_addrbook_json(snap) == expected);
  auto back = from_addrbook_json(expected);
  REQUIRE(back.ok());
  check_same(snap, *back);
}

TEST_CASE("addrbook.json: times as Go writes and reads them") {
  CHECK(format_go_time(WallTime{}) == "0001-01-01T00:00:00Z");
  const WallTime t = WallTime(std::chrono::sys_days{std::chrono::year{2023} / 12 / 31}) +
                     hours(23) + std::chrono::seconds(59) + std::chrono::nanoseconds(1);
  CHECK(format_go_time(t) == "2023-12-31T23:00:59.000000001Z");
  CHECK(parse_go_time("2023-12-31T23:00:59.000000001Z") == t);
  CHECK(parse_go_time("2024-01-01T01:00:59.000000001+02:00") == t);
  CHECK(parse_go_time("2023-12-31T20:30:59.000000001-02:30") == t);
  CHECK(parse_go_time("0001-01-01T00:00:00Z") == WallTime{});
  CHECK_FALSE(parse_go_time("2023-13-01T00:00:00Z"));
  CHECK_FALSE(parse_go_time("2023-02-30T00:00:00Z"));
  CHECK_FALSE(parse_go_time("2023-01-01 00:00:00"));
  CHECK_FALSE(parse_go_time("yesterday"));
}

TEST_CASE("addrbook.json: export then import gives the same book (bans excluded)") {
  const AddrBookSnapshot snap = sample_book();
  auto back = from_addrbook_json(to_addrbook_json(snap));
  REQUIRE(back.ok());
  CHECK(back->bans.empty());
  check_same(snap, *back, /*with_bans=*/false);
  SeededRng rng(3);
  AddrBook book(AddrBookConfig{true, std::nullopt}, rng);
  REQUIRE(book.restore(*back).ok());
  CHECK(book.size() == snap.addrs.size());
}

TEST_CASE("addrbook.json: broken files are refused with a message naming the problem") {
  const std::string good = to_addrbook_json(sample_book());
  auto refused = [](const std::string& text, const std::string& expected) {
    auto r = from_addrbook_json(text);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message());
    CHECK(r.error().message().find(expected) != std::string::npos);
  };
  auto replace_first = [&](std::string from, std::string to) {
    std::string s = good;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  refused(good.substr(0, good.size() / 2), "not valid JSON");
  refused("", "not valid JSON");
  // Found by addrbook_json_fuzz: a number too large for a double threw out_of_range, which
  // escaped the import instead of being this error.
  refused("[-3.4e70618293777]", "not valid JSON");
  refused("{\"key\": \"0a1b2c3d4e5f60718293a4b5\", \"addrs\": [1e999]}", "not valid JSON");
  refused("[1,2,3]", "not an object");
  refused("{\"addrs\": []}", "key: missing");
  refused(replace_first("\"key\": \"00112233445566778899aabb\"", "\"key\": \"xyz\""),
          "is not 24 hex characters");
  refused(replace_first("\"bucket_type\": 1", "\"bucket_type\": 3"), "addrs[0].bucket_type");
  refused(replace_first("\"buckets\": [\n\t\t\t\t", "\"buckets\": [\n\t\t\t\t999,"),
          "addrs[0].buckets[0]: 999 out of range 0..255");
  refused(replace_first("\"ip\": \"", "\"ip\": \"no."), "is not an IP address");
  refused(replace_first("\"last_attempt\": \"", "\"last_attempt\": \"x"), "not an RFC 3339 time");
  refused(replace_first("\"id\": \"0", "\"id\": \"Z"), "is not a node ID");
}

TEST_CASE("files: atomic write replaces the file whole; read errors name the file") {
  TempDir dir;
  const fs::path f = dir.path / "out.json";
  REQUIRE(write_file_atomically(f, "first").ok());
  REQUIRE(write_file_atomically(f, "second version").ok());
  CHECK(slurp(f) == "second version");
  CHECK_FALSE(fs::exists(f.string() + ".tmp"));
  auto missing = read_text_file(dir.path / "nope.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message().find("nope.json") != std::string::npos);
  auto st = write_file_atomically(dir.path / "no-such-dir" / "x.json", "x");
  CHECK_FALSE(st.ok());
}
