// doctest's main, with what CTest needs to run every test case, each exactly once:
// - `--list-test-cases --no-skip --reporters=ctest` prints one line per compiled test case: the
// name
//   in hex, a tab, and the name as CTest shows it (';' and brackets replaced: CMake splits
//   lists there).
//   tests/cmake/discover_tests.cmake registers one CTest entry per line.
// - `--exact=<hex>` runs the test case of that name and nothing else, and fails when no test
//   case of that name ran (a filter that matches nothing must not pass).
// - With SEEDSCOPE_TESTS_RAN=<file>, the name of every test case that starts is appended to
//   that file, one per line; scripts/test.sh compares that with what was compiled.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

std::string to_hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

std::optional<std::string> from_hex(const std::string& hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// The names of the test cases that started in this process.
std::set<std::string>& started() {
  static std::set<std::string> names;
  return names;
}

void append_to_log(const std::string& name) {
  const char* file = std::getenv("SEEDSCOPE_TESTS_RAN");
  if (file == nullptr || *file == '\0') return;
  const int fd = ::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string line = name + "\n";
  // One write with O_APPEND: lines from parallel test processes do not interleave.
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

// Lists the test cases for CMake; reports nothing else.
struct CtestReporter : doctest::IReporter {
  explicit CtestReporter(const doctest::ContextOptions& o) : out(*o.cout) {}
  void report_query(const doctest::QueryData& q) override {
    for (unsigned i = 0; i < q.num_data; ++i) {
      std::string shown = q.data[i]->m_name;
      for (char& c : shown) {
        if (c == ';') c = ','; // CMake splits lists at ';' and pairs '[' with ']' there
        if (c == '[') c = '(';
        if (c == ']') c = ')';
      }
      out << to_hex(q.data[i]->m_name) << '\t' << shown << '\n';
    }
  }
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
  std::ostream& out;
};

// Records every test case that starts (once, whatever its subcases).
struct RanListener : CtestReporter {
  using CtestReporter::CtestReporter;
  void report_query(const doctest::QueryData&) override {}
  void test_case_start(const doctest::TestCaseData& tc) override {
    if (started().insert(tc.m_name).second) append_to_log(tc.m_name);
  }
};

} // namespace

DOCTEST_REGISTER_REPORTER("ctest", 1, CtestReporter);
DOCTEST_REGISTER_LISTENER("seedscope_ran", 1, RanListener);

int main(int argc, char** argv) {
  std::optional<std::string> exact;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strncmp(a, "--exact=", 8) == 0) {
      exact = from_hex(a + 8);
      if (!exact) {
        std::fprintf(stderr, "--exact: expected a test case name in hex\n");
        return 2;
      }
      continue;
    }
    args.push_back(argv[i]);
  }
  doctest::Context context(static_cast<int>(args.size()), args.data());
  if (exact) {
    // doctest filters are wildcards separated by commas: keep the name's characters where
    // that is safe and let '?' stand for the others; the check below makes it exact.
    std::string pattern;
    for (char c : *exact) pattern += (c == ',' || c == '\\' || c == '*' || c == '?') ? '?' : c;
    context.addFilter("test-case", pattern.c_str());
  }
  const int result = context.run();
  if (context.shouldExit()) return result;
  if (exact) {
    const auto& ran = started();
    if (ran.count(*exact) == 0 || ran.size() != 1) {
      std::fprintf(stderr,
                   "seedscope test main: expected to run exactly the test case \"%s\", ran %zu "
                   "test case(s)\n",
                   exact->c_str(), ran.size());
      return result != 0 ? result : 3;
    }
  }
  return result;
}
