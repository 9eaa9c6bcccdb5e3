// README.md's examples work as printed: every command of its sh blocks that uses the demo's
// database (`demo.db`) runs in a scratch directory, in order, starting with the demo that
// makes it; exports print peers (a recipe that filters everything out fails here), the API
// serves, and its curl lines get 200 with content.
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "support/http_client.hpp"
#include "support/loop_harness.hpp"
#include "support/process.hpp"

namespace seedscope {
namespace {

namespace fs = std::filesystem;

// The commands of README's ```sh blocks, continuation lines joined, comments cut.
std::vector<std::string> sh_lines(const std::string& readme) {
  std::vector<std::string> out;
  std::istringstream in(readme);
  std::string line, pending;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block && line == "```sh";
      continue;
    }
    if (!in_block) continue;
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    line = pending + line;
    pending.clear();
    if (auto hash = line.find("  #"); hash != std::string::npos) line = line.substr(0, hash);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Shell words: whitespace-separated, with '...' and "..." quoting.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool any = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) quote = 0;
      else cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      any = true;
    } else if (c == ' ' || c == '\t') {
      if (any || !cur.empty()) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
    }
  }
  if (any || !cur.empty()) out.push_back(cur);
  return out;
}

std::string option(const std::vector<std::string>& argv, const std::string& name) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i)
    if (argv[i] == name) return argv[i + 1];
  return {};
}

} // namespace

TEST_CASE("README: every example on the demo's database works as printed") {
  const std::string readme = test::read_file(fs::path(SEEDSCOPE_SOURCE_DIR) / "README.md");
  std::vector<std::vector<std::string>> commands;
  for (const auto& line : sh_lines(readme))
    if (line.find("demo.db") != std::string::npos || line.rfind("curl ", 0) == 0)
      commands.push_back(words(line));
  REQUIRE(commands.size() >= 5);
  REQUIRE(commands.front()[0] == "seedscope");
  REQUIRE(commands.front()[1] == "demo"); // the first one makes the database

  test::TempDir dir;
  ::setenv("HOME", dir.path().c_str(), 1); // no operator's ~/.seedscope is read
  std::optional<test::ChildProcess> api;
  std::uint16_t api_port = 0;
  std::size_t exports = 0;
  for (auto argv : commands) {
    const std::string shown = fmt::format("{}", fmt::join(argv, " "));
    INFO(shown);
    if (argv[0] == "curl") {
      REQUIRE_MESSAGE(api_port != 0, "a curl example before `seedscope api`");
      const std::string url = argv.back();
      const auto path = url.find('/', url.find("//") + 2);
      const std::string response = test::http_get(api_port, url.substr(path));
      CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
      CHECK(test::http_body(response).size() > 2);
      continue;
    }
    REQUIRE(argv[0] == "seedscope");
    argv[0] = SEEDSCOPE_BINARY;
    if (argv[1] == "api") {
      const std::string listen = option(argv, "--listen");
      api_port = test::port_of(listen);
      api.emplace(argv, dir.path() / "api.out", dir.path() / "api.err", dir.path());
      REQUIRE_MESSAGE(test::wait_for_port(api_port, Millis(10000)),
                      test::read_file(dir.path() / "api.err"));
      continue;
    }
    const auto r = test::run_process(argv, Millis(120000), dir.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    if (argv[1] == "demo") {
      CHECK(r.err.find("target reached") != std::string::npos);
      CHECK(r.out.find("seedscope demo summary") != std::string::npos);
      CHECK(r.out.find("simhub-1") != std::string::npos);
      CHECK(r.out.find("refused") != std::string::npos);
      CHECK(r.out.find("handshake_timeout") != std::string::npos);
    }
    if (argv[1] == "stats") CHECK(r.out.find("simhub-1") != std::string::npos);
    if (argv[1] == "export") {
      ++exports;
      const std::string out = option(argv, "--out");
      const std::string text = out.empty() ? r.out : test::read_file(dir.path() / out);
      CHECK_MESSAGE(text.size() > 50, "the example filtered everything out: " << r.err);
      CHECK(r.err.find(" left") == std::string::npos); // no "0 of N nodes ... left"
    }
  }
  CHECK(exports >= 3);
  if (api) {
    api->signal(SIGTERM);
    CHECK(api->wait(Millis(10000)) == std::optional<int>(0));
  }
}

} // namespace seedscope
