// deploy/: the systemd unit passes systemd-analyze (verify, and security with a threshold) and
// stops within its TimeoutStopSec; compose.yml names only files that exist
// (tests/tools/check_compose.py); the Containerfile installs Debian packages only, and every
// library the binary needs.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "crawler/runtime/shutdown.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using test::run_process;

const fs::path kDeploy = fs::path(SEEDSCOPE_SOURCE_DIR) / "deploy";
const std::string kUnitName = "seedscope.service";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The unit's `Key=value` settings (the last one of each key), comments skipped.
std::map<std::string, std::string> settings(const std::string& unit) {
  std::map<std::string, std::string> out;
  for (const auto& line : lines_of(unit)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// What `systemd-analyze verify` says about the unit file `unit` (in a directory of its own):
// its exit code and the lines that name the file. Lines about the rest of the system (a
// container's missing units) are not the unit's.
struct Verdict {
  int exit_code;
  std::vector<std::string> lines;
};
Verdict verify(const fs::path& unit) {
  auto r = run_process({"/usr/bin/systemd-analyze", "verify", "--man=no", unit.string()},
                       Millis(30000), unit.parent_path());
  Verdict v{r.exit_code, {}};
  for (const auto& line : lines_of(r.out + r.err))
    if (line.find(unit.filename().string()) != std::string::npos) v.lines.push_back(line);
  return v;
}

// The unit with ExecStart running the binary just built (verify wants it to exist).
std::string with_built_binary(std::string unit) {
  const std::string from = "ExecStart=/usr/local/bin/seedscope ";
  const auto pos = unit.find(from);
  REQUIRE(pos != std::string::npos);
  unit.replace(pos, from.size(), fmt::format("ExecStart={} ", SEEDSCOPE_BINARY));
  return unit;
}

// Containerfile instructions, continuation lines joined, comments dropped.
std::vector<std::string> instructions(const std::string& text) {
  std::vector<std::string> out;
  std::string pending;
  for (auto line : lines_of(text)) {
    if (pending.empty() && (line.empty() || line[0] == '#')) continue;
    const bool more = !line.empty() && line.back() == '\\';
    if (more) line.pop_back();
    pending += line + " ";
    if (!more) {
      out.push_back(pending);
      pending.clear();
    }
  }
  return out;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The packages of every `apt-get install` in `run`.
std::vector<std::string> apt_installs(const std::string& run) {
  std::vector<std::string> out;
  const auto w = words(run);
  for (std::size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] != "apt-get" || w[i + 1] != "install") continue;
    for (std::size_t j = i + 2; j < w.size() && w[j] != "&&" && w[j] != ";"; ++j)
      if (w[j][0] != '-') out.push_back(w[j]);
  }
  return out;
}

// The Debian package that holds `file` ("" if none), and a field of a package's status.
std::string package_of(const std::string& file) {
  auto r = run_process({"/usr/bin/dpkg", "-S", fs::canonical(file).string()});
  if (r.exit_code != 0) r = run_process({"/usr/bin/dpkg", "-S", file});
  if (r.exit_code != 0) return "";
  std::string pkg = r.out.substr(0, r.out.find(':'));
  return pkg;
}
std::string dpkg_field(const std::string& package, const std::string& field) {
  auto r = run_process({"/usr/bin/dpkg-query", "-W", "-f=${" + field + "}", package});
  return r.exit_code == 0 ? r.out : "";
}

} // namespace

