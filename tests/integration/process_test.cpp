// The seedscope process as an operator runs it: output that cannot be written (a full disk, a
// closed or full pipe) neither kills it nor stops it serving, and SIGTERM ends it within a
// bound whatever its output is doing.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crawler/netsim/scenario.hpp"
#include "storage/database.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using test::run_process;

const std::string kBinary = SEEDSCOPE_BINARY;

struct Home {
  fs::path dir;
  std::string id;
  std::uint16_t port = 0;
};

// An initialised home whose node listens on a free loopback port.
Home make_home(const fs::path& dir) {
  Home h;
  h.dir = dir;
  auto r = run_process({kBinary, "init", "--home", dir.string()});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  h.id = r.out.substr(0, 40);
  h.port = test::free_tcp_port();
  test::write_file(dir / "config" / "config.toml",
                   fmt::format("moniker = \"process-test\"\n[p2p]\nladdr = \"tcp://127.0.0.1:{}\"\n"
                               "[instrumentation]\nprometheus_listen_addr = \"off\"\n",
                               h.port));
  return h;
}

// A probe of the node completes the handshake (the node is alive and serving).
bool probe_ok(const Home& h, const fs::path& scratch) {
  auto r =
      run_process({kBinary, "probe", fmt::format("{}@127.0.0.1:{}", h.id, h.port), "--home",
                   (scratch / "prober").string(), "--timeout", "5s", "--network", "process-net"});
  if (r.exit_code != 0) return false;
  return nlohmann::json::parse(r.out)["ok"] == true;
}

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

// Fills the pipe (nobody reads it); the write end stays blocking, as the child gets it.
void fill(Pipe& pipe) {
  REQUIRE(::fcntl(pipe.write, F_SETFL, O_NONBLOCK) == 0);
  const std::string chunk(4096, 'x');
  std::size_t filled = 0;
  for (int i = 0; i < 1024; ++i) {
    const ssize_t n = ::write(pipe.write, chunk.data(), chunk.size());
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  REQUIRE(filled >= 4096);
  REQUIRE(::fcntl(pipe.write, F_SETFL, 0) == 0);
}

void stop_within(test::ChildProcess& child, Millis limit) {
  child.signal(SIGTERM);
  const auto code = child.wait(limit);
  REQUIRE_MESSAGE(code.has_value(), "did not stop within " << limit.count() << " ms of SIGTERM");
  CHECK(*code == 0);
}

TEST_CASE("process: start with stdout and stderr on /dev/full serves and stops on SIGTERM") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  test::ChildProcess node({kBinary, "start", "--home", h.dir.string()}, "/dev/full", "/dev/full");
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  CHECK(probe_ok(h, dir.path()));
  CHECK_FALSE(node.wait(Millis(200)).has_value()); // still running
  stop_within(node, Millis(10000));
}

TEST_CASE("process: crawl whose output pipe is closed after one line keeps serving") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  Pipe pipe;
  // `seedscope crawl ... 2>&1 | head -1`
  test::ChildProcess crawl({kBinary, "crawl", "--home", h.dir.string(), "--loopback-only"},
                           pipe.write, pipe.write);
  pipe.close_write();
  std::string first;
  char c = 0;
  while (::read(pipe.read, &c, 1) == 1 && c != '\n') first += c;
  CHECK(first.find("seedscope") != std::string::npos);
  pipe.close_read(); // every later write of the crawler fails with EPIPE
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  CHECK(probe_ok(h, dir.path())); // its log lines about the probe hit the closed pipe
  CHECK(probe_ok(h, dir.path()));
  CHECK_FALSE(crawl.wait(Millis(200)).has_value());
  stop_within(crawl, Millis(10000));
}

