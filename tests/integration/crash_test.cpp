// Crash safety of `seedscope crawl`: the process is killed (SIGKILL) at random points of a
// crawl of a simulated network, 20 times on the same home and database, each kill followed by
// PRAGMA integrity_check and a restart that resumes from the database. Some kills land at a
// random moment (start-up included), the others inside a write transaction of the database
// writer: the process is frozen (SIGSTOP) while it holds SQLite's WAL write lock, the lock is
// confirmed still held, then it is killed.
//
// "Acknowledged" is what the process has reported as committed: the status line's "saved N
// contacts" (crawl_run.hpp). After each kill the database holds every contact acknowledged
// before it, every row of the previous rounds, and no count went down.
//
// The kill points come from a seeded generator; the seed is printed, SEEDSCOPE_CRASH_SEED=N
// replays it.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <ostream>

#include "crawler/netsim/scenario.hpp"
#include "storage/database.hpp"
#include "support/process.hpp"

#ifndef SEEDSCOPE_BINARY
#error "SEEDSCOPE_BINARY must be defined"
#endif

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

constexpr int kRounds = 20;

std::uint64_t crash_seed() {
  if (const char* s = std::getenv("SEEDSCOPE_CRASH_SEED")) return std::stoull(s);
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

// SQLite's WAL locks are fcntl locks on bytes of the -shm file (unix VFS): byte 120 is the
// write lock, held from BEGIN IMMEDIATE until COMMIT has written the transaction; 121 the
// checkpoint lock. F_GETLK from here names the process holding one. Close it before opening
// the database in this process (closing a descriptor drops this process's locks on the file).
class WalLocks {
public:
  enum class Held { kNone, kWrite, kCheckpoint };
  explicit WalLocks(fs::path shm) : shm_(std::move(shm)) {}
  ~WalLocks() {
    if (fd_ >= 0) ::close(fd_);
  }
  WalLocks(const WalLocks&) = delete;
  WalLocks& operator=(const WalLocks&) = delete;

  Held held_by(pid_t pid) {
    // The last connection to close deletes the file (load_observatory's does at start-up); the
    // next one creates it anew: follow the name.
    struct stat named {
    }, opened{};
    if (::stat(shm_.c_str(), &named) != 0) return Held::kNone; // not there (yet)
    if (fd_ >= 0 && (::fstat(fd_, &opened) != 0 || opened.st_ino != named.st_ino)) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd_ < 0) fd_ = ::open(shm_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return Held::kNone;
    for (const auto& [byte, held] :
         {std::pair{120, Held::kWrite}, std::pair{121, Held::kCheckpoint}}) {
      struct flock fl {};
      fl.l_type = F_WRLCK;
      fl.l_whence = SEEK_SET;
      fl.l_start = byte;
      fl.l_len = 1;
      if (::fcntl(fd_, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid == pid) return held;
    }
    return Held::kNone;
  }

private:
  fs::path shm_;
  int fd_ = -1;
};

// Whether `pid` is stopped (state T in /proc/PID/stat) within `limit`.
bool wait_stopped(pid_t pid, Millis limit) {
  const auto deadline = Steady::now() + limit;
  for (;;) {
    const std::string stat = test::read_file(fmt::format("/proc/{}/stat", pid));
    const auto paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T')
      return true;
    if (Steady::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200)); // another process
  }
}

// Where a round's kill lands.
enum class KillPoint { kAnyMoment, kWriteTransaction, kCheckpoint };

const char* to_string(KillPoint k) {
  switch (k) {
  case KillPoint::kAnyMoment: return "at a random moment";
  case KillPoint::kWriteTransaction: return "inside a write transaction";
  case KillPoint::kCheckpoint: return "inside a checkpoint";
  }
  return "?";
}

struct KillPlan {
  Millis delay{0};             // after the spawn
  bool in_transaction = false; // then wait for a write transaction (or a checkpoint)
};

KillPlan plan_kill(std::mt19937_64& rng) {
  KillPlan p;
  // One kill in five within the first 300 ms (start-up: loading, migrating, the first batches).
  const int max_ms = std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? 300 : 4000;
  p.delay = Millis(std::uniform_int_distribution<int>(0, max_ms)(rng));
  p.in_transaction = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
  return p;
}

struct Kill {
  KillPoint point = KillPoint::kAnyMoment;
  int missed = 0;          // transactions seen that had ended when the process was frozen
  std::uint64_t polls = 0; // of the WAL locks
};

// Kills `child` as planned; REQUIREs that it was still running.
Kill kill_as_planned(test::ChildProcess& child, const KillPlan& plan, const fs::path& db,
                     const fs::path& err) {
  const auto start = Steady::now();
  auto still_running = [&] {
    auto code = child.wait(Millis(0));
    REQUIRE_MESSAGE(!code,
                    "the crawl exited by itself (" << *code << "): " << test::read_file(err));
  };
  while (Steady::now() - start < plan.delay) {
    still_running();
    std::this_thread::sleep_for(std::chrono::milliseconds(2)); // another process
  }
  Kill kill;
  if (plan.in_transaction) {
    WalLocks locks(fs::path(db.string() + "-shm"));
    const auto give_up = Steady::now() + Millis(3000);
    while (Steady::now() < give_up) {
      if (++kill.polls % 256 == 0) still_running();
      if (locks.held_by(child.pid()) == WalLocks::Held::kNone) {
        std::this_thread::sleep_for(std::chrono::microseconds(20)); // another process
        continue;
      }
      child.signal(SIGSTOP);
      REQUIRE(wait_stopped(child.pid(), Millis(2000)));
      const auto held = locks.held_by(child.pid()); // frozen: still inside?
      if (held != WalLocks::Held::kNone) {
        kill.point =
            held == WalLocks::Held::kWrite ? KillPoint::kWriteTransaction : KillPoint::kCheckpoint;
        break;
      }
      ++kill.missed;
      child.signal(SIGCONT); // it finished meanwhile: the next one
    }
  }
  child.signal(SIGKILL);
  auto code = child.wait(Millis(5000));
  REQUIRE(code);
  CHECK(*code == 128 + SIGKILL);
  return kill;
}

// What the database holds after a kill.
struct Snapshot {
  bool exists = false;
  int schema = 0;
  std::map<std::string, std::int64_t> counts;
  std::set<std::string> contacts, addresses, nodes, reachable;
  std::set<std::string> contacted_since; // outbound, from read_database's `since` on
};

// Every count that may only grow during a crawl (no retention pruning within the test).
const std::pair<const char*, const char*> kCounts[] = {
    {"addresses", "SELECT count(*) FROM addresses"},
    {"contacted addresses", "SELECT count(*) FROM addresses WHERE last_attempt IS NOT NULL"},
    {"verified addresses", "SELECT count(*) FROM addresses WHERE last_success IS NOT NULL"},
    {"reachable nodes", "SELECT count(DISTINCT id) FROM addresses WHERE state = 'reachable'"},
    {"nodes", "SELECT count(*) FROM nodes"},
    {"networks", "SELECT count(*) FROM networks"},
    {"contacts", "SELECT count(*) FROM contacts"},
    {"advertised edges", "SELECT count(*) FROM advertised"},
    {"NodeInfo history", "SELECT count(*) FROM node_info_history"},
    {"availability", "SELECT count(*) FROM availability"},
};

std::set<std::string> column_set(storage::Database& db, const char* sql) {
  std::set<std::string> out;
  auto st = db.prepare(sql);
  while (st.step()) out.insert(st.column_text(0));
  return out;
}

// Reads a copy of the database as the kill left it (the file, its -wal and -shm): opening the
// original would recover it and checkpoint it on close, and the restart must get it as the
// kill left it. `since` (Unix seconds): the outbound contacts from then on are collected.
Snapshot read_database(const fs::path& file, double since) {
  Snapshot s;
  if (!fs::exists(file)) return s; // killed before it was created
  s.exists = true;
  test::TempDir scratch;
  const fs::path copy = scratch.path() / file.filename();
  for (const char* suffix : {"", "-wal", "-shm"})
    if (fs::exists(file.string() + suffix))
      fs::copy_file(file.string() + suffix, copy.string() + suffix);
  // Neither created nor migrated here (the restart's job): only opened, which refuses a file
  // that fails quick_check.
  auto db = storage::Database::open_at_version(copy, 0);
  auto ic = db.prepare("PRAGMA integrity_check");
  std::string result;
  while (ic.step()) result += ic.column_text(0) + ";";
  CHECK(result == "ok;");
  s.schema = db.schema_version();
  if (s.schema < storage::Database::latest_schema_version()) return s; // killed migrating
  for (const auto& [name, sql] : kCounts) {
    auto st = db.prepare(sql);
    REQUIRE(st.step());
    s.counts[name] = st.column_int(0);
  }
  s.contacts = column_set(db, "SELECT at || '|' || direction || '|' || id || '@' || ip || ':' || "
                              "port || '|' || outcome FROM contacts");
  s.addresses = column_set(db, "SELECT id || '@' || ip || ':' || port FROM addresses");
  s.nodes = column_set(db, "SELECT network || '/' || id FROM nodes");
  s.reachable = column_set(
      db, "SELECT id || '@' || ip || ':' || port FROM addresses WHERE state = 'reachable'");
  auto out = db.prepare("SELECT id || '@' || ip || ':' || port FROM contacts WHERE at >= ?1 AND "
                        "direction = 'out'");
  out.bind_real(1, since);
  while (out.step()) s.contacted_since.insert(out.column_text(0));
  return s;
}

// The last number `pattern` (one group) captured in `text`, or -1.
std::int64_t last_match(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  std::int64_t value = -1;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    value = std::stoll((*it)[1]);
  return value;
}

struct Findings {
  std::int64_t saved = -1; // the contacts the process last acknowledged as saved (-1: none)
  bool resumed = false;    // it reported loading every address the database held
};

// The checks after a kill: `before` what the database held when the process started, `after`
// what it holds now (contacted_since: since the start), `log` the process's stderr.
Findings check_round(const Snapshot& before, const Snapshot& after, const std::string& log) {
  INFO(log);
  Findings found;
  CHECK(after.schema >= before.schema);
  if (after.schema < storage::Database::latest_schema_version()) return found;
  // Nothing lost, no count down.
  for (const auto& [name, sql] : kCounts) {
    INFO(name);
    CHECK(after.counts.at(name) >= (before.counts.count(name) ? before.counts.at(name) : 0));
  }
  CHECK(std::includes(after.contacts.begin(), after.contacts.end(), before.contacts.begin(),
                      before.contacts.end()));
  CHECK(std::includes(after.addresses.begin(), after.addresses.end(), before.addresses.begin(),
                      before.addresses.end()));
  CHECK(std::includes(after.nodes.begin(), after.nodes.end(), before.nodes.begin(),
                      before.nodes.end()));
  const auto count = [](const Snapshot& s, const char* name) {
    return s.counts.count(name) ? s.counts.at(name) : 0;
  };
  // Every contact the process acknowledged as saved is there.
  found.saved = last_match(log, " saved_contacts=(\\d+) ");
  if (found.saved >= 0) CHECK(count(after, "contacts") - count(before, "contacts") >= found.saved);
  // The restart resumed: it loaded every address the database held, and did not contact again
  // the nodes verified before (not due before recrawl_interval).
  const std::int64_t loaded = last_match(log, "crawler started .* addresses=(\\d+) ");
  if (loaded >= 0 && count(before, "addresses") > 0) {
    CHECK(loaded == count(before, "addresses"));
    for (const auto& a : after.contacted_since) CHECK(before.reachable.count(a) == 0);
    found.resumed = loaded == count(before, "addresses");
  }
  return found;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The demo preset without churn (its nodes stay up), on addresses of its own.
std::string scenario_text() {
  std::string text = netsim::preset_toml("demo");
  using Edit = std::pair<std::string, std::string>;
  for (const auto& [from, to] : {Edit{"address_offset = 0 ", "address_offset = 75000 "},
                                 Edit{"period = \"20s\"", "period = \"0s\""}}) {
    const auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
  }
  return text;
}

} // namespace

TEST_CASE("crawl process: 20 SIGKILLs at random points, in write transactions too, each leave a "
          "sound database that a restart resumes from, losing nothing acknowledged") {
  const std::uint64_t seed = crash_seed();
  MESSAGE("crash loop seed ", seed, " (SEEDSCOPE_CRASH_SEED=", seed, " replays the kill points)");
  INFO("crash loop seed ", seed);
  std::mt19937_64 rng(seed);
  test::TempDir dir;
  test::write_file(dir.path() / "sim.toml", scenario_text());
  test::ChildProcess sim({SEEDSCOPE_BINARY, "netsim", "--scenario",
                          (dir.path() / "sim.toml").string(), "--duration", "300s"},
                         dir.path() / "sim.out", dir.path() / "sim.err");
  const std::string hub_seeds =
      test::wait_for_match(dir.path() / "sim.out", "simhub-1 seeds: (\\S+)", Millis(30000));
  const std::string zone_seeds =
      test::wait_for_match(dir.path() / "sim.out", "simzone-7 seeds: (\\S+)", Millis(1000));
  REQUIRE_MESSAGE(!zone_seeds.empty(), test::read_file(dir.path() / "sim.err"));
  const std::string seeds = hub_seeds + "," + zone_seeds;

  const auto home = dir.path() / "home";
  const auto db_file = home / "data" / "seedscope.db";
  fs::create_directories(home / "config");
  // A status line every second (the acknowledgements); short timeouts keep the dials moving,
  // and failed addresses retried within seconds keep the writer busy once every node was
  // contacted (verified ones are not due again before recrawl_interval, 10 minutes).
  test::write_file(home / "config" / "config.toml",
                   "[p2p]\ndial_timeout = \"1s\"\n[crawler]\nstatus_interval = \"1s\"\n"
                   "handshake_timeout = \"2s\"\npex_timeout = \"2s\"\nretry_base = \"3s\"\n"
                   "retry_cap = \"6s\"\n");
  const std::vector<std::string> base = {SEEDSCOPE_BINARY, "--home", home.string(), "crawl",
                                         "--laddr", "127.0.0.1:0", "--loopback-only",
                                         "--max-concurrent-dials", "128",
                                         // not the default 127.0.0.1:26660, which anything
                                         // else on the machine may hold
                                         "--metrics-addr", "127.0.0.1:0"};

  Snapshot before; // what the database held before the round
  std::map<KillPoint, int> points;
  int resumed = 0, acknowledged_rounds = 0, leftover_locks = 0;
  std::int64_t acknowledged_total = 0;
  std::vector<double> round_seconds;
  for (int round = 1; round <= kRounds; ++round) {
    const auto t0 = Steady::now();
    const KillPlan plan = plan_kill(rng);
    const bool with_seeds = !before.exists || before.counts["addresses"] == 0;
    auto argv = base;
    if (with_seeds) argv.insert(argv.end(), {"--seed", seeds});
    const auto err = dir.path() / fmt::format("err{}", round);
    const double since = unix_now();
    Kill kill;
    pid_t pid = 0;
    {
      test::ChildProcess child(argv, dir.path() / fmt::format("out{}", round), err);
      pid = child.pid();
      kill = kill_as_planned(child, plan, db_file, err);
    }
    ++points[kill.point];
    const Snapshot after = read_database(db_file, since);
    const Findings found = check_round(before, after, test::read_file(err));
    if (found.saved >= 0) {
      ++acknowledged_rounds;
      acknowledged_total += found.saved;
    }
    resumed += found.resumed ? 1 : 0;
    // The kill left the process locks behind (the files, held by nobody): the next round
    // starts on them.
    const std::string holder = test::read_file(home / "seedscope.lock");
    if (holder == fmt::format("{}\n", pid) &&
        test::read_file(fs::path(db_file.string() + ".lock")) == holder)
      ++leftover_locks;
    before = after;
    round_seconds.push_back(std::chrono::duration<double>(Steady::now() - t0).count());
    MESSAGE(fmt::format(
        "round {:2}: killed after {:4} ms{} {}{}{} ({:.2f} s); {} addresses, {} "
        "contacts, {} reachable nodes",
        round, plan.delay.count(), plan.in_transaction ? " then" : "", to_string(kill.point),
        kill.missed ? fmt::format(" ({} transactions ended first)", kill.missed) : "",
        plan.in_transaction && kill.point == KillPoint::kAnyMoment
            ? fmt::format(" (no transaction caught in {} polls of the lock)", kill.polls)
            : "",
        round_seconds.back(), before.counts["addresses"], before.counts["contacts"],
        before.counts["reachable nodes"]));
  }
  CHECK(before.counts["reachable nodes"] > 0);
  CHECK(points[KillPoint::kWriteTransaction] + points[KillPoint::kCheckpoint] > 0);
  CHECK(acknowledged_rounds > 0);
  CHECK(resumed > 0);
  CHECK(leftover_locks > 0);
  const double mean = std::accumulate(round_seconds.begin(), round_seconds.end(), 0.0) /
                      static_cast<double>(round_seconds.size());
  MESSAGE(fmt::format("{} kills: {} at a random moment, {} inside a write transaction, {} inside "
                      "a checkpoint; {} rounds acknowledged {} contacts in all, {} restarts "
                      "resumed, {} left their locks; {:.2f} s a round on average, {:.2f} s at "
                      "most",
                      kRounds, points[KillPoint::kAnyMoment], points[KillPoint::kWriteTransaction],
                      points[KillPoint::kCheckpoint], acknowledged_rounds, acknowledged_total,
                      resumed, leftover_locks, mean,
                      *std::max_element(round_seconds.begin(), round_seconds.end())));

  // A last restart, without seeds, stops gracefully: on the locks and the database the kills
  // left, it goes on crawling from where they were.
  const double since_last = unix_now();
  {
    auto argv = base;
    argv.insert(argv.end(), {"--duration", "2s"});
    test::ChildProcess child(argv, dir.path() / "out-last", dir.path() / "err-last");
    auto code = child.wait(Millis(20000));
    REQUIRE(code);
    CHECK(*code == 0);
  }
  const Snapshot final_state = read_database(db_file, since_last);
  const std::string last_log = test::read_file(dir.path() / "err-last");
  INFO(last_log);
  const Findings last = check_round(before, final_state, last_log);
  CHECK(last.resumed);
  CHECK(final_state.counts.at("contacts") > before.counts["contacts"]); // it went on crawling

  // `seedscope stats` summarises the database.
  auto stats = test::run_process({SEEDSCOPE_BINARY, "--home", home.string(), "stats"});
  INFO(stats.err);
  CHECK(stats.exit_code == 0);
  CHECK(stats.out.find("simhub-1") != std::string::npos);
  CHECK(stats.out.find("simzone-7") != std::string::npos);
  CHECK(stats.out.find("refused") != std::string::npos);
  CHECK(stats.out.find("advertised-by edges") != std::string::npos);
  auto missing =
      test::run_process({SEEDSCOPE_BINARY, "--home", (dir.path() / "none").string(), "stats"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("no database at") != std::string::npos);
  sim.signal(SIGTERM);
  CHECK(sim.wait(Millis(10000)) == std::optional<int>(0));
}

} // namespace seedscope
