#include "storage/observatory.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/base/bytes.hpp"
#include "storage/database.hpp"

namespace seedscope::storage {

namespace {

void bind_time(Statement& st, int index, WallTime t) {
  if (is_set(t) && t != WallTime::max()) st.bind_real(index, unix_seconds(t));
  else st.bind_null(index);
}

WallTime column_time(const Statement& st, int index) {
  return st.column_is_null(index) ? WallTime{} : wall_from_unix_seconds(st.column_double(index));
}

std::string encode_decay(const crawl::Availability& a) {
  std::string out;
  for (const auto& w : a.windows) {
    if (!out.empty()) out += ';';
    out += fmt::format("{:.17g},{:.17g},{:.17g}", w.reliability, w.weight, w.count);
  }
  return out;
}

bool decode_decay(const std::string& text, crawl::Availability& a) {
  std::istringstream in(text);
  for (std::size_t i = 0; i < crawl::kWindowCount; ++i) {
    char sep1 = 0, sep2 = 0, sep3 = ';';
    auto& w = a.windows[i];
    if (!(in >> w.reliability >> sep1 >> w.weight >> sep2 >> w.count)) return false;
    if (sep1 != ',' || sep2 != ',') return false;
    if (i + 1 < crawl::kWindowCount && (!(in >> sep3) || sep3 != ';')) return false;
  }
  return true;
}

// The statements of one writer connection, prepared once.
struct Writer {
  explicit Writer(Database& d)
      : db(d),
        node_get(d.prepare("SELECT version, moniker, p2p_version, block_version, app_version "
                           "FROM nodes WHERE network = ?1 AND id = ?2")),
        node_put(d.prepare(
            "INSERT INTO nodes (network, id, moniker, version, p2p_version, block_version, "
            "app_version, listen_addr, rpc_address, tx_index, channels, first_seen, last_seen) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12) "
            "ON CONFLICT (network, id) DO UPDATE SET moniker = excluded.moniker, "
            "version = excluded.version, p2p_version = excluded.p2p_version, "
            "block_version = excluded.block_version, app_version = excluded.app_version, "
            "listen_addr = excluded.listen_addr, rpc_address = excluded.rpc_address, "
            "tx_index = excluded.tx_index, channels = excluded.channels, "
            "last_seen = max(last_seen, excluded.last_seen)")),
        network_put(d.prepare(
            "INSERT INTO networks (network, first_seen, last_seen, confirmed_at) "
            "VALUES (?1, ?2, ?2, CASE WHEN ?3 THEN ?2 END) "
            "ON CONFLICT (network) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), "
            "confirmed_at = coalesce(confirmed_at, excluded.confirmed_at)")),
        history_put(d.prepare(
            "INSERT INTO node_info_history (network, id, seen_at, version, moniker, p2p_version, "
            "block_version, app_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")),
        address_put(
            d.prepare("INSERT INTO addresses (id, ip, port, network, state, failures, first_seen, "
                      "last_seen, last_attempt, last_success, next_attempt) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                      "ON CONFLICT (id, ip, port) DO UPDATE SET network = excluded.network, "
                      "state = excluded.state, failures = excluded.failures, "
                      "last_seen = max(last_seen, excluded.last_seen), "
                      "last_attempt = excluded.last_attempt, last_success = excluded.last_success, "
                      "next_attempt = excluded.next_attempt")),
        edge_new(
            d.prepare("INSERT OR IGNORE INTO advertised (network, source_id, target_id, target_ip, "
                      "target_port, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)")),
        edge_seen(d.prepare("UPDATE advertised SET last_seen = max(last_seen, ?5) "
                            "WHERE source_id = ?1 AND target_id = ?2 AND target_ip = ?3 AND "
                            "target_port = ?4")),
        advertisers_inc(d.prepare("UPDATE addresses SET advertisers = advertisers + 1, "
                                  "last_seen = max(last_seen, ?4) "
                                  "WHERE id = ?1 AND ip = ?2 AND port = ?3")),
        contact_put(d.prepare(
            "INSERT INTO contacts (at, direction, id, ip, port, network, outcome, stage, reason, "
            "detail, connect_ms, handshake_ms, addrs_received) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")),
        contact_update(d.prepare("UPDATE contacts SET detail = ?1 WHERE rowid = ?2")),
        availability_put(d.prepare(
            "INSERT INTO availability (network, id, a2h, a8h, a1d, a7d, a30d, score, updated_at, "
            "decay_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
            "ON CONFLICT (network, id) DO UPDATE SET a2h = excluded.a2h, a8h = excluded.a8h, "
            "a1d = excluded.a1d, a7d = excluded.a7d, a30d = excluded.a30d, "
            "score = excluded.score, updated_at = excluded.updated_at, "
            "decay_state = excluded.decay_state")),
        geo_put(d.prepare(
            "INSERT INTO ip_geo (ip, country, asn, as_org, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
            "ON CONFLICT (ip) DO UPDATE SET country = excluded.country, asn = excluded.asn, "
            "as_org = excluded.as_org, updated_at = excluded.updated_at "
            "WHERE country <> excluded.country OR asn <> excluded.asn OR "
            "as_org <> excluded.as_org")) {}

