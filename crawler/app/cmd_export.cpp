// `seedscope export`: a network's peers from the observatory database, filtered, as a
// persistent_peers/seeds string, JSON, CSV or addrbook.json, on stdout or into a file
// (written atomically). The database is opened read-only; the crawler may be running.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "crawler/app/cli_options.hpp"
#include "crawler/app/commands.hpp"
#include "crawler/app/exclude_file.hpp"
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
    throw UsageError(
        fmt::format("--format: \"{}\" is not one of persistent_peers, seeds, json, csv, addrbook",
                    args.format));
  if (args.filter.network.empty()) throw UsageError("--network: a chain ID is required");
  // Nodes on the exclude list are never exported, in any format.
  const ExcludeFile exclude(exclude_file_path(home.dir, home.config.crawler.exclude_file));
  storage::ExportFilter filter = args.filter;
  filter.exclude = &exclude.list();
  auto db = storage::Database::open_read_only(home.db_file());
  const auto now =
      std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  storage::FilterReport report;
  auto peers = storage::query_peers(db, filter, now, &report);
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

Command add_export_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "export",
      "print a network's peers from the database: persistent_peers, seeds, json, csv, addrbook");
  struct Raw {
    ExportArgs args;
    std::string db, seen_within, limit, min_score, max_per_asn, max_per_country;
    bool ipv4 = false, ipv6 = false;
  };
  auto raw = std::make_shared<Raw>();
  ExportArgs& a = raw->args;
  sub->add_option("--network", a.filter.network, "chain ID")->required();
  sub->add_option("--format", a.format, "persistent_peers, seeds, json, csv or addrbook")
      ->capture_default_str();
  sub->add_option("--min-score", raw->min_score, "minimum reliability score (0..1)");
  sub->add_option("--seen-within", raw->seen_within,
                  "last success at most this long ago, e.g. 24h");
  sub->add_flag("--reachable-only", a.filter.reachable_only,
                "only nodes verified at their last contact");
  sub->add_option("--limit", raw->limit, "at most this many nodes (1 or more; default: all)");
  sub->add_flag("--one-per-group", a.filter.one_per_group, "at most one node per /16 (IPv6: /32)");
  sub->add_option("--max-per-asn", raw->max_per_asn,
                  "at most this many nodes per autonomous system (needs geo databases)");
  sub->add_option("--max-per-country", raw->max_per_country,
                  "at most this many nodes per country (needs geo databases)");
  sub->add_flag("--ipv4", raw->ipv4, "IPv4 addresses only");
  sub->add_flag("--ipv6", raw->ipv6, "IPv6 addresses only");
  add_db_option(sub, raw->db);
  sub->add_option("--out", a.out, "write to this file (atomically) instead of stdout");
  return {sub, [raw, sub](const std::filesystem::path& home) {
            ExportArgs args = raw->args;
            if (raw->ipv4 && raw->ipv6) throw UsageError("--ipv4 and --ipv6 exclude each other");
            if (sub->count("--min-score") != 0)
              args.filter.min_score = number_option(raw->min_score, "--min-score", 0, 1);
            args.filter.family = raw->ipv4   ? storage::AddressFamily::kIPv4
                                 : raw->ipv6 ? storage::AddressFamily::kIPv6
                                             : storage::AddressFamily::kAny;
            if (auto d = duration_option(raw->seen_within, "--seen-within"))
              args.filter.seen_within = std::chrono::duration_cast<std::chrono::seconds>(*d);
            args.db = db_option(raw->db);
            if (sub->count("--limit") != 0)
              args.filter.limit =
                  static_cast<std::size_t>(integer_option(raw->limit, "--limit", 1, 1'000'000'000));
            if (sub->count("--max-per-asn") != 0)
              args.filter.max_per_asn = static_cast<std::size_t>(
                  integer_option(raw->max_per_asn, "--max-per-asn", 1, 1'000'000'000));
            if (sub->count("--max-per-country") != 0)
              args.filter.max_per_country = static_cast<std::size_t>(
                  integer_option(raw->max_per_country, "--max-per-country", 1, 1'000'000'000));
            return cmd_export(home, args);
          }};
}

} // namespace seedscope::app
