#include "crawler/app/app_log.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/output.hpp"
#include "crawler/runtime/shutdown.hpp"

int main(int argc, char** argv) {
  using namespace seedscope;
  // Before any thread starts: signals go to the shutdown thread, SIGPIPE is ignored.
  runtime::ShutdownOptions shutdown;
  // A forced exit (a second signal, the grace period over) is not held up long by output
  // that cannot be written (a full pipe): a healthy stderr takes the line at once.
  shutdown.last_words = [](const std::string& why) {
    app::logger("main").error(why);
    app::flush_output(Millis(250));
  };
  // SIGHUP (logrotate's postrotate): the log file is opened anew; the process goes on.
  shutdown.on_hangup = [] {
    if (!app::has_log_file()) {
      app::logger("main").info("received SIGHUP; no --log-file to reopen, ignored");
      return;
    }
    app::reopen_log_file();
    app::logger("main").info("received SIGHUP; reopened the log file");
  };
  runtime::install_shutdown_signals(std::move(shutdown));
  const int code = app::run_cli(argc, argv);
  app::flush_output(Millis(2000));
  return code;
}