  // Returns the rows changed.
  int write(const observe::NodeSeen& r) {
    const NodeInfo& n = r.info;
    int rows = 0;
    node_get.reset();
    node_get.bind(1, n.network).bind(2, n.node_id);
    bool changed = true;
    if (node_get.step()) {
      changed = node_get.column_text(0) != n.version || node_get.column_text(1) != n.moniker ||
                node_get.column_int(2) != static_cast<std::int64_t>(n.protocol_version.p2p) ||
                node_get.column_int(3) != static_cast<std::int64_t>(n.protocol_version.block) ||
                node_get.column_int(4) != static_cast<std::int64_t>(n.protocol_version.app);
    }
    node_get.reset();
    if (changed) {
      history_put.reset();
      history_put.bind(1, n.network).bind(2, n.node_id);
      bind_time(history_put, 3, r.at);
      history_put.bind(4, n.version).bind(5, n.moniker);
      history_put.bind(6, static_cast<std::int64_t>(n.protocol_version.p2p));
      history_put.bind(7, static_cast<std::int64_t>(n.protocol_version.block));
      history_put.bind(8, static_cast<std::int64_t>(n.protocol_version.app));
      history_put.step();
      ++rows;
    }
    node_put.reset();
    node_put.bind(1, n.network).bind(2, n.node_id).bind(3, n.moniker).bind(4, n.version);
    node_put.bind(5, static_cast<std::int64_t>(n.protocol_version.p2p));
    node_put.bind(6, static_cast<std::int64_t>(n.protocol_version.block));
    node_put.bind(7, static_cast<std::int64_t>(n.protocol_version.app));
    node_put.bind(8, n.listen_addr).bind(9, n.rpc_address).bind(10, n.tx_index);
    node_put.bind(11, to_hex(n.channels));
    bind_time(node_put, 12, r.at);
    node_put.step();
    network_put.reset();
    network_put.bind(1, n.network);
    bind_time(network_put, 2, r.at);
    network_put.bind(3, std::int64_t{r.outbound ? 1 : 0});
    network_put.step();
    return rows + 2;
  }

  int write(const observe::AddressUpdate& r) {
    const auto& a = r.address;
    address_put.reset();
    address_put.bind(1, a.addr.id).bind(2, a.addr.ip.to_string());
    address_put.bind(3, static_cast<std::int64_t>(a.addr.port)).bind(4, a.network);
    address_put.bind(5, crawl::to_string(a.state)).bind(6, static_cast<std::int64_t>(a.failures));
    bind_time(address_put, 7, is_set(a.first_seen) ? a.first_seen : r.seen);
    bind_time(address_put, 8, r.seen);
    bind_time(address_put, 9, a.last_attempt);
    bind_time(address_put, 10, a.last_success);
    bind_time(address_put, 11, a.next_attempt);
    address_put.step();
    return 1;
  }

