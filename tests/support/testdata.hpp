// Access to ../shared/testdata (or $SEEDSCOPE_TESTDATA) from tests.
#pragma once

#include <string>
#include <vector>

namespace seedscope::test {

// Full path of a file in the test-vector folder.
std::string testdata_path(const std::string& name);

// Whole file as a string; fails the current test (doctest REQUIRE) if it cannot be read.
std::string read_testdata(const std::string& name);

// Non-comment, non-empty lines of a TSV/CSV file, split on `sep`.
std::vector<std::vector<std::string>> read_table(const std::string& name, char sep);

} // namespace seedscope::test
