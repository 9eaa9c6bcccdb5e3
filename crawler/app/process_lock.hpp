// One process per home directory and per database: a lock file held (flock) for the life of
// the process, with the holder's PID in it for the message a second process gets. The lock
// goes away with the process however it ends (the kernel drops it), so a crash never leaves a
// stale lock behind. Start-up only: acquire() throws std::runtime_error when it is held.
#pragma once

#include <filesystem>
#include <string>

namespace seedscope::app {

class ProcessLock {
public:
  // Locks `lock_file` (created if missing). `what` names the guarded thing in the error, e.g.
  // "the home /root/.seedscope".
  static ProcessLock acquire(const std::filesystem::path& lock_file, const std::string& what);
  ~ProcessLock();
  ProcessLock(ProcessLock&& other) noexcept;
  ProcessLock& operator=(ProcessLock&&) = delete;
  ProcessLock(const ProcessLock&) = delete;

private:
  explicit ProcessLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// The lock of a database file (`<db>.lock` beside it).
ProcessLock lock_db(const std::filesystem::path& db);

// The locks of a command that writes the home's database: the home and the database file
// (`<db>.lock`), which may lie outside the home (--db).
struct HomeLocks {
  ProcessLock home;
  ProcessLock db;
};
HomeLocks lock_home_and_db(const std::filesystem::path& home, const std::filesystem::path& db);

} // namespace seedscope::app
