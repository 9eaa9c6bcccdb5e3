// The observatory: what the crawler learns, kept in SQLite (schema version 2, documented in
// storage/SCHEMA.md). The crawler posts records from its event loop; a writer thread with its
// own connection writes them in batches, one transaction per batch, so the loop never waits
// on the disk. A batch that fails (disk full, database locked) is kept and retried; records
// are dropped only past `max_pending`, and counted. On start the crawler reads its state back
// (addresses with their schedule, availability) with load_observatory().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/base/log.hpp"
#include "core/crawl/availability.hpp"
#include "core/crawl/schedule.hpp"
#include "core/observe/observations.hpp"
#include "core/types/node_info.hpp"

namespace seedscope::storage {

class Database;

struct ObservatoryState {
  std::vector<crawl::ScheduledAddress> addresses;
  struct Network {
    std::string network;
    bool confirmed = false; // an outbound contact reached one of its nodes
  };
  std::vector<Network> networks;
  struct Node {
    std::string network;
    std::string id;
  };
  std::vector<Node> nodes; // every node whose NodeInfo reached us, by network
  struct NodeAvailability {
    std::string network;
    std::string id;
    crawl::Availability availability;
  };
  std::vector<NodeAvailability> availability;
};

// Opens (creating and migrating) the database and reads the crawl state. Throws StorageError
// for a file that is not ours, newer or damaged; nothing is written to such a file.
ObservatoryState load_observatory(const std::filesystem::path& file);

struct WriterOptions {
  std::chrono::milliseconds batch_interval{250};
  std::size_t batch_max = 20'000;      // records per transaction
  std::size_t max_pending = 2'000'000; // past this, new records are dropped (and counted)
  std::chrono::seconds contact_retention{std::chrono::hours(24 * 30)};
  std::chrono::seconds prune_interval{std::chrono::hours(1)};
  Logger log; // errors (module storage), from the writer thread; default: silent
  // After each committed batch (metrics), on the writer thread.
  std::function<void(double seconds, std::uint64_t rows)> on_batch;
};

// What the writer has committed: everything counted here is in the database and survives a
// crash or SIGKILL of the process (each batch is one transaction, WAL mode).
struct WriterStats {
  std::uint64_t records_written = 0;
  // ContactRecords (outbound and inbound) committed: contacts rows, except that unauthenticated
  // inbound ones share one row per minute and failure.
  std::uint64_t contacts_written = 0;
  std::uint64_t rows_written = 0; // rows inserted, updated or deleted
  std::uint64_t batches = 0;
  std::uint64_t failed_batches = 0;
  std::uint64_t dropped = 0;
  std::uint64_t contacts_pruned = 0;
  double last_batch_ms = 0;
  double total_batch_ms = 0;
  std::size_t pending = 0;
};

class ObservatoryWriter final : public observe::Observer {
public:
  // Opens its own connection to `file` (which load_observatory() has created) on the writer
  // thread. Throws StorageError when it cannot be opened.
  ObservatoryWriter(std::filesystem::path file, WriterOptions options = {});
  ~ObservatoryWriter() override; // writes what is pending (best effort), then joins
  ObservatoryWriter(const ObservatoryWriter&) = delete;
  ObservatoryWriter& operator=(const ObservatoryWriter&) = delete;

  // Thread-safe, never blocks on the disk.
  void post(observe::Observation record);
  // observe::Observer: what the crawler observes is posted.
  void observe(const observe::Observation& o) override { post(o); }
  // Blocks until everything posted before the call is written (or its batch failed).
  void flush();
  // Writes what is pending and stops the thread.
  void stop();
  WriterStats stats() const;

private:
  void run(Database& db);
  const Logger& log() const { return options_.log; }

  std::filesystem::path file_;
  WriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::deque<observe::Observation> queue_;
  std::uint64_t posted_ = 0;  // records accepted so far
  std::uint64_t handled_ = 0; // records written or given up on
  bool stopping_ = false;
  bool flush_wanted_ = false;
  bool finished_ = false;
  WriterStats stats_;
  std::string open_error_;
  std::thread thread_;
};

} // namespace seedscope::storage