TEST_CASE("process: crawl whose output pipe is full and never read keeps serving and stops") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  Pipe pipe;
  // Full before the crawler writes anything: its first write would block.
  fill(pipe);
  test::ChildProcess crawl({kBinary, "crawl", "--home", h.dir.string(), "--loopback-only"},
                           pipe.write, pipe.write);
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  CHECK(probe_ok(h, dir.path()));
  CHECK(probe_ok(h, dir.path()));
  CHECK_FALSE(crawl.wait(Millis(200)).has_value());
  // Its summary cannot be written either: the exit gives up on it within a bound.
  stop_within(crawl, Millis(10000));
}

TEST_CASE("process: a second signal during the drain exits at once with 128 + the signal") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  Pipe pipe;
  // A full pipe that is never read: the drain waits for its last lines (2 s at most), long
  // enough for a second signal to arrive in the middle of it.
  fill(pipe);
  test::ChildProcess crawl({kBinary, "crawl", "--home", h.dir.string(), "--loopback-only"},
                           pipe.write, pipe.write);
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  crawl.signal(SIGTERM);
  REQUIRE_FALSE(crawl.wait(Millis(300)).has_value()); // draining
  const auto t0 = std::chrono::steady_clock::now();
  crawl.signal(SIGINT);
  const auto code = crawl.wait(Millis(5000));
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGINT);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000));
}

TEST_CASE("process: SIGHUP does not stop the process; without --log-file it is logged, ignored") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  test::ChildProcess crawl({kBinary, "crawl", "--home", h.dir.string(), "--loopback-only"},
                           dir.path() / "out", dir.path() / "err");
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  crawl.signal(SIGHUP);
  CHECK(test::wait_for_match(dir.path() / "err", "(no --log-file to reopen, ignored)") ==
        "no --log-file to reopen, ignored");
  CHECK_FALSE(crawl.wait(Millis(300)).has_value());
  CHECK(probe_ok(h, dir.path()));
  crawl.signal(SIGTERM);
  const auto code = crawl.wait(Millis(10000));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  const std::string err = test::read_file(dir.path() / "err");
  CHECK(err.find("shutting down") != std::string::npos);
  CHECK(err.find("why=\"received SIGTERM\"") != std::string::npos);
  CHECK(test::read_file(dir.path() / "out").find("crawl summary: ") != std::string::npos);
}

std::int64_t count_rows(const fs::path& db_file, const char* sql) {
  auto db = storage::Database::open_read_only(db_file);
  auto st = db.prepare(sql);
  REQUIRE(st.step());
  return st.column_int(0);
}

