#include "crawler/app/process_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace seedscope::app {

namespace {

std::string read_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return {};
  std::string pid(buf, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

} // namespace

ProcessLock ProcessLock::acquire(const std::filesystem::path& lock_file, const std::string& what) {
  std::error_code ec;
  if (lock_file.has_parent_path()) std::filesystem::create_directories(lock_file.parent_path(), ec);
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(
        fmt::format("cannot open the lock file {}: {}", lock_file.string(), std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = read_holder(fd);
    ::close(fd);
    if (err == EWOULDBLOCK)
      throw std::runtime_error(
          fmt::format("{} is in use by another seedscope process{} (lock file {}); stop it first",
                      what, holder.empty() ? "" : " (pid " + holder + ")", lock_file.string()));
    throw std::runtime_error(
        fmt::format("cannot lock {}: {}", lock_file.string(), std::strerror(err)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return ProcessLock(fd);
}

ProcessLock::~ProcessLock() {
  if (fd_ >= 0) ::close(fd_); // releases the lock; the file stays (removing it would race)
}

ProcessLock::ProcessLock(ProcessLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ProcessLock lock_db(const std::filesystem::path& db) {
  std::filesystem::path lock_file = db;
  lock_file += ".lock";
  return ProcessLock::acquire(lock_file, "the database " + db.string());
}

HomeLocks lock_home_and_db(const std::filesystem::path& home, const std::filesystem::path& db) {
  auto home_lock = ProcessLock::acquire(home / "seedscope.lock", "the home " + home.string());
  return HomeLocks{std::move(home_lock), lock_db(db)};
}

} // namespace seedscope::app
