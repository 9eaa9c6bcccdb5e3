#include "support/testdata.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

namespace seedscope::test {

std::string testdata_path(const std::string& name) {
  const char* env = std::getenv("SEEDSCOPE_TESTDATA");
  std::string dir = env != nullptr ? env : SEEDSCOPE_TESTDATA_DIR;
  return dir + "/" + name;
}

std::string read_testdata(const std::string& name) {
  std::ifstream in(testdata_path(name), std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read test vector file " << testdata_path(name));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> read_table(const std::string& name, char sep) {
  std::istringstream in(read_testdata(name));
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::size_t start = 0;
    while (true) {
      std::size_t pos = line.find(sep, start);
      cols.push_back(line.substr(start, pos - start));
      if (pos == std::string::npos) break;
      start = pos + 1;
    }
    rows.push_back(std::move(cols));
  }
  return rows;
}

} // namespace seedscope::test
