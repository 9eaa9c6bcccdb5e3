#include "storage/addr_book_store.hpp"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace seedscope::storage {

namespace {

std::int64_t ns(WallTime t) { return t.time_since_epoch().count(); }
WallTime wall(std::int64_t v) { return WallTime(std::chrono::nanoseconds(v)); }

std::string join_buckets(const std::vector<int>& buckets) {
  std::string out;
  for (int b : buckets) {
    if (!out.empty()) out += ',';
    out += std::to_string(b);
  }
  return out;
}

std::vector<int> split_buckets(const std::string& text, const std::string& id) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    int v = 0;
    auto [p, ec] = std::from_chars(text.data() + at, text.data() + end, v);
    if (ec != std::errc() || p != text.data() + end)
      throw StorageError(fmt::format("address {}: bad bucket list \"{}\"", id, text));
    out.push_back(v);
    at = end + 1;
  }
  return out;
}

NetAddress address(const std::string& id, const std::string& ip, std::int64_t port,
                   const char* what) {
  auto parsed = IpAddress::parse(ip);
  if (!parsed || port < 0 || port > 65535)
    throw StorageError(fmt::format("address {}: bad {} \"{}\" port {}", id, what, ip, port));
  return NetAddress{id, *parsed, static_cast<std::uint16_t>(port)};
}

constexpr const char* kColumns =
    "id, ip, port, src_id, src_ip, src_port, buckets, attempts, bucket_type, last_attempt, "
    "last_success, last_ban_time, network";

pex::KnownAddress read_row(const Statement& st) {
  pex::KnownAddress ka;
  const std::string id = st.column_text(0);
  ka.addr = address(id, st.column_text(1), st.column_int(2), "ip");
  ka.src = address(st.column_text(3), st.column_text(4), st.column_int(5), "source ip");
  ka.buckets = split_buckets(st.column_text(6), id);
  ka.attempts = static_cast<int>(st.column_int(7));
  const auto type = st.column_int(8);
  if (type != 1 && type != 2)
    throw StorageError(fmt::format("address {}: bucket_type {}", id, type));
  ka.bucket_type = static_cast<pex::BucketType>(type);
  ka.last_attempt = wall(st.column_int(9));
  ka.last_success = wall(st.column_int(10));
  ka.last_ban_time = wall(st.column_int(11));
  ka.network = st.column_text(12);
  return ka;
}

void bind_row(Statement& st, const pex::KnownAddress& ka) {
  st.bind(1, ka.addr.id)
      .bind(2, ka.addr.ip.to_string())
      .bind(3, std::int64_t{ka.addr.port})
      .bind(4, ka.src.id)
      .bind(5, ka.src.ip.to_string())
      .bind(6, std::int64_t{ka.src.port})
      .bind(7, join_buckets(ka.buckets))
      .bind(8, std::int64_t{ka.attempts})
      .bind(9, static_cast<std::int64_t>(ka.bucket_type))
      .bind(10, ns(ka.last_attempt))
      .bind(11, ns(ka.last_success))
      .bind(12, ns(ka.last_ban_time))
      .bind(13, ka.network);
}

} // namespace

Result<std::optional<pex::AddrBookSnapshot>> SqliteAddrBookStore::load() {
  try {
    pex::AddrBookSnapshot snap;
    {
      Statement meta = db_.prepare("SELECT key FROM addrbook_meta WHERE id = 1");
      if (!meta.step()) return std::optional<pex::AddrBookSnapshot>();
      snap.key_hex = meta.column_text(0);
    }
    Statement addrs = db_.prepare(fmt::format("SELECT {} FROM addrbook_addrs", kColumns));
    while (addrs.step()) snap.addrs.push_back(read_row(addrs));
    Statement bans = db_.prepare(fmt::format("SELECT {}, until FROM addrbook_bans", kColumns));
    while (bans.step()) snap.bans.push_back({read_row(bans), wall(bans.column_int(13))});
    return std::optional<pex::AddrBookSnapshot>(std::move(snap));
  } catch (const StorageError& e) {
    return make_error(StorageErrc::kSqlite, fmt::format("{}: reading the address book: {}",
                                                        db_.path().string(), e.what()));
  }
}

Status SqliteAddrBookStore::save(const pex::AddrBookSnapshot& snapshot) {
  return write(snapshot, true);
}

Status SqliteAddrBookStore::save_keeping_bans(const pex::AddrBookSnapshot& snapshot) {
  return write(snapshot, false);
}

Status SqliteAddrBookStore::write(const pex::AddrBookSnapshot& snapshot, bool replace_bans) {
  try {
    Transaction tx(db_);
    db_.exec("DELETE FROM addrbook_addrs");
    db_.prepare("INSERT OR REPLACE INTO addrbook_meta (id, key, saved_at) VALUES (1, ?, ?)")
        .bind(1, snapshot.key_hex)
        .bind(2, ns(std::chrono::time_point_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now())))
        .step();
    Statement ins = db_.prepare(fmt::format(
        "INSERT INTO addrbook_addrs ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", kColumns));
    for (const auto& ka : snapshot.addrs) {
      bind_row(ins, ka);
      ins.step();
      ins.reset();
    }
    if (replace_bans) {
      db_.exec("DELETE FROM addrbook_bans");
      Statement ban = db_.prepare(fmt::format(
          "INSERT INTO addrbook_bans ({}, until) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kColumns));
      for (const auto& b : snapshot.bans) {
        bind_row(ban, b.entry);
        ban.bind(14, ns(b.until));
        ban.step();
        ban.reset();
      }
    }
    tx.commit();
    return ok_status();
  } catch (const StorageError& e) {
    return make_error(StorageErrc::kSqlite, fmt::format("{}: saving the address book: {}",
                                                        db_.path().string(), e.what()));
  }
}

} // namespace seedscope::storage