  int write(const observe::Advertised& r) {
    const std::string ip = r.target.ip.to_string();
    const auto port = static_cast<std::int64_t>(r.target.port);
    edge_new.reset();
    edge_new.bind(1, r.network).bind(2, r.source_id).bind(3, r.target.id).bind(4, ip);
    edge_new.bind(5, port);
    bind_time(edge_new, 6, r.at);
    edge_new.step();
    if (db.changes() == 1) {
      advertisers_inc.reset();
      advertisers_inc.bind(1, r.target.id).bind(2, ip).bind(3, port);
      bind_time(advertisers_inc, 4, r.at);
      advertisers_inc.step();
      return 1 + db.changes();
    }
    edge_seen.reset();
    edge_seen.bind(1, r.source_id).bind(2, r.target.id).bind(3, ip).bind(4, port);
    bind_time(edge_seen, 5, r.at);
    edge_seen.step();
    return 1;
  }

  int write(const observe::ContactRecord& r) {
    if (r.inbound && r.addr.id.empty()) return aggregate(r);
    insert(r);
    return 1;
  }

  void insert(const observe::ContactRecord& r) {
    contact_put.reset();
    bind_time(contact_put, 1, r.at);
    contact_put.bind(2, r.inbound ? "in" : "out").bind(3, r.addr.id);
    contact_put.bind(4, r.addr.ip.to_string()).bind(5, static_cast<std::int64_t>(r.addr.port));
    const bool ok = r.outcome == crawl::Outcome::kOk;
    contact_put.bind(6, r.network).bind(7, crawl::to_string(r.outcome));
    contact_put.bind(8, ok ? std::string_view("") : to_string(r.failure.stage));
    contact_put.bind(9, ok ? std::string_view("") : to_string(r.failure.reason));
    contact_put.bind(10, r.detail);
    if (r.connect_ms > 0) contact_put.bind_real(11, r.connect_ms);
    else contact_put.bind_null(11);
    if (r.handshake_ms > 0) contact_put.bind_real(12, r.handshake_ms);
    else contact_put.bind_null(12);
    contact_put.bind(13, r.addrs_received);
    contact_put.step();
  }

  // Inbound connections that never authenticated cost a stranger nothing: one row per minute
  // for each (stage, reason), its detail counting them, instead of a row each.
  int aggregate(const observe::ContactRecord& r) {
    const auto minute = std::chrono::floor<std::chrono::minutes>(r.at);
    if (minute != window_) {
      window_ = minute;
      aggregates_.clear();
    }
    const std::string key =
        std::string(to_string(r.failure.stage)) + "/" + std::string(to_string(r.failure.reason));
    auto it = aggregates_.find(key);
    if (it == aggregates_.end()) {
      insert(r); // the minute's first, as it is; the next ones count in its detail
      aggregates_.emplace(key, Aggregate{db.last_insert_rowid(), 1, {r.addr.ip}});
      return 1;
    }
    Aggregate& a = it->second;
    ++a.count;
    if (a.ips.size() < kMaxAggregateIps) a.ips.insert(r.addr.ip);
    contact_update.reset();
    contact_update.bind(1, fmt::format("{} unauthenticated inbound connections from {}{} "
                                       "addresses this minute; the last: {}",
                                       a.count, a.ips.size(),
                                       a.ips.size() >= kMaxAggregateIps ? "+" : "", r.detail));
    contact_update.bind(2, a.rowid);
    contact_update.step();
    return 1;
  }

  // The transaction was rolled back: this minute's aggregate rows may be gone with it.
  void rolled_back() { aggregates_.clear(); }

  int write(const observe::AvailabilityUpdate& r) {
    const auto& a = r.availability;
    availability_put.reset();
    availability_put.bind(1, r.network).bind(2, r.id);
    for (std::size_t i = 0; i < crawl::kWindowCount; ++i)
      availability_put.bind_real(static_cast<int>(3 + i), a.windows[i].availability());
    availability_put.bind_real(8, a.score());
    bind_time(availability_put, 9, a.last_update);
    availability_put.bind(10, encode_decay(a));
    availability_put.step();
    return 1;
  }