TEST_CASE("deploy: the systemd unit is hardened, runs `start --home`, and passes systemd-analyze") {
  const std::string unit = test::read_file(kDeploy / "systemd" / kUnitName);
  auto s = settings(unit);
  CHECK(s["ExecStart"] == "/usr/local/bin/seedscope start --home /var/lib/seedscope");
  CHECK(s["User"] == "seedscope");
  CHECK(s["ReadWritePaths"] == "/var/lib/seedscope"); // the home, and only it
  CHECK(s["WorkingDirectory"] == "/var/lib/seedscope");
  for (const char* key : {"NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                          "ProtectKernelTunables", "ProtectKernelModules", "ProtectControlGroups"})
    CHECK_MESSAGE(s[key] == "yes", key);
  CHECK(s["ProtectSystem"] == "strict");
  CHECK(s["RestrictAddressFamilies"] == "AF_INET AF_INET6 AF_UNIX");
  CHECK(s["LimitNOFILE"] == "65536");
  CHECK(s["Restart"] == "on-failure");
  CHECK_FALSE(s["RestartSec"].empty());
  REQUIRE(s.count("CapabilityBoundingSet") == 1);
  CHECK(s["CapabilityBoundingSet"].empty());
  REQUIRE(s.count("AmbientCapabilities") == 1);
  CHECK(s["AmbientCapabilities"].empty());
  // systemd's SIGKILL comes after seedscope's own bound on a graceful stop (the grace period,
  // then a flush of the log of at most 1 s, main.cpp), with a margin, and not much later.
  const auto grace_s = runtime::ShutdownOptions{}.grace.count() / 1000;
  const int timeout_s = std::stoi(s["TimeoutStopSec"]);
  CHECK(timeout_s >= grace_s + 3);
  CHECK(timeout_s <= grace_s + 20);

  test::TempDir dir;
  SUBCASE("verify: nothing to say about the unit") {
    const fs::path copy = dir.path() / kUnitName;
    test::write_file(copy, with_built_binary(unit));
    const Verdict v = verify(copy);
    INFO(fmt::format("{}", fmt::join(v.lines, "\n")));
    CHECK(v.exit_code == 0);
    CHECK(v.lines.empty());
  }
  SUBCASE("verify catches a mistake (so the check above can fail)") {
    const fs::path copy = dir.path() / kUnitName;
    std::string bad = with_built_binary(unit);
    bad.replace(bad.find("ProtectSystem="), 14, "ProtectSystm=");
    test::write_file(copy, bad);
    const Verdict v = verify(copy);
    REQUIRE(v.lines.size() == 1);
    CHECK(v.lines[0].find("ProtectSystm") != std::string::npos);
  }
  SUBCASE("security: exposure at most 2.5 of 10") {
    const fs::path copy = dir.path() / kUnitName;
    test::write_file(copy, with_built_binary(unit));
    auto r = run_process({"/usr/bin/systemd-analyze", "security", "--offline=yes", "--threshold=25",
                          "--no-pager", copy.string()},
                         Millis(30000), dir.path());
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Overall exposure level for " + kUnitName) != std::string::npos);
  }
}

TEST_CASE("deploy: every file compose.yml names exists, and what its configs name is mounted") {
  const std::string checker = std::string(SEEDSCOPE_SOURCE_DIR) + "/tests/tools/check_compose.py";
  auto r = run_process({"/usr/bin/python3", checker, (kDeploy / "compose.yml").string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // Context, Containerfile, 5 mounts, the rule file, the dashboards path: nothing skipped.
  REQUIRE(r.out.rfind("checked ", 0) == 0);
  CHECK(std::stoi(r.out.substr(8)) >= 9);

  // A compose file that names what is not there: one line each.
  test::TempDir dir;
  test::write_file(dir.path() / "compose.yml",
                   "services:\n  a:\n    build: { context: ., dockerfile: Nope }\n"
                   "    volumes: [\"./missing.yml:/etc/x.yml:ro\", \"undeclared:/data\"]\n"
                   "  p:\n    image: prom/prometheus\n"
                   "    command: [\"--config.file=/etc/prometheus/prometheus.yml\"]\n"
                   "    volumes: [\"./p.yml:/etc/prometheus/prometheus.yml:ro\"]\n");
  test::write_file(dir.path() / "p.yml", "rule_files:\n  - alerts.yml\n");
  auto bad = run_process({"/usr/bin/python3", checker, (dir.path() / "compose.yml").string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.empty());
  const auto lines = lines_of(bad.err);
  CHECK(lines.size() == 4);
  for (const char* what :
       {"dockerfile: Nope does not exist", "missing.yml does not exist",
        "undeclared is not declared", "rule file /etc/prometheus/alerts.yml is not mounted"})
    CHECK_MESSAGE(bad.err.find(what) != std::string::npos, what);
}

TEST_CASE("deploy: the Containerfile installs Debian 12 packages only, and every library the "
          "binary links") {
  const auto steps = instructions(test::read_file(kDeploy / "Containerfile"));
  std::set<std::string> stages;
  std::string build_dir, copied_binary;
  std::vector<std::string> runtime_packages;
  for (const auto& step : steps) {
    INFO(step);
    const auto w = words(step);
    REQUIRE_FALSE(w.empty());
    const std::string op = w[0];
    CHECK(op != "ADD"); // ADD fetches URLs and unpacks archives: COPY says what it does
    if (op == "FROM") {
      CHECK(w[1] == "debian:12");
      stages.clear(); // packages counted are the last (runtime) stage's
      runtime_packages.clear();
      if (w.size() == 4) stages.insert(w[3]);
    }
    if (op == "RUN") {
      for (const char* fetch : {"curl", "wget", "| sh", "|sh", "| bash", "pip ", "npm ",
                                "git clone", "go install", "cargo install", "http://", "https://"})
        CHECK_MESSAGE(step.find(fetch) == std::string::npos, fetch);
      for (const auto& p : apt_installs(step)) runtime_packages.push_back(p);
      const auto b = step.find(" -B ");
      if (b != std::string::npos) build_dir = words(step.substr(b + 4))[0];
    }
    if (op == "COPY" && w.size() == 4 && w[1] == "--from=build") copied_binary = w[2];
  }
  // The binary copied out of the build stage is the one that stage built.
  REQUIRE_FALSE(build_dir.empty());
  CHECK(copied_binary == build_dir + "/crawler/seedscope");
  REQUIRE_FALSE(runtime_packages.empty());
  // Each is a Debian package (installed here: the -dev packages scripts/deps.sh installs
  // depend on them).
  for (const auto& p : runtime_packages)
    CHECK_MESSAGE(dpkg_field(p, "Status") == "install ok installed", p);

  // Every shared library the binary loads comes from one of them, or from the base image, or
  // is a sanitizer runtime (this build's, not the image's).
  auto ldd = run_process({"/usr/bin/ldd", SEEDSCOPE_BINARY});
  REQUIRE(ldd.exit_code == 0);
  std::size_t libraries = 0;
  for (const auto& line : lines_of(ldd.out)) {
    const auto arrow = line.find("=> /");
    if (arrow == std::string::npos) continue;
    const std::string file = words(line.substr(arrow + 3))[0];
    ++libraries;
    const std::string package = package_of(file);
    INFO(file << " from " << package);
    REQUIRE_FALSE(package.empty());
    if (package.rfind("libasan", 0) == 0 || package.rfind("libubsan", 0) == 0) continue;
    const bool listed = std::find(runtime_packages.begin(), runtime_packages.end(), package) !=
                        runtime_packages.end();
    // debian:12 has these: libc6 (essential), libstdc++6 and libgcc-s1 (apt needs them).
    const bool base = package == "libc6" || package == "libstdc++6" || package == "libgcc-s1";
    const bool provided = listed || base;
    CHECK_MESSAGE(provided, package << " is not installed by the Containerfile");
  }
  CHECK(libraries >= 8);
}

} // namespace seedscope
