// Process output that never throws and never blocks its caller: the event loop, the database
// writer thread and the metrics thread all log through it. Text is queued and one writer
// thread writes it with write(2) in order, log lines to stderr, status lines and command
// results to stdout; log lines may go to a file instead (set_log_file). A write that fails (a
// closed pipe, /dev/full, a full disk) drops that text; once the stream failed with EPIPE it is not
// written again. Past kMaxQueuedBytes queued, new log text is dropped instead of growing memory.
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "core/base/clock.hpp"

namespace seedscope::app {

inline constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;

// "2026-12-01T12:00:00.123Z" (with_millis) or "2026-12-01 12:00:00": UTC whatever TZ says.
std::string utc_time(WallTime t, bool with_millis);

// A formatted log line (app_log.hpp formats them) on the log stream: stderr, or the file of
// set_log_file(). Dropped like any text when the stream cannot take it.
void write_log(std::string line);
// The log stream becomes `path` (O_APPEND, created 0644). Start-up only; throws
// std::runtime_error naming the file when it cannot be opened.
void set_log_file(const std::string& path);
bool has_log_file();
// Reopens the log file by its path, on the writer thread after what is queued (SIGHUP, for
// logrotate): later lines go to the new file. Never blocks; safe from any thread. A failure
// keeps the old file and says so on it. Without a log file: nothing.
void reopen_log_file();
// Text as it is, on stdout or stderr.
void write_stdout(std::string text);
void write_stderr(std::string text);
// A command's result on stdout: queued after what is already queued, then waited for (as
// long as the reader takes, like any command writing to a pipe). False when it could not be
// written whole (a closed pipe, a full disk).
bool write_result(std::string text);
// Waits until everything queued so far is written, given up on, or `limit` has passed.
// Returns false when text was still queued at the limit (a reader that never reads).
bool flush_output(Millis limit = Millis(2000));

// fmt-style shorthands for write_stdout / write_stderr.
template <typename... T> void print_out(fmt::format_string<T...> f, T&&... args) {
  write_stdout(fmt::format(f, std::forward<T>(args)...));
}
template <typename... T> void print_err(fmt::format_string<T...> f, T&&... args) {
  write_stderr(fmt::format(f, std::forward<T>(args)...));
}

} // namespace seedscope::app
