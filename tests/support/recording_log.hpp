// A LogSink that keeps every record it is given (all levels, every module), for tests that
// check what a component logs. Each record is also kept as one text line, "message key=value
// ..." (values as logfmt writes them). Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/log.hpp"

namespace seedscope::test {

class RecordingLogSink final : public LogSink {
public:
  struct Entry {
    LogLevel level;
    std::string module;
    std::string message;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string text; // "message key=value ..."
  };

  LogLevel threshold = LogLevel::debug;

  bool enabled(LogLevel level, std::string_view) const override {
    return level != LogLevel::none && level >= threshold;
  }
  void write(LogLevel level, std::string_view module, std::string_view message,
             std::span<const LogField> fields) override {
    Entry e{level, std::string(module), std::string(message), {}, std::string(message)};
    for (const LogField& f : fields) {
      e.fields.emplace_back(std::string(f.key), f.value);
      e.text += " " + std::string(f.key) + "=" + logfmt_value(f.value);
    }
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(e));
  }

  std::vector<Entry> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Entry& e : entries()) out.push_back(e.text);
    return out;
  }

private:
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

// A sink and a Logger on it.
struct RecordingLog {
  std::shared_ptr<RecordingLogSink> sink = std::make_shared<RecordingLogSink>();
  Logger logger(std::string_view module = "main") const { return Logger(sink, module); }
  std::vector<std::string> lines() const { return sink->lines(); }
};

} // namespace seedscope::test
