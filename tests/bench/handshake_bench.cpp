// Handshake cost: CPU per handshake per side over loopback (libuv, both endpoints in this
// process), for the sans-I/O core alone (bytes passed in memory), and for the raw libsodium
// operations one side must do (X25519 keygen + X25519 + Ed25519 sign + verify).
// Usage: handshake_bench [N=2000]
#include <sodium.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "core/p2p/handshake.hpp"
#include "core/types/net_address.hpp"
#include "crawler/runtime/transport.hpp"

using namespace seedscope;

namespace {

double cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& tv) { return tv.tv_sec * 1e6 + tv.tv_usec; };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

NodeInfo bench_info(const char* moniker) {
  NodeInfo info;
  info.listen_addr = "tcp://127.0.0.1:26656";
  info.network = "bench-chain";
  info.version = "0.34.24";
  info.channels = Bytes{0x00};
  info.moniker = moniker;
  info.tx_index = "off";
  return info;
}

// Per side: one ephemeral key pair, one DH, one signature, one verification.
double sodium_us_per_side(int n) {
  unsigned char sk[32], pk[32], peer_pk[32], dh[32], sig[64], msg[32];
  unsigned char ed_pk[32], ed_sk[64];
  crypto_sign_keypair(ed_pk, ed_sk);
  randombytes_buf(peer_pk, sizeof peer_pk);
  crypto_scalarmult_base(peer_pk, peer_pk);
  randombytes_buf(msg, sizeof msg);
  double start = cpu_us();
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    randombytes_buf(sk, sizeof sk);
    crypto_scalarmult_base(pk, sk);
    failures += crypto_scalarmult(dh, sk, peer_pk) != 0;
    crypto_sign_detached(sig, nullptr, msg, sizeof msg, ed_sk);
    failures += crypto_sign_verify_detached(sig, msg, sizeof msg, ed_pk) != 0;
    msg[0] ^= dh[0];
  }
  double elapsed = cpu_us() - start;
  if (failures != 0) std::fprintf(stderr, "unexpected libsodium failures: %d\n", failures);
  return elapsed / n;
}

// Two Handshake objects, bytes handed over in memory.
double core_us_per_side(int n, const crypto::NodeKey& a_key, const crypto::NodeKey& b_key) {
  double start = cpu_us();
  for (int i = 0; i < n; ++i) {
    HandshakeConfig ca, cb;
    ca.our_info = bench_info("a");
    ca.expected_peer_id = b_key.node_id();
    cb.our_info = bench_info("b");
    Handshake a(a_key, ca), b(b_key, cb);
    a.start();
    b.start();
    for (int round = 0; round < 10 && (a.has_output() || b.has_output()); ++round) {
      Bytes to_b = a.take_output();
      Bytes to_a = b.take_output();
      if (!to_b.empty()) b.on_receive(to_b);
      if (!to_a.empty()) a.on_receive(to_a);
    }
    if (a.state() != Handshake::State::kDone || b.state() != Handshake::State::kDone) {
      std::fprintf(stderr, "in-memory handshake did not complete: %s / %s\n",
                   a.failure_detail().c_str(), b.failure_detail().c_str());
      std::exit(1);
    }
  }
  return (cpu_us() - start) / (2.0 * n);
}

struct LoopbackResult {
  double cpu_us_per_side = 0;
  double wall_ms_per_handshake = 0;
  double mean_handshake_ms = 0;
};

// Sequential loopback handshakes between two Transports in one loop.
LoopbackResult loopback(int n, std::shared_ptr<const crypto::NodeKey> a_key,
                        std::shared_ptr<const crypto::NodeKey> b_key) {
  runtime::Loop loop;
  runtime::Transport server(loop, b_key);
  runtime::Transport client(loop, a_key);
  runtime::UpgradeOptions options;
  options.our_info = bench_info("bench-b");
  int inbound_done = 0, outbound_done = 0, failures = 0;
  double handshake_ms_sum = 0;
  std::uint16_t port = server.listen("tcp://127.0.0.1:0", options, [&](runtime::UpgradeResult r) {
    ++inbound_done;
    if (!r.ok()) ++failures;
  });
  auto addr = parse_peer_address(fmt::format("{}@127.0.0.1:{}", b_key->node_id(), port));
  runtime::DialOptions dial;
  dial.upgrade.our_info = bench_info("bench-a");

  std::function<void()> next;
  next = [&] {
    client.dial(addr.value(), dial, [&](runtime::UpgradeResult r) {
      ++outbound_done;
      if (!r.ok()) {
        ++failures;
        std::fprintf(stderr, "handshake failed: %s/%s: %s\n",
                     std::string(to_string(r.failure.failure.stage)).c_str(),
                     std::string(to_string(r.failure.failure.reason)).c_str(),
                     r.failure.detail.c_str());
      } else {
        handshake_ms_sum += r.connection->timings().handshake_ms;
      }
      if (outbound_done < n && failures == 0) next();
      else server.close();
    });
  };
  double wall_start = static_cast<double>(uv_hrtime());
  double start = cpu_us();
  next();
  loop.run();
  double cpu = cpu_us() - start;
  double wall = (static_cast<double>(uv_hrtime()) - wall_start) / 1e6;
  if (failures != 0 || outbound_done != n) {
    std::fprintf(stderr, "loopback: %d failures, %d/%d done\n", failures, outbound_done, n);
    std::exit(1);
  }
  return {cpu / (2.0 * n), wall / n, handshake_ms_sum / n};
}

} // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [N]\n", argv[0]);
    return 2;
  }
  crypto::init_sodium();
  auto a_key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());
  auto b_key = std::make_shared<const crypto::NodeKey>(crypto::NodeKey::generate());

  double sodium = sodium_us_per_side(n);
  double core = core_us_per_side(n, *a_key, *b_key);
  LoopbackResult lo = loopback(n, a_key, b_key);

  fmt::print("handshakes: {} (each figure is CPU time per handshake per side)\n", n);
  fmt::print("  raw libsodium (X25519 keygen + X25519 + Ed25519 sign + verify): {:8.1f} us\n",
             sodium);
  fmt::print("  core Handshake in memory (sans-I/O):                            {:8.1f} us  "
             "ratio {:.2f}\n",
             core, core / sodium);
  fmt::print("  loopback via libuv Transport (TCP + handshake + close):         {:8.1f} us  "
             "ratio {:.2f}\n",
             lo.cpu_us_per_side, lo.cpu_us_per_side / sodium);
  fmt::print("  loopback wall time per sequential handshake: {:.3f} ms (handshake_ms mean "
             "{:.3f})\n",
             lo.wall_ms_per_handshake, lo.mean_handshake_ms);
  return 0;
}
