// The test runner itself (tests/support/doctest_main.cpp and scripts/test_census.py): a CTest
// entry that runs no test case fails, and the census of scripts/test.sh notices cases that
// did not run, ran twice or are not compiled. Run as test cases, so that every CTest entry
// executes one.
#include <doctest/doctest.h>

#include "support/process.hpp"

namespace seedscope {
namespace {

// Without the log of this run: what the children run must not count as run here.
test::ProcessResult run_alone(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/usr/bin/env", "-u", "SEEDSCOPE_TESTS_RAN"});
  return test::run_process(argv);
}

} // namespace

TEST_CASE("test runner: an entry that names no test case fails") {
  // --exact takes the name in hex, as tests/cmake/discover_tests.cmake registers it.
  auto r = run_alone({SEEDSCOPE_UNIT_TESTS, "--exact=6e6f2073756368"}); // "no such"
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("expected to run exactly the test case \"no such\", ran 0") !=
        std::string::npos);
}

TEST_CASE("test runner: the census notices cases that did not run, ran twice or are not compiled") {
  test::TempDir dir;
  const auto census = [&](const std::string& ran) {
    test::write_file(dir.path() / "ran.log", ran);
    return run_alone({"/usr/bin/python3", SEEDSCOPE_SOURCE_DIR "/scripts/test_census.py",
                      SEEDSCOPE_BUILD_DIR, (dir.path() / "ran.log").string(), "census"});
  };
  const std::string one = "test runner: an entry that names no test case fails";
  auto none = census("");
  CHECK(none.exit_code == 1);
  CHECK(none.out.find("census: ") == 0);
  CHECK(none.out.find(", 0 ran") != std::string::npos);
  CHECK(none.out.find("compiled but did not run: " + one) != std::string::npos);

  auto twice = census(one + "\n" + one + "\n");
  CHECK(twice.exit_code == 1);
  CHECK(twice.out.find("ran more than once: " + one) != std::string::npos);

  auto stranger = census("a case nobody compiled\n");
  CHECK(stranger.exit_code == 1);
  CHECK(stranger.out.find("ran but not compiled: a case nobody compiled") != std::string::npos);
}

} // namespace seedscope