  // An unchanged answer writes nothing.
  int write(const observe::GeoUpdate& r) {
    geo_put.reset();
    geo_put.bind(1, r.ip.to_string()).bind(2, r.info.country);
    geo_put.bind(3, static_cast<std::int64_t>(r.info.asn)).bind(4, r.info.as_org);
    bind_time(geo_put, 5, r.at);
    geo_put.step();
    return db.changes();
  }

  Database& db;
  Statement node_get, node_put, network_put, history_put, address_put, edge_new, edge_seen,
      advertisers_inc, contact_put, contact_update, availability_put, geo_put;
  struct Aggregate {
    std::int64_t rowid;
    std::uint64_t count;
    std::set<IpAddress> ips;
  };
  static constexpr std::size_t kMaxAggregateIps = 10000;
  std::chrono::time_point<std::chrono::system_clock, std::chrono::minutes> window_{};
  std::map<std::string, Aggregate> aggregates_; // this minute's, by stage/reason
};

} // namespace

ObservatoryState load_observatory(const std::filesystem::path& file) {
  auto db = Database::open(file);
  ObservatoryState state;
  auto st = db.prepare("SELECT id, ip, port, network, state, failures, first_seen, "
                       "last_attempt, last_success, next_attempt FROM addresses");
  while (st.step()) {
    crawl::ScheduledAddress a;
    a.addr.id = st.column_text(0);
    auto ip = IpAddress::parse(st.column_text(1));
    auto s = crawl::addr_state_from_string(st.column_text(4));
    const auto port = st.column_int(2);
    if (!ip || !s || port <= 0 || port > 65535) {
      throw StorageError(fmt::format("{}: addresses: unusable row {}@{}:{}", file.string(),
                                     a.addr.id, st.column_text(1), port));
    }
    a.addr.ip = *ip;
    a.addr.port = static_cast<std::uint16_t>(port);
    a.network = st.column_text(3);
    a.state = *s;
    a.failures = static_cast<int>(st.column_int(5));
    a.first_seen = column_time(st, 6);
    a.last_attempt = column_time(st, 7);
    a.last_success = column_time(st, 8);
    a.next_attempt = st.column_is_null(9) ? WallTime::max() : column_time(st, 9);
    state.addresses.push_back(std::move(a));
  }
  auto nets = db.prepare("SELECT network, confirmed_at IS NOT NULL FROM networks");
  while (nets.step()) state.networks.push_back({nets.column_text(0), nets.column_int(1) != 0});
  auto nodes = db.prepare("SELECT network, id FROM nodes");
  while (nodes.step()) state.nodes.push_back({nodes.column_text(0), nodes.column_text(1)});
  auto av = db.prepare("SELECT network, id, updated_at, decay_state FROM availability");
  while (av.step()) {
    ObservatoryState::NodeAvailability n;
    n.network = av.column_text(0);
    n.id = av.column_text(1);
    n.availability.last_update = column_time(av, 2);
    if (!decode_decay(av.column_text(3), n.availability)) {
      throw StorageError(
          fmt::format("{}: availability: unusable decay_state for {}", file.string(), n.id));
    }
    state.availability.push_back(std::move(n));
  }
  return state;
}

ObservatoryWriter::ObservatoryWriter(std::filesystem::path file, WriterOptions options)
    : file_(std::move(file)),
      options_(std::move(options)) {
  // Opened here so that an unusable file is an error for the caller; SQLite connections may
  // move between threads (serialized mode).
  auto db = std::make_shared<Database>(Database::open(file_));
  thread_ = std::thread([this, db] { run(*db); });
}

ObservatoryWriter::~ObservatoryWriter() { stop(); }

void ObservatoryWriter::post(observe::Observation record) {
  std::lock_guard lock(mu_);
  if (stopping_ || queue_.size() >= options_.max_pending) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(std::move(record));
  ++posted_;
  if (queue_.size() >= options_.batch_max) wake_.notify_one();
}

void ObservatoryWriter::flush() {
  std::unique_lock lock(mu_);
  const auto target = posted_;
  flush_wanted_ = true;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return handled_ >= target || finished_; });
}

