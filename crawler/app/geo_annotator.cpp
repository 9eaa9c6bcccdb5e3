#include "crawler/app/geo_annotator.hpp"

#include <chrono>
#include <deque>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crawler/runtime/async.hpp"

namespace seedscope::app {

namespace {
constexpr std::size_t kErrorLinesPerBatch = 3;
} // namespace

// What a work item reads and fills. The lookup lives here so that only one thread at a time
// touches it: a job is handed to the pool only while no other runs.
struct GeoAnnotator::Job {
  explicit Job(std::vector<geo::GeoLookup::Source> sources, std::filesystem::path scratch)
      : lookup(std::move(sources), std::move(scratch)) {}
  geo::GeoLookup lookup;
  // In: set on the loop before the job is queued.
  bool check_files = false;
  std::vector<IpAddress> ips;
  // Out: read on the loop when the job is done.
  bool reloaded = false;
  std::vector<std::pair<IpAddress, geo::GeoInfo>> results;
  std::vector<std::string> errors;
  std::vector<std::string> databases;
};

struct GeoAnnotator::Core {
  runtime::Loop& loop;
  GeoAnnotatorOptions options;
  std::shared_ptr<Job> job;
  bool busy = false;
  bool stopped = false;
  bool last_done = false; // the batch at shutdown has started
  bool checked_once = false;
  TimePoint next_check{};
  std::set<IpAddress> known;
  std::deque<IpAddress> pending;
  std::vector<std::string> databases;
  GeoAnnotatorStats stats;

  Core(runtime::Loop& l, GeoAnnotatorOptions o)
      : loop(l),
        options(std::move(o)),
        job(std::make_shared<Job>(options.sources, options.scratch_dir)) {}

  const Logger& log() const { return options.log; }
};

GeoAnnotator::GeoAnnotator(runtime::Loop& loop, GeoAnnotatorOptions options)
    : core_(std::make_shared<Core>(loop, std::move(options))) {}

GeoAnnotator::~GeoAnnotator() = default;

void GeoAnnotator::observe(const observe::Observation& o) {
  if (const auto* a = std::get_if<observe::AddressUpdate>(&o)) add(a->address.addr.ip);
}

void GeoAnnotator::add(const IpAddress& ip) {
  if (core_->known.insert(ip).second) core_->pending.push_back(ip);
}

bool GeoAnnotator::busy() const { return core_->busy; }

GeoAnnotatorStats GeoAnnotator::stats() const {
  GeoAnnotatorStats s = core_->stats;
  s.known = core_->known.size();
  s.pending = core_->pending.size();
  s.databases = core_->databases.size();
  return s;
}

void GeoAnnotator::tick(TimePoint now) { start_job(core_, now, false); }

void GeoAnnotator::stop() {
  core_->stopped = true;
  start_job(core_, core_->loop.now(), true);
}

void GeoAnnotator::start_job(const std::shared_ptr<Core>& core, TimePoint now, bool last) {
  Core& c = *core;
  if (c.busy) return;
  if (c.stopped) {
    // At shutdown, one last batch: what was learnt since the last tick is located too.
    if (!last || c.last_done || c.pending.empty() || c.databases.empty()) return;
    c.last_done = true;
  }
  const bool check = !c.checked_once || now >= c.next_check;
  // Without an open database there is nothing to look up until a file check opens one.
  if (!check && (c.pending.empty() || c.databases.empty())) return;
  if (check) {
    c.checked_once = true;
    c.next_check = now + c.options.check_interval;
  }
  Job& job = *c.job;
  job.check_files = check;
  job.ips.clear();
  // (Here a database is open, or a file check may open one.)
  while (!c.pending.empty() && (last || job.ips.size() < c.options.batch)) {
    job.ips.push_back(c.pending.front());
    c.pending.pop_front();
  }
  c.busy = true;
  std::weak_ptr<Core> weak = core;
  std::shared_ptr<Job> shared = c.job;
  const int rc = runtime::queue_work(
      c.loop,
      [shared] {
        Job& j = *shared;
        j.reloaded = false;
        j.results.clear();
        j.errors.clear();
        if (j.check_files) {
          j.reloaded = j.lookup.refresh(j.errors);
          j.databases = j.lookup.describe();
        }
        if (!j.lookup.any_open()) return; // the IPs go back to the queue
        j.results.reserve(j.ips.size());
        for (const auto& ip : j.ips) j.results.emplace_back(ip, j.lookup.lookup(ip, j.errors));
      },
      [weak, shared](std::exception_ptr error) {
        auto alive = weak.lock();
        if (!alive) return; // the annotator is gone
        Core& c = *alive;
        Job& j = *shared;
        c.busy = false;
        if (error) {
          ++c.stats.errors;
          c.log().error("a lookup batch failed; it is tried again");
        }
        if (j.check_files) c.databases = j.databases;
        if (j.reloaded) {
          ++c.stats.reloads;
          if (c.databases.empty())
            c.log().info("no database open; countries and ASNs are not recorded until one is");
          else
            c.log().info("using databases",
                         {{"databases", fmt::format("{}", fmt::join(c.databases, "; "))}});
        }
        c.stats.errors += j.errors.size();
        for (std::size_t i = 0; i < j.errors.size() && i < kErrorLinesPerBatch; ++i)
          c.log().error("geo error", {{"err", j.errors[i]}});
        if (j.errors.size() > kErrorLinesPerBatch)
          c.log().error("more geo errors in this batch",
                        {{"count", j.errors.size() - kErrorLinesPerBatch}});
        const WallTime now =
            std::chrono::time_point_cast<WallTime::duration>(std::chrono::system_clock::now());
        if (j.results.size() != j.ips.size() || error) {
          // Not looked up (no database open, or the work failed): back to the queue.
          for (const auto& ip : j.ips) c.pending.push_back(ip);
        }
        for (const auto& [ip, info] : j.results) {
          ++c.stats.looked_up;
          if (!info.country.empty() || info.asn != 0) ++c.stats.located;
          if (c.options.sink) c.options.sink->observe(observe::GeoUpdate{ip, info, now});
          if (c.options.on_result) c.options.on_result(ip, info);
        }
        if (j.reloaded) {
          // Every other IP again, against what is open now (this batch already was).
          std::set<IpAddress> fresh;
          for (const auto& r : j.results) fresh.insert(r.first);
          c.pending.clear();
          for (const auto& ip : c.known)
            if (fresh.count(ip) == 0) c.pending.push_back(ip);
        }
        // A backlog (a restored book, a reload) goes on at once, not a tick later; a stop
        // that came while this ran gets its last batch now.
        if (!c.pending.empty() && !c.databases.empty()) start_job(alive, c.loop.now(), c.stopped);
      });
  if (rc != 0) {
    c.busy = false;
    for (const auto& ip : job.ips) c.pending.push_front(ip);
    c.log().error("cannot queue lookups; trying again", {{"uv_error", rc}});
  }
}

} // namespace seedscope::app