TEST_CASE("process: SIGTERM in the middle of a crawl drains within 10 s, exits 0 and every "
          "contact it counted is in the database") {
  test::TempDir dir;
  // The demo preset without churn on addresses of its own.
  std::string scenario = netsim::preset_toml("demo");
  const auto offset = scenario.find("address_offset = 0 ");
  REQUIRE(offset != std::string::npos);
  scenario.replace(offset, 19, "address_offset = 77000 ");
  test::write_file(dir.path() / "sim.toml", scenario);
  test::ChildProcess sim(
      {kBinary, "netsim", "--scenario", (dir.path() / "sim.toml").string(), "--duration", "120s"},
      dir.path() / "sim.out", dir.path() / "sim.err");
  const std::string seeds =
      test::wait_for_match(dir.path() / "sim.out", "simhub-1 seeds: (\\S+)", Millis(30000));
  REQUIRE_MESSAGE(!seeds.empty(), test::read_file(dir.path() / "sim.err"));

  const fs::path home = dir.path() / "home";
  fs::create_directories(home / "config");
  // A status line every second; slow PEX answers keep contacts in flight at the signal.
  test::write_file(home / "config" / "config.toml", "[crawler]\nstatus_interval = \"1s\"\n");
  const fs::path err = dir.path() / "crawl.err";
  test::ChildProcess crawl({kBinary, "--home", home.string(), "crawl", "--laddr", "127.0.0.1:0",
                            "--loopback-only", "--metrics-addr", "off", "--seed", seeds},
                           dir.path() / "crawl.out", err);
  // Wait until contacts are being saved, then stop it while dials are in flight.
  REQUIRE_MESSAGE(!test::wait_for_match(err, " saved_contacts=([1-9]\\d*) ", Millis(30000)).empty(),
                  test::read_file(err));
  const auto t0 = std::chrono::steady_clock::now();
  crawl.signal(SIGTERM);
  const auto code = crawl.wait(Millis(15000));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE_MESSAGE(code.has_value(), "still running 15 s after SIGTERM");
  CHECK(*code == 0);
  CHECK(seconds < 10.0);
  const std::string log = test::read_file(err);
  INFO(log);
  // The "stopped" record (contacts=N inbound=M addresses=K records_written=R batches=B
  // dropped=D): what the crawler counted, against what the database holds after the exit.
  const std::string contacts =
      test::wait_for_match(err, "\\] stopped .* contacts=(\\d+) inbound=", Millis(0));
  const std::string known =
      test::wait_for_match(err, "\\] stopped .* addresses=(\\d+) records_written=", Millis(0));
  const std::string dropped = test::wait_for_match(err, "\\] stopped .* dropped=(\\d+)", Millis(0));
  REQUIRE(!contacts.empty());
  CHECK(dropped == "0");
  const fs::path db = home / "data" / "seedscope.db";
  const std::int64_t rows = count_rows(db, "SELECT count(*) FROM contacts WHERE direction = 'out'");
  MESSAGE(fmt::format("SIGTERM to exit: {:.2f} s (bound 10 s); {} contacts counted, {} in the "
                      "database; {} addresses known, {} in the database",
                      seconds, contacts, rows, known,
                      count_rows(db, "SELECT count(*) FROM addresses")));
  CHECK(std::stoll(contacts) > 0);
  CHECK(rows == std::stoll(contacts));
  CHECK(count_rows(db, "SELECT count(*) FROM addresses") == std::stoll(known));
  sim.signal(SIGTERM);
  CHECK(sim.wait(Millis(15000)).has_value());
}

TEST_CASE("process: one process per home and per database") {
  test::TempDir dir;
  const Home h = make_home(dir.path() / "home");
  test::ChildProcess node({kBinary, "start", "--home", h.dir.string()}, dir.path() / "node.out",
                          dir.path() / "node.err");
  REQUIRE(test::wait_for_port(h.port, Millis(10000)));
  const std::string in_use =
      "is in use by another seedscope process (pid " + std::to_string(node.pid()) + ")";
  // A second node or crawler on the same home.
  auto again = run_process({kBinary, "start", "--home", h.dir.string()});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("the home " + h.dir.string() + " " + in_use) != std::string::npos);
  auto crawl = run_process({kBinary, "crawl", "--home", h.dir.string(), "--laddr", "127.0.0.1:0"});
  CHECK(crawl.exit_code == 1);
  CHECK(crawl.err.find(in_use) != std::string::npos);
  // Another home, the same database.
  const Home other = make_home(dir.path() / "other");
  const auto db = (h.dir / "data" / "seedscope.db").string();
  auto same_db = run_process(
      {kBinary, "crawl", "--home", other.dir.string(), "--db", db, "--laddr", "127.0.0.1:0"});
  CHECK(same_db.exit_code == 1);
  CHECK(same_db.err.find("the database " + db + " " + in_use) != std::string::npos);
  // An import while the node runs would be overwritten by the node's own saves.
  test::write_file(dir.path() / "book.json", R"({"key":"0123456789abcdef01234567","addrs":[]})");
  auto import = run_process({kBinary, "addrbook", "import", (dir.path() / "book.json").string(),
                             "--home", h.dir.string(), "--force"});
  CHECK(import.exit_code == 1);
  CHECK(import.err.find(in_use) != std::string::npos);
  stop_within(node, Millis(10000));
  // Once it stopped, the home is free again.
  auto after = run_process({kBinary, "addrbook", "import", (dir.path() / "book.json").string(),
                            "--home", h.dir.string(), "--force"});
  CHECK_MESSAGE(after.exit_code == 0, after.err);
}

} // namespace
} // namespace seedscope