void ObservatoryWriter::stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

WriterStats ObservatoryWriter::stats() const {
  std::lock_guard lock(mu_);
  WriterStats s = stats_;
  s.pending = queue_.size();
  return s;
}

void ObservatoryWriter::run(Database& db) {
  std::optional<Writer> writer;
  try {
    // A page cache large enough for the indexes of a big crawl: fewer reads from the file.
    db.exec("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;");
    writer.emplace(db);
  } catch (const StorageError& e) {
    log().error("observatory writer cannot start", {{"err", e.what()}});
  }
  auto last_prune = std::chrono::steady_clock::now();
  std::vector<observe::Observation> batch;
  int failures = 0;
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mu_);
      if (batch.empty()) {
        wake_.wait_for(lock, options_.batch_interval, [&] {
          return stopping_ || flush_wanted_ || queue_.size() >= options_.batch_max;
        });
        flush_wanted_ = false;
        const std::size_t n = std::min(queue_.size(), options_.batch_max);
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      stopping = stopping_;
      if (batch.empty() && stopping_) break;
    }
    if (!batch.empty() && writer) {
      const auto t0 = std::chrono::steady_clock::now();
      std::uint64_t rows = 0;
      const auto contacts = static_cast<std::uint64_t>(
          std::count_if(batch.begin(), batch.end(), [](const observe::Observation& r) {
            return std::holds_alternative<observe::ContactRecord>(r);
          }));
      bool ok = false;
      try {
        Transaction tx(db);
        for (const auto& rec : batch)
          rows += static_cast<std::uint64_t>(
              std::visit([&](const auto& r) { return writer->write(r); }, rec));
        tx.commit();
        ok = true;
      } catch (const StorageError& e) {
        writer->rolled_back();
        ++failures;
        log().error("observatory: writing records failed (they are tried again)",
                    {{"records", batch.size()}, {"attempt", failures}, {"err", e.what()}});
      }
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      bool retry = false;
      {
        std::lock_guard lock(mu_);
        stats_.last_batch_ms = ms;
        stats_.total_batch_ms += ms;
        if (ok) {
          ++stats_.batches;
          stats_.records_written += batch.size();
          stats_.contacts_written += contacts;
          stats_.rows_written += rows;
          handled_ += batch.size();
          batch.clear();
          failures = 0;
        } else {
          ++stats_.failed_batches;
          // Kept and retried; given up after 10 attempts (or at once when stopping after 2).
          if (failures >= 10 || (stopping && failures >= 2)) {
            stats_.dropped += batch.size();
            handled_ += batch.size();
            batch.clear();
            failures = 0;
          }
          retry = !batch.empty();
        }
        flushed_.notify_all();
      }
      if (ok && options_.on_batch) options_.on_batch(ms / 1000.0, rows);
      if (retry)
        std::this_thread::sleep_for(
            std::min(std::chrono::milliseconds(100) * (1 << std::min(failures, 7)),
                     std::chrono::milliseconds(10'000)));
    } else if (!batch.empty()) {
      std::lock_guard lock(mu_);
      stats_.dropped += batch.size();
      handled_ += batch.size();
      batch.clear();
      flushed_.notify_all();
    }
    const auto now = std::chrono::steady_clock::now();
    if (writer && now - last_prune >= options_.prune_interval) {
      last_prune = now;
      try {
        const double cutoff =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count() -
            static_cast<double>(options_.contact_retention.count());
        auto del = db.prepare("DELETE FROM contacts WHERE at < ?1");
        del.bind_real(1, cutoff);
        del.step();
        const auto n = static_cast<std::uint64_t>(db.changes());
        std::lock_guard lock(mu_);
        stats_.contacts_pruned += n;
        stats_.rows_written += n;
      } catch (const StorageError& e) {
        log().error("observatory: pruning contacts failed", {{"err", e.what()}});
      }
    }
  }
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (const StorageError&) {}
  std::lock_guard lock(mu_);
  finished_ = true;
  flushed_.notify_all();
}

} // namespace seedscope::storage
