#include "crawler/app/app_log.hpp"

#include <chrono>
#include <memory>
#include <mutex>

#include "crawler/app/output.hpp"

namespace seedscope::app {

namespace {

class AppLogSink final : public LogSink {
public:
  bool enabled(LogLevel level, std::string_view module) const override {
    std::lock_guard lock(mu_);
    return filter_.allows(level, module);
  }

  void write(LogLevel level, std::string_view module, std::string_view message,
             std::span<const LogField> fields) override {
    LogFormat format;
    {
      std::lock_guard lock(mu_);
      if (!filter_.allows(level, module)) return;
      format = format_;
    }
    LogRecord r;
    r.time =
        std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
    r.level = level;
    r.module = module;
    r.message = message;
    r.fields = fields;
    write_log(format_log_line(format, r));
  }

  void set_flags(std::optional<LogFilter> level, std::optional<LogFormat> format) {
    std::lock_guard lock(mu_);
    if (level) filter_ = std::move(*level), level_from_flag_ = true;
    if (format) format_ = *format, format_from_flag_ = true;
  }

  void set_config(const LogFilter& level, LogFormat format) {
    std::lock_guard lock(mu_);
    if (!level_from_flag_) filter_ = level;
    if (!format_from_flag_) format_ = format;
  }

private:
  mutable std::mutex mu_;
  LogFilter filter_;
  LogFormat format_ = LogFormat::plain;
  bool level_from_flag_ = false;
  bool format_from_flag_ = false;
};

// Never destroyed: threads may log during static destruction (as output()).
const std::shared_ptr<AppLogSink>& sink() {
  static auto* s = new std::shared_ptr<AppLogSink>(std::make_shared<AppLogSink>());
  return *s;
}

} // namespace

Logger logger(std::string_view module) { return Logger(sink(), module); }

void set_log_flags(std::optional<LogFilter> level, std::optional<LogFormat> format) {
  sink()->set_flags(std::move(level), format);
}

void apply_config_logging(const LogFilter& level, LogFormat format) {
  sink()->set_config(level, format);
}

} // namespace seedscope::app
