#include "metrics/crawler_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace seedscope::metrics {

namespace {
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20};
}

CrawlerMetrics::CrawlerMetrics(std::shared_ptr<prometheus::Registry> registry,
                               const std::string& ns, std::size_t max_networks)
    : max_networks_(max_networks),
      registry_(std::move(registry)) {
  contacts_ = &prometheus::BuildCounter()
                   .Name(ns + "_crawler_contacts_total")
                   .Help("Finished contacts, by direction and outcome class")
                   .Register(*registry_);
  failures_ = &prometheus::BuildCounter()
                   .Name(ns + "_crawler_failures_total")
                   .Help("Contacts that did not end well, by direction and the failure's stage "
                         "and reason (the names `probe` prints)")
                   .Register(*registry_);
  connect_latency_ = &prometheus::BuildHistogram()
                          .Name(ns + "_crawler_connect_latency_seconds")
                          .Help("TCP connect time of outbound contacts that connected")
                          .Register(*registry_)
                          .Add({}, kLatencyBuckets);
  handshake_latency_ =
      &prometheus::BuildHistogram()
           .Name(ns + "_crawler_handshake_latency_seconds")
           .Help("SecretConnection + NodeInfo handshake time of contacts that completed it")
           .Register(*registry_)
           .Add({}, kLatencyBuckets);
  in_flight_ = &prometheus::BuildGauge()
                    .Name(ns + "_crawler_dials_in_flight")
                    .Help("Outbound contacts in progress")
                    .Register(*registry_)
                    .Add({});
  queue_ = &prometheus::BuildGauge()
                .Name(ns + "_crawler_queue_depth")
                .Help("Addresses due for a contact and waiting for a free slot")
                .Register(*registry_)
                .Add({});
  known_ = &prometheus::BuildGauge()
                .Name(ns + "_crawler_addresses_known")
                .Help("Addresses the crawler knows")
                .Register(*registry_)
                .Add({});
  by_state_ = &prometheus::BuildGauge()
                   .Name(ns + "_crawler_addresses")
                   .Help("Known addresses by schedule state")
                   .Register(*registry_);
  seed_requests_ =
      &prometheus::BuildCounter()
           .Name(ns + "_seed_requests_total")
           .Help("PexRequests answered by the seed service, by the requester's network")
           .Register(*registry_);
  seed_addresses_ =
      &prometheus::BuildCounter()
           .Name(ns + "_seed_addresses_served_total")
           .Help("Addresses handed out by the seed service, by the requester's network")
           .Register(*registry_);
  seed_connections_ = &prometheus::BuildCounter()
                           .Name(ns + "_seed_connections_total")
                           .Help("Inbound connections by the peer's network (none when it failed "
                                 "before NodeInfo) and outcome class")
                           .Register(*registry_);
  rows_written_.counter = &prometheus::BuildCounter()
                               .Name(ns + "_storage_rows_written_total")
                               .Help("Database rows inserted, updated or deleted")
                               .Register(*registry_)
                               .Add({});
  auto& excluded = prometheus::BuildCounter()
                       .Name(ns + "_crawler_excluded_total")
                       .Help("The exclude list at work: inbound connections refused, due "
                             "contacts not started, learnt addresses not kept")
                       .Register(*registry_);
  excluded_refused_.counter = &excluded.Add({{"what", "refused"}});
  excluded_not_dialed_.counter = &excluded.Add({{"what", "not_dialed"}});
  excluded_not_learnt_.counter = &excluded.Add({{"what", "not_learnt"}});
  subnet_deferred_.counter =
      &prometheus::BuildCounter()
           .Name(ns + "_crawler_subnet_deferred_total")
           .Help("Contacts rescheduled by max_contacts_per_subnet_per_second (a /24's cap)")
           .Register(*registry_)
           .Add({});
  pending_records_ = &prometheus::BuildGauge()
                          .Name(ns + "_storage_pending_records")
                          .Help("Records waiting for the database writer")
                          .Register(*registry_)
                          .Add({});
  batch_seconds_ = &prometheus::BuildGauge()
                        .Name(ns + "_storage_last_batch_seconds")
                        .Help("Duration of the last write transaction")
                        .Register(*registry_)
                        .Add({});
  batch_latency_ = &prometheus::BuildHistogram()
                        .Name(ns + "_storage_batch_latency_seconds")
                        .Help("Duration of each database write transaction")
                        .Register(*registry_)
                        .Add({}, kLatencyBuckets);
}

