// Running the seedscope binary from tests: temp directories, child processes with captured
// output, bounded waits.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/base/clock.hpp"

namespace seedscope::test {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& file);
// `s` without trailing newlines and spaces (a command's output line).
std::string trim(std::string s);
void write_file(const std::filesystem::path& file, const std::string& text);

// A child process whose stdout and stderr go to files (or descriptors). It starts as from a
// shell: default signal dispositions (SIGPIPE kills) and no blocked signals.
class ChildProcess {
public:
  // `cwd`: the child's working directory (empty: ours).
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& out_file,
               const std::filesystem::path& err_file, const std::filesystem::path& cwd = {});
  // stdout and stderr onto descriptors of ours (pipes); the child gets copies.
  ChildProcess(const std::vector<std::string>& argv, int out_fd, int err_fd);
  ~ChildProcess(); // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signum);
  // The exit code (or 128 + signal), or nullopt if it still runs after `timeout`.
  std::optional<int> wait(Millis timeout);

private:
  void spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t& actions);
  pid_t pid_ = -1;
  bool reaped_ = false;
};

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs to completion (REQUIRE: within `timeout`).
ProcessResult run_process(const std::vector<std::string>& argv, Millis timeout = Millis(20000),
                          const std::filesystem::path& cwd = {});

// True once a TCP connect to 127.0.0.1:port succeeds (tries until `timeout`).
bool wait_for_port(std::uint16_t port, Millis timeout);

// Polls `file` (another process's output) until the regular expression `pattern` (with one
// group) matches; returns the group, or "" when it did not match within `limit`.
std::string wait_for_match(const std::filesystem::path& file, const std::string& pattern,
                           Millis limit = Millis(10000));
// The port of "host:port" or "[v6]:port".
std::uint16_t port_of(const std::string& address);

} // namespace seedscope::test
