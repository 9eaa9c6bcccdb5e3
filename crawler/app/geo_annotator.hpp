// Where every learnt address is, looked up off the event loop. An observe::Observer that
// collects the IP of every address the crawler files (AddressUpdate) or restored; each tick()
// hands a batch to libuv's thread pool (runtime::queue_work), where geo::GeoLookup reads the
// MaxMind DB files. The answers come back on the loop and go to `sink` (the observatory
// writer, as observe::GeoUpdate) and to `on_result` (the crawler's seed answers). Every
// check_interval the files are checked; a database opened, replaced or dropped means every
// known IP is looked up again. A file that is missing, damaged or of the wrong kind is
// logged (once per change of the file) and the crawl goes on without it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/base/log.hpp"
#include "core/observe/observations.hpp"
#include "crawler/geo/maxmind.hpp"
#include "crawler/runtime/loop.hpp"

namespace seedscope::app {

struct GeoAnnotatorOptions {
  std::vector<geo::GeoLookup::Source> sources;
  std::filesystem::path scratch_dir; // private copies of the files (MaxMindDb::open)
  Millis check_interval{60'000};
  std::size_t batch = 20'000; // lookups per work item
  Logger log;                 // module geo, on the loop's thread; default: silent
  std::function<void(const IpAddress&, const geo::GeoInfo&)> on_result;
  observe::Observer* sink = nullptr;
};

struct GeoAnnotatorStats {
  std::uint64_t looked_up = 0; // lookups answered
  std::uint64_t located = 0;   // of them, with a country or an ASN
  std::uint64_t errors = 0;    // files that could not be used, damaged lookups
  std::uint64_t reloads = 0;   // times a database was opened, replaced or dropped
  std::size_t known = 0;       // distinct IPs
  std::size_t pending = 0;     // waiting for a lookup
  std::size_t databases = 0;   // open now
};

class GeoAnnotator final : public observe::Observer {
public:
  GeoAnnotator(runtime::Loop& loop, GeoAnnotatorOptions options);
  ~GeoAnnotator() override;
  GeoAnnotator(const GeoAnnotator&) = delete;
  GeoAnnotator& operator=(const GeoAnnotator&) = delete;

  // On the loop's thread: queues the IP of every AddressUpdate not known yet.
  void observe(const observe::Observation& o) override;
  void add(const IpAddress& ip);
  // On the loop's thread, about once a second: starts a work item (file check and lookups)
  // unless one is running or there is nothing to do. `now` decides when files are checked.
  void tick(TimePoint now);
  // Shutdown: one last work item looks up everything still pending (when one is running,
  // right after it); none starts after that.
  void stop();
  bool busy() const;
  GeoAnnotatorStats stats() const;

private:
  struct Job;
  struct Core;
  static void start_job(const std::shared_ptr<Core>& core, TimePoint now, bool last);
  std::shared_ptr<Core> core_;
};

} // namespace seedscope::app
