#include "crawler/app/commands.hpp"
#include "crawler/app/output.hpp"
#include "crawler/runtime/shutdown.hpp"

int main(int argc, char** argv) {
  using namespace seedscope;
  // Before any thread starts: signals go to the shutdown thread, SIGPIPE is ignored.
  runtime::ShutdownOptions shutdown;
  shutdown.last_words = [](const std::string& why) {
    app::log_line(why);
    app::flush_output(Millis(1000));
  };
  runtime::install_shutdown_signals(std::move(shutdown));
  const int code = app::run_cli(argc, argv);
  app::flush_output(Millis(2000));
  return code;
}
