// ObservatoryMetrics when the database fails it: a refresh that cannot open the file or whose
// query fails is counted and logged (at most a line a minute, on a fake clock), returns false,
// and leaves no series behind once the database reads again.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <prometheus/registry.h>

#include "metrics/observatory_metrics.hpp"
#include "storage/database.hpp"
#include "storage/observatory.hpp"
#include "support/fake_clock.hpp"
#include "support/metric_value.hpp"
#include "support/process.hpp"
#include "support/recording_log.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;

// The value of the first series of `name` whose labels include `labels`; -1 when none.
double value(prometheus::Registry& registry, const std::string& name,
             const std::map<std::string, std::string>& labels = {}) {
  return test::metric_value(registry, name, labels);
}

double known_nodes(prometheus::Registry& registry, const std::string& network) {
  return value(registry, "t_network_known_nodes", {{"network", network}});
}

void add_nodes(const fs::path& file, const std::string& network, int from, int to) {
  storage::ObservatoryWriter w(file);
  const auto t =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (int i = from; i <= to; ++i) {
    NodeInfo info;
    info.node_id = fmt::format("{:040x}", i);
    info.network = network;
    info.version = "0.34.24";
    info.moniker = "m";
    info.listen_addr = "tcp://0.0.0.0:26656";
    w.post(observe::NodeSeen{info, t});
  }
}

void remove_database(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
}

struct Fixture {
  Fixture() : file(dir.path() / "obs.db") {
    storage::load_observatory(file);
    add_nodes(file, "chain-a", 1, 2);
    options.ns = "t";
    options.interval = std::chrono::hours(1);
    options.log = log.logger("metrics");
    options.clock = &clock;
    options.background = false;
  }
  test::TempDir dir;
  fs::path file;
  test::FakeClock clock;
  test::RecordingLog log;
  std::vector<std::string> lines() const { return log.lines(); }
  metrics::ObservatoryMetricsOptions options;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
};

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("observatory metrics: a failing refresh is logged at most once a minute and counted") {
  Fixture f;
  metrics::ObservatoryMetrics m(f.registry, f.file, f.options);
  auto& r = *f.registry;
  const std::string failures = "t_observatory_refresh_failures_total";
  REQUIRE(m.refresh());
  CHECK(f.lines().empty());
  CHECK(value(r, failures) == 0);
  CHECK(known_nodes(r, "chain-a") == 2);
  const fs::path good = f.dir.path() / "good.db";
  fs::copy_file(f.file, good);

  // The file is gone: logged at once, counted; the gauges keep their values.
  remove_database(f.file);
  CHECK_FALSE(m.refresh());
  REQUIRE(f.lines().size() == 1);
  INFO(f.lines()[0]);
  CHECK(f.lines()[0].rfind("observatory metrics: refresh failed db=" + f.file.string() +
                               " failures=1 err=\"no such database",
                           0) == 0);
  CHECK(value(r, failures) == 1);
  CHECK(known_nodes(r, "chain-a") == 2);

  // Garbage in its place, 30 s later: counted, not logged.
  { std::ofstream(f.file, std::ios::binary) << std::string(4096, '\x5a'); }
  f.clock.advance(std::chrono::seconds(30));
  CHECK_FALSE(m.refresh());
  CHECK(f.lines().size() == 1);
  CHECK(value(r, failures) == 2);

  // A minute after the first line: the next line, with what went unlogged.
  f.clock.advance(std::chrono::seconds(31));
  CHECK_FALSE(m.refresh());
  REQUIRE(f.lines().size() == 2);
  INFO(f.lines()[1]);
  CHECK(contains(f.lines()[1], " failures=2 ")); // what went unlogged since the last line
  CHECK(contains(f.lines()[1], "not an SQLite file"));
  CHECK(value(r, failures) == 3);

  // Back: one line says so, and the next refreshes are quiet.
  remove_database(f.file);
  fs::copy_file(good, f.file);
  CHECK(m.refresh());
  REQUIRE(f.lines().size() == 3);
  CHECK(contains(f.lines()[2], "refresh works again db=" + f.file.string() + " failed_attempts=3"));
  CHECK(m.refresh());
  CHECK(f.lines().size() == 3);
  CHECK(value(r, failures) == 3);
  CHECK(m.refreshes() == 3);
}

TEST_CASE("observatory metrics: a query that fails fails the refresh; its series do not linger") {
  Fixture f;
  metrics::ObservatoryMetrics m(f.registry, f.file, f.options);
  auto& r = *f.registry;
  REQUIRE(m.refresh());
  CHECK(known_nodes(r, "chain-b") == -1);

  // A new network, and a table a later query needs is missing: the refresh sets the network
  // counts, then fails.
  add_nodes(f.file, "chain-b", 10, 10);
  storage::Database::open(f.file).exec("ALTER TABLE availability RENAME TO availability_gone");
  CHECK_FALSE(m.refresh());
  REQUIRE(f.lines().size() == 1);
  INFO(f.lines()[0]);
  CHECK(contains(f.lines()[0], "refresh failed db=" + f.file.string() + " "));
  CHECK(contains(f.lines()[0], "no such table: availability"));
  CHECK(value(r, "t_observatory_refresh_failures_total") == 1);
  CHECK(known_nodes(r, "chain-b") == 1);

  // chain-b is gone by the next refresh, which works: so is its series.
  {
    auto db = storage::Database::open(f.file);
    db.exec("ALTER TABLE availability_gone RENAME TO availability");
    db.exec("DELETE FROM nodes WHERE network = 'chain-b'; DELETE FROM networks WHERE network = "
            "'chain-b'");
  }
  CHECK(m.refresh());
  CHECK(known_nodes(r, "chain-b") == -1);
  CHECK(known_nodes(r, "chain-a") == 2);
  CHECK(m.refreshes() == 2);
}

} // namespace seedscope