CrawlerMetrics::~CrawlerMetrics() = default;

void CrawlerMetrics::observe(const observe::Observation& o) {
  if (const auto* c = std::get_if<observe::ContactRecord>(&o)) on_contact(*c);
}

void CrawlerMetrics::on_contact(const observe::ContactRecord& c) {
  const crawl::Outcome outcome = c.outcome;
  if (!crawl::good(outcome))
    failures_
        ->Add({{"direction", c.inbound ? "inbound" : "outbound"},
               {"stage", std::string(to_string(c.failure.stage))},
               {"reason", std::string(to_string(c.failure.reason))}})
        .Increment();
  contacts_
      ->Add({{"direction", c.inbound ? "inbound" : "outbound"},
             {"outcome", std::string(crawl::to_string(outcome))}})
      .Increment();
  if (c.inbound) {
    prometheus::Labels labels{{"outcome", std::string(crawl::to_string(outcome))}};
    if (!c.network.empty()) labels["network"] = network_label(c.network);
    seed_connections_->Add(labels).Increment();
  }
  if (c.connect_ms > 0) connect_latency_->Observe(c.connect_ms / 1000.0);
  if (crawl::handshaken(outcome) && c.handshake_ms > 0)
    handshake_latency_->Observe(c.handshake_ms / 1000.0);
}

std::string CrawlerMetrics::network_label(const std::string& network) {
  if (labelled_networks_.count(network) != 0) return network;
  if (labelled_networks_.size() >= max_networks_) return "other";
  labelled_networks_.insert(network);
  return network;
}

void CrawlerMetrics::observe_batch(double seconds) { batch_latency_->Observe(seconds); }

void CrawlerMetrics::update(const observe::CrawlStatus& s, const storage::WriterStats& w) {
  in_flight_->Set(double(s.in_flight));
  queue_->Set(double(s.due));
  known_->Set(double(s.known));
  for (const auto& [state, n] : s.by_state) by_state_->Add({{"state", state}}).Set(double(n));
  // Per-network node counts come from the database (ObservatoryMetrics), as stats and the
  // API have them. The largest networks only: chain IDs come from peers, so their number is
  // not ours to bound.
  std::vector<std::pair<std::size_t, std::string>> by_size;
  for (const auto& [net, n] : s.networks) by_size.emplace_back(n.addresses, net);
  std::sort(by_size.rbegin(), by_size.rend());
  if (by_size.size() > max_networks_) by_size.resize(max_networks_);
  // Every network crawled gets its seed counters (at 0 until a node of it asks), so the
  // dashboards show a line for it.
  for (const auto& [size, net] : by_size) network_label(net);
  for (const auto& [net, n] : s.networks) {
    auto [it, first] = seed_counters_.try_emplace(net);
    if (first) { // a network keeps the label it got first
      const prometheus::Labels label{{"network", network_label(net)}};
      it->second.requests.counter = &seed_requests_->Add(label);
      it->second.addresses.counter = &seed_addresses_->Add(label);
    }
    it->second.requests.to(n.seed_requests);
    it->second.addresses.to(n.seed_addresses);
  }
  rows_written_.to(w.rows_written);
  excluded_refused_.to(s.excluded_refused);
  excluded_not_dialed_.to(s.excluded_not_dialed);
  excluded_not_learnt_.to(s.excluded_not_learnt);
  subnet_deferred_.to(s.subnet_deferred);
  pending_records_->Set(double(w.pending));
  batch_seconds_->Set(w.last_batch_ms / 1000.0);
}

} // namespace seedscope::metrics
