// Running the crawler from the CLI: options from the config and flags, the observatory
// database, the live status line (or periodic log lines) and the end-of-run summary. Used by
// `seedscope crawl`, `start` with [crawler] crawl = true, and the demo.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/base/log.hpp"
#include "crawler/app/config.hpp"
#include "crawler/engine/crawler.hpp"
#include "crawler/geo/maxmind.hpp"
#include "storage/observatory.hpp"
#include "storage/queries.hpp"

namespace seedscope::app {

// The MaxMind DB files to use: [geo] country_db and asn_db (relative to the home), then each
// --geo-db file (its kind read from the file). Empty: geo is off.
std::vector<geo::GeoLookup::Source> geo_sources(const std::filesystem::path& home,
                                                const GeoConfig& geo,
                                                const std::vector<std::string>& extra);

// Crawler options from the config ([p2p] laddr/seeds/dial_timeout, [crawler], network).
engine::CrawlerOptions crawler_options(const Config& config);

// "  simhub-1: 72 reachable of 75 nodes seen, 3 misbehaving, 328 addresses" (and
// "(known only from inbound peers)" for an unconfirmed network): the crawl summary's line.
std::string network_summary_line(const storage::NetworkCounts& counts);

// One status line: totals, what the database holds of them, then each network's
// reachable/known nodes. With `saved` (the observatory writer's stats): "saved N contacts, P
// records pending", N the contacts (outbound and inbound) this process has committed: they are
// in the database and survive a crash or SIGKILL; P what is posted but not yet committed.
std::string status_line(const engine::CrawlerStats& stats, double contacts_per_second,
                        const storage::WriterStats* saved = nullptr);

// The same as log fields: known, in_flight, due, contacts_per_second, contacts, saved_contacts
// and pending (with `saved`), then one field per network ("72/75 reachable/seen, 328 addrs").
// The keys point into `stats`.
std::vector<LogField> status_fields(const engine::CrawlerStats& stats, double contacts_per_second,
                                    const storage::WriterStats* saved = nullptr);

// Prints a live status line on a terminal (stdout), else a log record "status" every
// `interval` on `log`. The contacts per second are over the last second on a terminal, over
// the time since the previous record otherwise.
class StatusPrinter {
public:
  StatusPrinter(Millis interval, bool terminal, Logger log);
  // Called about once a second with the current stats (and the writer's, see status_line).
  void update(const engine::CrawlerStats& stats, TimePoint now,
              const storage::WriterStats* saved = nullptr);
  void finish(); // ends the live line

private:
  Millis interval_;
  bool terminal_;
  TimePoint last_log_{};
  TimePoint last_rate_{};
  std::uint64_t last_contacts_ = 0;
  std::uint64_t contacts_at_log_ = 0;
  double rate_ = 0;
  bool printed_ = false;
  Logger log_;
};

} // namespace seedscope::app
