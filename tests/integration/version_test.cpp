// Which build is running: `seedscope version`'s fields, the revision captured by
// cmake/revision.cmake (in scratch git repositories), and `<ns>_build_info` in real scrapes of
// `crawl`, `start` and `demo`.
#include <signal.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "core/types/node_info.hpp"
#include "crawler/app/version.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;
using test::run_process;
using test::trim;

const std::string kBinary = SEEDSCOPE_BINARY;

// `git -C dir args...`, its trimmed stdout ("" when it fails).
std::string git(const fs::path& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/git", "-C", dir.string()};
  for (const char* setting : {"user.name=t", "user.email=t@example.invalid", "commit.gpgsign=false",
                              "core.hooksPath=/dev/null"}) {
    argv.push_back("-c");
    argv.push_back(setting);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(argv);
  return r.exit_code == 0 ? trim(r.out) : "";
}

// The revision cmake/revision.cmake finds for `source` now, read back from what it wrote.
std::string revision_of(const fs::path& source, const fs::path& out) {
  auto r = run_process({SEEDSCOPE_CMAKE, "-D", "SOURCE_DIR=" + source.string(), "-D",
                        "OUT=" + out.string(), "-D", "RELEASE=9.8.7", "-D", "BUILD_TYPE=Debug",
                        "-D", "SANITIZE=OFF", "-D", "GIT=/usr/bin/git", "-P",
                        std::string(SEEDSCOPE_SOURCE_DIR) + "/cmake/revision.cmake"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string header = test::read_file(out);
  CHECK(header.find("#define SEEDSCOPE_RELEASE \"9.8.7\"\n") != std::string::npos);
  CHECK(header.find("#define SEEDSCOPE_BUILD_TYPE \"Debug\"\n") != std::string::npos);
  std::smatch m;
  const std::regex define(R"re(#define SEEDSCOPE_REVISION "([^"]*)")re");
  REQUIRE(std::regex_search(header, m, define));
  return m[1];
}

// "name: value" lines after the first (the release).
std::map<std::string, std::string> fields(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto colon = line.find(": ");
    REQUIRE_MESSAGE(colon != std::string::npos, line);
    out[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return out;
}

// The one `<ns>_build_info` sample this build serves.
std::string build_info_line(const std::string& ns) {
  const app::BuildInfo& b = app::build_info();
  return fmt::format("{}_build_info{{build_type=\"{}\",revision=\"{}\",version=\"{}\"}} 1\n", ns,
                     b.build_type, b.revision, b.version);
}

// Scrapes the process whose stderr is `err_file` once it says where its metrics are.
std::string scrape(const fs::path& err_file) {
  const std::string address =
      test::wait_for_match(err_file, R"(url=http://(\S+)/metrics)", Millis(20000));
  INFO(test::read_file(err_file));
  REQUIRE_FALSE(address.empty());
  const std::string response = test::http_get(test::port_of(address), "/metrics");
  REQUIRE(test::http_status(response) == 200);
  return test::http_body(response);
}

} // namespace

TEST_CASE("`seedscope version` prints the release, the checkout's revision, the build type, the "
          "sanitizers and the protocol versions") {
  auto r = run_process({kBinary, "version"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  INFO(r.out);
  CHECK(r.out.rfind(SEEDSCOPE_VERSION_STRING "\n", 0) == 0);
  auto f = fields(r.out);
  CHECK(f.size() == 6);
  // The commit this tree is at (the binary is built from it: ctest runs after a build).
  const fs::path source = SEEDSCOPE_SOURCE_DIR;
  const std::string top = git(source, {"rev-parse", "--show-toplevel"});
  if (!top.empty() && fs::equivalent(top, source)) {
    const std::string head = git(source, {"rev-parse", "HEAD"});
    REQUIRE(head.size() == 40);
    CHECK_MESSAGE(std::regex_match(f["revision"], std::regex(head.substr(0, 12) + "(-dirty)?")),
                  "built from another commit than HEAD " << head << ": rebuild");
    CHECK(f["node info version"] == SEEDSCOPE_VERSION_STRING "+" + f["revision"]);
  } else {
    CHECK(f["revision"] == "unknown");
    CHECK(f["node info version"] == SEEDSCOPE_VERSION_STRING);
  }
  CHECK(f["build type"] == SEEDSCOPE_TEST_BUILD_TYPE);
  CHECK(f["sanitizers"] == (SEEDSCOPE_TEST_SANITIZE ? "ASan+UBSan" : "off"));
  CHECK(f["p2p protocol"] == std::to_string(kP2PProtocol));
  CHECK(f["block protocol"] == std::to_string(kBlockProtocol));
  CHECK(f["p2p protocol"] == "8");
  CHECK(f["block protocol"] == "11");
  // What our NodeInfo says passes the NodeInfo rules (ported from Go's Validate).
  NodeInfo info;
  info.node_id = std::string(40, 'a');
  info.listen_addr = "tcp://127.0.0.1:26656";
  info.network = "chain-1";
  info.moniker = "m";
  info.version = app::node_version();
  CHECK(info.version == f["node info version"]);
  CHECK(validate_node_info(info).ok());
  // A result that cannot be written is an error.
  auto full = run_process({"/bin/sh", "-c", "exec \"$0\" version > /dev/full", kBinary});
  CHECK(full.exit_code == 1);
  CHECK(full.err == "seedscope: cannot write the version to stdout\n");
}

TEST_CASE("revision.cmake: unknown outside a checkout, the commit, -dirty, a new commit, and no "
          "rewrite when nothing changed") {
  test::TempDir dir;
  const fs::path src = dir.path() / "src", out = dir.path() / "build_info.hpp";
  fs::create_directories(src / "sub");
  CHECK(revision_of(src, out) == "unknown"); // not a git checkout
  REQUIRE(git(src, {"init", "-q"}) == "");
  test::write_file(src / "a.txt", "one\n");
  git(src, {"add", "a.txt"});
  git(src, {"commit", "-q", "-m", "one"});
  const std::string first = git(src, {"rev-parse", "--short=12", "HEAD"});
  REQUIRE(first.size() == 12);
  CHECK(revision_of(src, out) == first);
  // A directory inside someone else's checkout (a tarball unpacked there) is not one.
  CHECK(revision_of(src / "sub", dir.path() / "sub.hpp") == "unknown");

  // Nothing changed: the file is not rewritten (so nothing is recompiled).
  const auto past = fs::last_write_time(out) - std::chrono::hours(1);
  fs::last_write_time(out, past);
  CHECK(revision_of(src, out) == first);
  CHECK(fs::last_write_time(out) == past);
  // An untracked file is not a change of the source; a changed tracked file is.
  test::write_file(src / "scratch.txt", "x\n");
  CHECK(revision_of(src, out) == first);
  CHECK(fs::last_write_time(out) == past);
  test::write_file(src / "a.txt", "two\n");
  CHECK(revision_of(src, out) == first + "-dirty");
  CHECK(fs::last_write_time(out) != past);
  // A new commit is the next build's revision.
  git(src, {"commit", "-q", "-am", "two"});
  const std::string second = git(src, {"rev-parse", "--short=12", "HEAD"});
  REQUIRE(second.size() == 12);
  CHECK(second != first);
  CHECK(revision_of(src, out) == second);
}

TEST_CASE("build_info: `crawl`, `start` and `demo` serve it with the version, revision and build "
          "type") {
  test::TempDir dir;
  SUBCASE("crawl") {
    test::ChildProcess crawl({kBinary, "--home", (dir.path() / "home").string(), "crawl", "--laddr",
                              "127.0.0.1:0", "--db", (dir.path() / "obs.db").string(),
                              "--loopback-only", "--duration", "60s", "--metrics-addr",
                              "127.0.0.1:0"},
                             dir.path() / "out", dir.path() / "err");
    const std::string text = scrape(dir.path() / "err");
    INFO(text);
    CHECK(text.find("# TYPE seedscope_build_info gauge\n") != std::string::npos);
    CHECK(text.find(build_info_line("seedscope")) != std::string::npos);
    crawl.signal(SIGTERM);
    CHECK(crawl.wait(Millis(10000)).has_value()); // it may still be starting: any stop will do
  }
  SUBCASE("start, in the config's namespace") {
    const fs::path home = dir.path() / "node";
    REQUIRE(run_process({kBinary, "init", "--home", home.string()}).exit_code == 0);
    test::write_file(home / "config" / "config.toml",
                     "moniker = \"m\"\n[p2p]\nladdr = \"tcp://127.0.0.1:0\"\n"
                     "[instrumentation]\nprometheus_listen_addr = \"127.0.0.1:0\"\n"
                     "namespace = \"opsns\"\n");
    test::ChildProcess node({kBinary, "start", "--home", home.string()}, dir.path() / "out",
                            dir.path() / "err");
    const std::string text = scrape(dir.path() / "err");
    INFO(text);
    CHECK(text.find(build_info_line("opsns")) != std::string::npos);
    CHECK(text.find("seedscope_build_info") == std::string::npos);
    node.signal(SIGTERM);
    CHECK(node.wait(Millis(10000)).has_value()); // it may still be starting: any stop will do
  }
  SUBCASE("demo") {
    test::ChildProcess demo({kBinary, "demo", "--preset", "small", "--metrics-addr", "127.0.0.1:0",
                             "--duration", "30s", "--address-offset", "60000", "--db",
                             (dir.path() / "demo.db").string()},
                            dir.path() / "out", dir.path() / "err");
    const std::string text = scrape(dir.path() / "err");
    INFO(text);
    CHECK(text.find(build_info_line("seedscope")) != std::string::npos);
    demo.signal(SIGTERM);
    CHECK(demo.wait(Millis(10000)).has_value()); // it may still be starting: any stop will do
  }
}

} // namespace seedscope
