#include "crawler/app/crawl_run.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "crawler/app/home.hpp"
#include "crawler/app/report.hpp"

namespace seedscope::app {

std::vector<geo::GeoLookup::Source> geo_sources(const std::filesystem::path& home,
                                                const GeoConfig& geo,
                                                const std::vector<std::string>& extra) {
  std::vector<geo::GeoLookup::Source> out;
  if (!geo.country_db.empty())
    out.push_back({resolve_in_home(home, geo.country_db), geo::DbKind::kCountry});
  if (!geo.asn_db.empty()) out.push_back({resolve_in_home(home, geo.asn_db), geo::DbKind::kAsn});
  for (const auto& f : extra) out.push_back({std::filesystem::absolute(f), std::nullopt});
  return out;
}

engine::CrawlerOptions crawler_options(const Config& config) {
  engine::CrawlerOptions o;
  o.our_info = our_node_info(config);
  o.our_info.moniker = crawler_moniker(config);
  if (!config.network.empty()) o.network = config.network;
  o.laddr = config.p2p.laddr;
  const auto& k = config.crawler;
  o.max_concurrent_dials = static_cast<std::size_t>(k.max_concurrent_dials);
  o.max_inbound = static_cast<std::size_t>(k.max_inbound);
  o.max_unconfirmed_networks = static_cast<std::size_t>(k.max_unconfirmed_networks);
  o.dial_timeout = config.p2p.dial_timeout;
  o.handshake_timeout = k.handshake_timeout;
  o.handshake_pool = handshake_pool(config.p2p);
  o.contact.pex_timeout = k.pex_timeout;
  o.schedule.recrawl_interval = k.recrawl_interval;
  o.schedule.retry_base = k.retry_base;
  o.schedule.retry_cap = k.retry_cap;
  o.schedule.retire_after = k.retire_after;
  o.seed_fresh = std::max(Millis(std::chrono::hours(1)), 3 * k.recrawl_interval);
  o.mconn.flush_throttle = config.p2p.flush_throttle_timeout;
  o.max_contacts_per_subnet_per_second =
      static_cast<std::uint32_t>(k.max_contacts_per_subnet_per_second);
  return o;
}

std::string network_summary_line(const storage::NetworkCounts& n) {
  return fmt::format("  {}: {} reachable of {} nodes seen, {} misbehaving, {} addresses{}",
                     n.network, n.reachable, n.nodes, n.misbehaving, n.addresses,
                     n.confirmed ? "" : " (known only from inbound peers)");
}

std::string status_line(const engine::CrawlerStats& s, double rate,
                        const storage::WriterStats* saved) {
  std::string line =
      fmt::format("known {} | in flight {} | due {} | {:.1f} contacts/s | {} contacts", s.known,
                  s.in_flight, s.due, rate, s.contacts);
  if (saved)
    line += fmt::format(" | saved {} contacts, {} records pending", saved->contacts_written,
                        saved->pending);
  for (const auto& [net, n] : s.networks) {
    line += fmt::format(" | {}: {} reachable of {} seen, {} addrs", net, n.reachable, n.nodes_seen,
                        n.addresses);
  }
  return line;
}

std::vector<LogField> status_fields(const engine::CrawlerStats& s, double rate,
                                    const storage::WriterStats* saved) {
  std::vector<LogField> f;
  f.emplace_back("known", s.known);
  f.emplace_back("in_flight", s.in_flight);
  f.emplace_back("due", s.due);
  f.emplace_back("contacts_per_second", fmt::format("{:.1f}", rate));
  f.emplace_back("contacts", s.contacts);
  if (saved) {
    f.emplace_back("saved_contacts", saved->contacts_written);
    f.emplace_back("pending", saved->pending);
  }
  for (const auto& [net, n] : s.networks)
    f.emplace_back(
        net, fmt::format("{}/{} reachable/seen, {} addrs", n.reachable, n.nodes_seen, n.addresses));
  return f;
}

StatusPrinter::StatusPrinter(Millis interval, bool terminal, Logger log)
    : interval_(interval),
      terminal_(terminal),
      log_(std::move(log)) {}

void StatusPrinter::update(const engine::CrawlerStats& stats, TimePoint now,
                           const storage::WriterStats* saved) {
  if (last_rate_ != TimePoint{} && now > last_rate_) {
    const double secs = std::chrono::duration<double>(now - last_rate_).count();
    rate_ = static_cast<double>(stats.contacts - last_contacts_) / secs;
  }
  last_rate_ = now;
  last_contacts_ = stats.contacts;
  if (terminal_) {
    std::string line = status_line(stats, rate_, saved);
    print_out("\r\033[K{}", line);
    printed_ = true;
    return;
  }
  if (last_log_ == TimePoint{} || now - last_log_ >= interval_) {
    // A log line's rate is over the time since the previous line, not the last second.
    double rate = rate_;
    if (last_log_ != TimePoint{} && now > last_log_)
      rate = static_cast<double>(stats.contacts - contacts_at_log_) /
             std::chrono::duration<double>(now - last_log_).count();
    last_log_ = now;
    contacts_at_log_ = stats.contacts;
    if (log_.enabled(LogLevel::info))
      log_.log(LogLevel::info, "status", status_fields(stats, rate, saved));
  }
}

void StatusPrinter::finish() {
  if (terminal_ && printed_) {
    print_out("\n");
  }
  printed_ = false;
}

} // namespace seedscope::app
