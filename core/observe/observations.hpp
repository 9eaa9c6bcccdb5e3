// What a crawl observes, as typed events: the one seam between the crawler, which emits them,
// and what records them (storage's writer thread, the metrics; tests record them too). Plain
// data, free of I/O; emitted on the crawler's thread.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "core/base/clock.hpp"
#include "core/crawl/availability.hpp"
#include "core/crawl/outcome.hpp"
#include "core/crawl/schedule.hpp"
#include "core/geo/geo.hpp"
#include "core/p2p/disconnect.hpp"
#include "core/types/node_info.hpp"

namespace seedscope::observe {

// A node's NodeInfo reached us (a completed handshake, or one refused for its network or
// version). `outbound`: we dialed it, which confirms that its network exists (an inbound peer
// can claim any chain ID).
struct NodeSeen {
  NodeInfo info;
  WallTime at{};
  bool outbound = true;
};

// An address's schedule after a change (learnt, contacted).
struct AddressUpdate {
  crawl::ScheduledAddress address;
  WallTime seen{};
};

// `source_id` (of `network`) advertised `target` in a PexAddrs.
struct Advertised {
  std::string network;
  std::string source_id;
  NetAddress target;
  WallTime at{};
};

// One contact: a dial we made or an inbound connection, whatever its end.
struct ContactRecord {
  WallTime at{};
  bool inbound = false;
  NetAddress addr; // id may be empty (an inbound connection that failed early)
  std::string network;
  crawl::Outcome outcome = crawl::Outcome::kRejected;
  Failure failure{}; // the exact failure; ignored when the outcome is ok
  std::string detail;
  double connect_ms = 0; // outbound: TCP connect time
  double handshake_ms = 0;
  std::int64_t addrs_received = 0;
};

struct AvailabilityUpdate {
  std::string network;
  std::string id;
  crawl::Availability availability;
};

// Where an IP address is, as the configured MaxMind DB files say (looked up off the loop
// when the address is learnt and again when a database file changes).
struct GeoUpdate {
  IpAddress ip;
  geo::GeoInfo info;
  WallTime at{};
};

using Observation =
    std::variant<NodeSeen, AddressUpdate, Advertised, ContactRecord, AvailabilityUpdate, GeoUpdate>;

// Implemented by storage (the writer), metrics, and test recorders. Called on the crawler's
// thread; an implementation must not block it.
class Observer {
public:
  virtual ~Observer() = default;
  virtual void observe(const Observation& o) = 0;
};

// Hands every observation to each of several observers, in order. Not owning.
class FanOut final : public Observer {
public:
  void add(Observer* o) {
    if (o != nullptr) observers_.push_back(o);
  }
  void observe(const Observation& o) override {
    for (Observer* x : observers_) x->observe(o);
  }

private:
  std::vector<Observer*> observers_;
};

} // namespace seedscope::observe
