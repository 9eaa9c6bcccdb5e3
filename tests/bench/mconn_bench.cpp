// Throughput of one MConnection over loopback between two Switches in this process, rate
// limits off, next to the machine's raw ChaCha20-Poly1305 speed on 1028-byte frames.
// Usage: mconn_bench [MiB to send, default 256]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "bench_util.hpp"
#include <sodium.h>

#include "core/crypto/keys.hpp"
#include "crawler/runtime/switch.hpp"

using namespace seedscope;

namespace {

using bench::cpu_seconds;

double raw_cipher_mb_per_s() {
  std::array<std::uint8_t, 32> key{};
  std::array<std::uint8_t, 12> nonce{};
  std::vector<std::uint8_t> frame(1028, 0x5a), out(1028 + 16);
  const int n = 200'000;
  const double c0 = cpu_seconds();
  for (int i = 0; i < n; ++i) {
    nonce[4] = static_cast<std::uint8_t>(i);
    unsigned long long len = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &len, frame.data(), frame.size(), nullptr,
                                              0, nullptr, nonce.data(), key.data());
  }
  return double(n) * 1024 / 1e6 / (cpu_seconds() - c0);
}

struct Sink : Reactor {
  std::string_view name() const override { return "sink"; }
  std::vector<mconn::ChannelDescriptor> channels() const override {
    return {{0x70, 1, 4, 2 << 20}};
  }
  void receive(const PeerInfo&, mconn::ChannelId, ByteSpan msg) override {
    ++messages;
    bytes += msg.size();
  }
  std::size_t messages = 0;
  std::size_t bytes = 0;
};

} // namespace

int main(int argc, char** argv) {
  crypto::init_sodium();
  const std::size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  runtime::SwitchConfig cfg;
  cfg.dial.upgrade.our_info.network = "bench";
  cfg.dial.upgrade.our_info.moniker = "bench";
  cfg.dial.upgrade.our_info.listen_addr = "tcp://127.0.0.1:0";
  cfg.mconn.send_rate = 0;
  cfg.mconn.recv_rate = 0;
  cfg.limits.allow_duplicate_ip = true;

  runtime::Loop loop;
  auto ka = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  auto kb = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  Sink sa, sb;
  runtime::Switch a(loop, ka, cfg), b(loop, kb, cfg);
  a.add_reactor(sa);
  b.add_reactor(sb);
  const auto port = b.listen("tcp://127.0.0.1:0");
  a.dial(parse_peer_address(fmt::format("{}@127.0.0.1:{}", kb->node_id(), port)).value());
  runtime::Timer tick(loop);
  std::function<void()> wait_connected = [&] {
    if (a.num_peers() == 1 && b.num_peers() == 1) return loop.stop();
    tick.start(Millis(5), wait_connected);
  };
  tick.start(Millis(5), wait_connected);
  loop.run();

  const Bytes msg(1 << 20, 0x42);
  std::size_t sent = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  // Keep the channel's queue fed; stop when everything arrived.
  std::function<void()> feed = [&] {
    while (sent < mib && a.send(kb->node_id(), 0x70, msg)) ++sent;
    if (sb.messages == mib) return loop.stop();
    tick.start(Millis(1), feed);
  };
  feed();
  loop.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  const double mb = double(sb.bytes) / 1e6;
  const double raw = raw_cipher_mb_per_s();
  fmt::print("mconn over loopback: {} MiB in {:.2f} s = {:.0f} MB/s\n", mib, secs, mb / secs);
  fmt::print("CPU: {:.2f} s for both ends = {:.2f} ms/MB ({:.2f} ms/MB per side)\n", cpu,
             1000 * cpu / mb, 500 * cpu / mb);
  fmt::print("raw ChaCha20-Poly1305 (1028-byte frames, one core): {:.0f} MB/s\n", raw);
  // Each byte is sealed once and opened once; a side doing one of the two at the raw speed
  // would move `raw` MB/s, so compare per-side CPU throughput with it.
  const double per_side_mb_per_cpu_s = mb / (cpu / 2);
  fmt::print("per-side throughput per CPU second: {:.0f} MB/s = {:.0f} % of raw cipher speed\n",
             per_side_mb_per_cpu_s, 100 * per_side_mb_per_cpu_s / raw);
  a.stop();
  b.stop();
  return 0;
}
