// A running node: the switch, the PEX reactor and the address book, wired from a Config, on
// one libuv loop. This is what `seedscope start` runs, and what the loopback tests start
// several of in one process.
//
// The book is loaded from the store (if any) before the node listens, saved whenever it has
// changed, at most `save_interval` after the change, and once more on stop(). A store that
// cannot be read stops start-up (nothing is overwritten); a failed save is logged and retried.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/base/clock.hpp"
#include "core/base/log.hpp"
#include "core/base/rng.hpp"
#include "core/pex/addr_book.hpp"
#include "core/pex/pex_reactor.hpp"
#include "crawler/app/config.hpp"
#include "crawler/runtime/loop_clock.hpp"
#include "crawler/runtime/switch.hpp"
#include "crawler/runtime/timer.hpp"

namespace seedscope::app {

struct NodeOptions {
  Config config;
  std::shared_ptr<const crypto::NodeKey> key;
  pex::AddrBookStore* store = nullptr; // not owned; null: the book lives in memory only
  Millis save_interval{10'000};
  std::optional<std::uint64_t> rng_seed; // fixed in tests; random otherwise
  // PEX timing; defaults are Go's. Tests shorten the periods.
  pex::PexReactorConfig pex;
  // Simulations (demo, tests): dial nothing but loopback addresses, and let loopback count as
  // routable in the address book so that strict mode still refuses private ranges.
  bool loopback_only = false;
  // Nodes never dialed, served in PEX answers or let in (by ID or IP). Not owned; must outlive
  // the node; its contents may be replaced (a reload) at any time on the loop.
  const ExcludeList* exclude = nullptr;
  // Log lines (start-up, book saves, failures), module p2p; default: silent.
  Logger log;
};

class Node {
public:
  // Throws ConfigError for unusable settings (a malformed seed or persistent peer).
  Node(runtime::Loop& loop, NodeOptions options, runtime::SwitchObserver* observer = nullptr);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Loads the book, listens on laddr, dials persistent peers and starts PEX. Throws
  // std::runtime_error when the store cannot be read or the address cannot be bound.
  void start();
  // Saves the book and stops the switch gracefully (peers flushed, then closed).
  void stop();

  std::uint16_t port() const { return port_; }
  std::string id() const { return options_.key->node_id(); }
  // ID@127.0.0.1:port style address of this node as others should dial it.
  std::optional<PeerAddress> dial_address() const;
  pex::AddrBook& book() { return book_; }
  runtime::Switch& net() { return switch_; }
  pex::PexReactor* pex() { return pex_.get(); }
  // Saves now if the book changed; false if the save failed.
  bool save_book();

private:
  class RandomRng final : public Rng {
  public:
    explicit RandomRng(std::uint64_t seed) : gen_(seed) {}
    std::uint64_t next_u64() override { return gen_(); }

  private:
    std::mt19937_64 gen_;
  };

  void arm_pex_timer();
  void arm_save_timer();

  // The caller's observer, and a new peer re-arms the PEX timer (a seed's deadline for the
  // peer's request may come before the next crawl round).
  class PeerEvents final : public runtime::SwitchObserver {
  public:
    PeerEvents(Node& node, runtime::SwitchObserver* next) : node_(node), next_(next) {}
    void on_peer_added(const PeerInfo& peer) override;
    void on_peer_removed(const PeerInfo& peer, const Failure& why,
                         const std::string& detail) override {
      if (next_) next_->on_peer_removed(peer, why, detail);
    }
    void on_connect_failed(const runtime::UpgradeFailure& failure) override {
      if (next_) next_->on_connect_failed(failure);
    }

  private:
    Node& node_;
    runtime::SwitchObserver* next_; // may be null
  };

  runtime::Loop& loop_;
  NodeOptions options_;
  runtime::LoopClock clock_;
  RandomRng rng_;
  pex::AddrBook book_;
  PeerEvents events_;
  runtime::Switch switch_;
  std::unique_ptr<pex::PexReactor> pex_;
  std::vector<PeerAddress> persistent_;
  runtime::Timer pex_timer_;
  runtime::Timer save_timer_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

// The switch settings a Config asks for (limits, MConnection, dial and upgrade options).
runtime::SwitchConfig switch_config(const Config& config);
// Parses a comma-separated list of ID@host:port; throws ConfigError naming `key` on error.
std::vector<PeerAddress> parse_peer_list(const std::string& list, const char* key);

} // namespace seedscope::app
