// `seedscope export`: a network's peers from the observatory database, filtered, as a
// persistent_peers/seeds string, JSON, CSV or addrbook.json, on stdout or into a file
// (written atomically). The database is opened read-only; the crawler may be running.
#include <fmt/format.h>

#include "crawler/app/commands.hpp"
#include "crawler/app/home.hpp"
#include "crawler/app/output.hpp"
#include "storage/addrbook_json.hpp"
#include "storage/exports.hpp"

namespace seedscope::app {

int cmd_export(const std::filesystem::path& dir, const ExportArgs& args) {
  Home home = open_home(dir, /*require_config=*/false);
  if (args.db) home.config.db_file = *args.db;
  auto format = storage::export_format_from_string(args.format);
  if (!format)
    throw std::runtime_error(fmt::format(
        "--format: \"{}\" is not one of persistent_peers, seeds, json, csv, addrbook", args.format));
  if (args.filter.network.empty()) throw std::runtime_error("--network: a chain ID is required");
  auto db = storage::Database::open_read_only(home.db_file());
  const auto now =
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  storage::FilterReport report;
  auto peers = storage::query_peers(db, args.filter, now, &report);
  if (peers.empty() && !storage::has_network(db, args.filter.network))
    throw std::runtime_error(
        fmt::format("no network \"{}\" in {}", args.filter.network, home.db_file().string()));
  // An empty list says why: which filter took how many nodes away.
  if (peers.empty()) print_err("seedscope: {}\n", report.summary(args.filter.network));
  const std::string text = storage::format_peers(peers, *format);
  if (args.out.empty()) {
    if (!write_result(text)) throw std::runtime_error("cannot write the peer list to stdout");
  } else {
    auto st = storage::write_file_atomically(args.out, text);
    if (!st.ok()) throw std::runtime_error(st.error().message());
    print_err("wrote {} peers of {} to {}\n", peers.size(), args.filter.network, args.out);
  }
  return 0;
}

} // namespace seedscope::app
