#include "metrics/node_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <stdexcept>

#include <fmt/format.h>

namespace seedscope::metrics {

NodeMetrics::NodeMetrics(std::shared_ptr<prometheus::Registry> registry, const std::string& ns)
    : registry_(std::move(registry)) {
  auto& book = prometheus::BuildGauge()
                   .Name(ns + "_addrbook_addresses")
                   .Help("Addresses in the address book, by bucket kind")
                   .Register(*registry_);
  book_new_ = &book.Add({{"bucket", "new"}});
  book_old_ = &book.Add({{"bucket", "old"}});
  auto& peers = prometheus::BuildGauge()
                    .Name(ns + "_peers")
                    .Help("Connected peers, by direction")
                    .Register(*registry_);
  peers_in_ = &peers.Add({{"direction", "inbound"}});
  peers_out_ = &peers.Add({{"direction", "outbound"}});
  dialing_ = &prometheus::BuildGauge()
                  .Name(ns + "_dials_in_flight")
                  .Help("Outbound dials not finished yet")
                  .Register(*registry_)
                  .Add({});
  added_ = &prometheus::BuildCounter()
                .Name(ns + "_peers_added_total")
                .Help("Peers that completed the handshake and were added")
                .Register(*registry_)
                .Add({});
  removed_ = &prometheus::BuildCounter()
                  .Name(ns + "_peers_removed_total")
                  .Help("Peers removed for any reason")
                  .Register(*registry_)
                  .Add({});
  auto counter = [&](const std::string& name, const std::string& help) {
    return FollowedCounter{
        &prometheus::BuildCounter().Name(ns + name).Help(help).Register(*registry_).Add({})};
  };
  requests_received_ = counter("_pex_requests_received_total", "PexRequests received from peers");
  answers_sent_ = counter("_pex_answers_sent_total", "PexAddrs answers sent");
  seed_answers_ = counter("_pex_seed_answers_total",
                          "Seed mode: answers to an inbound peer's one request (then hang up)");
  addresses_sent_ = counter("_pex_addresses_sent_total", "Addresses sent in PexAddrs answers");
  requests_sent_ = counter("_pex_requests_sent_total", "PexRequests sent to peers");
  addrs_received_ = counter("_pex_answers_received_total", "PexAddrs received in answer to ours");
  addresses_received_ =
      counter("_pex_addresses_received_total", "Addresses received in PexAddrs answers");
  punished_ =
      counter("_pex_peers_punished_total", "Peers stopped and banned for breaking the PEX rules");
  idle_hung_up_ = counter("_pex_idle_hung_up_total",
                          "Seed mode: inbound peers hung up for sending no PexRequest in time");
  answers_refused_ = counter("_pex_answers_refused_total",
                             "Seed mode: requests hung up unanswered (one IP's per-minute limit)");
  addresses_ignored_ = counter("_pex_addresses_ignored_total",
                               "Addresses beyond the first 250 of a PexAddrs, not taken");
  handshakes_evicted_ = counter("_p2p_handshakes_evicted_total",
                                "Inbound handshakes closed to make room in the pending pool");
  banned_refused_ =
      counter("_p2p_banned_refused_total", "Inbound connections refused: banned IP or ID");
  excluded_refused_ =
      counter("_p2p_excluded_refused_total", "Connections refused: IP or ID on the exclude list");
  inbound_evicted_ = counter("_p2p_inbound_evicted_total",
                             "Seed mode: inbound peers that asked nothing, dropped for a newcomer");
  log_suppressed_ =
      counter("_log_lines_suppressed_total", "Log lines suppressed by the per-second limits");
}

NodeMetrics::~NodeMetrics() = default;

void NodeMetrics::update(const NodeSample& s) {
  book_new_->Set(double(s.book_new));
  book_old_->Set(double(s.book_old));
  peers_in_->Set(double(s.peers_inbound));
  peers_out_->Set(double(s.peers_outbound));
  dialing_->Set(double(s.dialing));
  requests_received_.to(s.pex_requests_received);
  answers_sent_.to(s.pex_answers_sent);
  seed_answers_.to(s.pex_seed_answers);
  addresses_sent_.to(s.pex_addresses_sent);
  requests_sent_.to(s.pex_requests_sent);
  addrs_received_.to(s.pex_addrs_received);
  addresses_received_.to(s.pex_addresses_received);
  punished_.to(s.pex_peers_punished);
  idle_hung_up_.to(s.pex_idle_hung_up);
  answers_refused_.to(s.pex_answers_refused);
  addresses_ignored_.to(s.pex_addresses_ignored);
  handshakes_evicted_.to(s.handshakes_evicted);
  banned_refused_.to(s.banned_refused);
  excluded_refused_.to(s.excluded_refused);
  inbound_evicted_.to(s.inbound_evicted);
  log_suppressed_.to(s.log_lines_suppressed);
}

void NodeMetrics::peer_added() { added_->Increment(); }
void NodeMetrics::peer_removed() { removed_->Increment(); }

} // namespace seedscope::metrics
