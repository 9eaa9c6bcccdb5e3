// What one crawl contact costs the node crawled, measured on netsim: the bytes the crawler
// sends and receives for a successful contact (TCP connect, SecretConnection and NodeInfo
// handshake, one PexRequest, the PexAddrs answer, the hang-up), counted by a relay between the
// crawler and a simulated node; what a failed dial costs; and, from the schedule itself on a
// fake clock, how many contacts a node gets per hour with the default settings.
// Usage: footprint_bench [contacts to average, default 5]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "core/crawl/schedule.hpp"
#include "core/crypto/keys.hpp"
#include "crawler/engine/crawler.hpp"
#include "crawler/netsim/netsim.hpp"
#include "crawler/runtime/tcp.hpp"
#include "crawler/runtime/timer.hpp"

using namespace seedscope;

namespace {

// Relays every connection to `target` and counts the bytes of each direction, per connection.
class CountingRelay {
public:
  struct Counts {
    std::uint64_t to_node = 0, to_crawler = 0;
    bool done = false;
  };
  CountingRelay(runtime::Loop& loop, const NetAddress& target) : loop_(loop), listener_(loop) {
    auto here = runtime::make_sockaddr("127.0.0.1", 0);
    target_ = *runtime::make_sockaddr(target.ip.to_string(), target.port);
    listener_.listen(reinterpret_cast<const sockaddr*>(&*here), 16, [this](int status) {
      if (status == 0) accept();
    });
  }
  std::uint16_t port() const { return listener_.local_port(); }
  const std::vector<Counts>& counts() const { return counts_; }
  std::size_t finished() const {
    std::size_t n = 0;
    for (const auto& c : counts_) n += c.done;
    return n;
  }
  void close() {
    listener_.close();
    pairs_.clear();
  }

private:
  struct Pair {
    explicit Pair(runtime::Loop& loop) : in(loop), out(loop) {}
    runtime::TcpSocket in, out;
    Bytes early; // from the crawler before the node's side connected
    bool connected = false;
  };
  void accept() {
    auto pair = std::make_shared<Pair>(loop_);
    if (listener_.accept(pair->in) != 0) return;
    const std::size_t i = counts_.size();
    counts_.push_back({});
    pairs_.push_back(pair);
    Pair* p = pair.get();
    auto end = [this, p, i](int) {
      counts_[i].done = true;
      p->in.close();
      p->out.close();
    };
    p->in.start_reading(
        [this, p, i](ByteSpan data) {
          counts_[i].to_node += data.size();
          if (p->connected) p->out.write(Bytes(data.begin(), data.end()));
          else p->early.insert(p->early.end(), data.begin(), data.end());
        },
        end);
    p->out.connect(reinterpret_cast<const sockaddr*>(&target_), [this, p, i, end](int status) {
      if (status != 0) return end(status);
      p->connected = true;
      if (!p->early.empty()) p->out.write(std::move(p->early));
      p->out.start_reading(
          [this, p, i](ByteSpan data) {
            counts_[i].to_crawler += data.size();
            p->in.write(Bytes(data.begin(), data.end()));
          },
          end);
    });
  }

  runtime::Loop& loop_;
  runtime::TcpListener listener_;
  sockaddr_storage target_{};
  std::vector<Counts> counts_;
  std::vector<std::shared_ptr<Pair>> pairs_;
};

// Contacts of one address per hour over `hours`, when every contact ends with `verdict`.
std::vector<int> contacts_per_hour(const crawl::ScheduleConfig& config, crawl::Verdict verdict,
                                   int hours) {
  crawl::Schedule s(config);
  WallTime now = WallTime(std::chrono::seconds(1'700'000'000));
  const WallTime start = now;
  const NetAddress addr{std::string(40, 'a'), IpAddress::v4(203, 0, 113, 7), 26656};
  s.add(addr, "net", now);
  std::vector<int> per_hour(static_cast<std::size_t>(hours), 0);
  for (int guard = 0; guard < 100000; ++guard) {
    const WallTime due = s.next_due();
    if (due == WallTime::max() || due - start >= std::chrono::hours(hours)) break;
    now = std::max(now, due);
    auto a = s.pop_due(now);
    if (!a) break;
    ++per_hour[static_cast<std::size_t>(
        std::chrono::duration_cast<std::chrono::hours>(now - start).count())];
    s.finish(addr, verdict, "net", now);
  }
  return per_hour;
}

} // namespace

int main(int argc, char** argv) {
  const int want = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  crypto::init_sodium();
  runtime::Loop loop;
  netsim::SimNetwork net(netsim::parse_scenario(
      "seed = 5\naddress_offset = 47000\n[[network]]\nchain_id = \"cost-1\"\nnodes = 30\n"
      "known_peers = 20\nseed_nodes = 0\n",
      "footprint"));
  netsim::Netsim sim(loop, net);
  sim.start();
  const netsim::SimNode& node = net.node(0);
  CountingRelay relay(loop, node.address());

  engine::CrawlerOptions o; // the defaults of `seedscope crawl`, but a quick recrawl
  o.key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  o.our_info.moniker = "bench (seedscope crawler; contact: ops@example.org)";
  o.our_info.version = "seedscope/0.1.0+0123456789ab";
  o.our_info.listen_addr = "tcp://127.0.0.1:26656";
  o.loopback_only = true;
  o.schedule.recrawl_interval = Millis(300);
  o.max_contacts_per_subnet_per_second = 2;
  engine::Crawler crawler(loop, o);
  auto seed = parse_peer_address(fmt::format("{}@127.0.0.1:{}", node.id, relay.port()));
  crawler.add_seed(*seed);
  crawler.start();
  runtime::Timer poll(loop), limit(loop);
  std::function<void()> check = [&] {
    if (relay.finished() >= static_cast<std::size_t>(want)) return loop.stop();
    poll.start(Millis(20), check);
  };
  poll.start(Millis(20), check);
  limit.start(Millis(60000), [&] { loop.stop(); });
  loop.run();
  crawler.stop();
  relay.close();
  sim.stop();
  poll.stop();
  limit.stop();

  std::uint64_t sent = 0, received = 0;
  std::size_t n = 0;
  for (const auto& c : relay.counts())
    if (c.done) sent += c.to_node, received += c.to_crawler, ++n;
  if (n == 0) {
    fmt::print("footprint: no contact finished within 60 s\n");
    return 1;
  }
  fmt::print("successful contact (TCP connect, handshake, PexRequest, PexAddrs of {} addresses, "
             "hang-up), mean of {}:\n  crawler -> node {} bytes, node -> crawler {} bytes (TCP "
             "payload; about 20 segments of TCP/IP headers besides)\n",
             net.pex_answer(node).size(), n, sent / n, received / n);
  fmt::print("failed dial (refused, or no answer within dial_timeout): 0 payload bytes (one SYN, "
             "answered by a RST, or retransmitted once within the 3 s dial_timeout)\n");

  const crawl::ScheduleConfig defaults;
  auto show = [](const char* what, const std::vector<int>& h) {
    int total = 0;
    for (int c : h) total += c;
    fmt::print("{}: first hour {}, second {}, over 24 h {} ({:.2f}/h)\n", what, h[0], h[1], total,
               total / 24.0);
  };
  show("reachable node, default recrawl_interval 10m (contacts per hour)",
       contacts_per_hour(defaults, crawl::Verdict::kVerified, 24));
  show("unreachable address, retry_base 1m doubling to retry_cap 4h, retired after 24h",
       contacts_per_hour(defaults, crawl::Verdict::kFailed, 24));
  return 0;
}
