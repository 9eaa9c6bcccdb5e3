// Hostile peers for hardening tests and for operators who test their own seed on loopback:
// blocking sockets and threads (no libuv), built on the core protocol code (the Handshake
// state machine with SecretConnection and NodeInfo, MConnection for the honest client, PEX
// messages), so every authenticated attack completes the REAL handshake as a node of a
// given chain before it misbehaves. Also an honest blocking client (handshake, PexRequest,
// PexAddrs) whose success and latency are measured while an attack runs.
//
// Loopback only: every entry point refuses a target outside 127.0.0.0/8 and ::1. Every loop
// is bounded in count and in time (each attack has a connection count and a duration; every
// read and write has a deadline). Thread-safe: no doctest assertions inside; each function
// may run in many threads at once.
//
// Implemented in hostile_socket.* (blocking TCP with deadlines, the authenticated session),
// hostile_peer.cpp (wire pieces and attacks) and hostile_honest.cpp (the honest client, /proc).
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/clock.hpp"
#include "core/base/result.hpp"
#include "core/types/net_address.hpp"

namespace seedscope::test::hostile {

// "" when `target` may be attacked (an IP in 127.0.0.0/8 or ::1), else why not.
std::string loopback_problem(const PeerAddress& target);

// Source addresses for many connections: 127.<first>.x.y, a new one per call, so that a
// node's duplicate-IP rule sees distinct strangers (IPv6 targets always use ::1).
// Thread-safe.
class SourcePool {
public:
  // `first`: the second octet (1..254); different pools should use different ones.
  explicit SourcePool(std::uint8_t first) : first_(first) {}
  IpAddress next(bool v6);

private:
  std::uint8_t first_;
  std::atomic<std::uint32_t> counter_{0};
};

// --- wire pieces (plaintext of the MConnection stream) ---------------------------------------
Bytes ping_packet();                                             // delimited Packet{ping}
Bytes msg_packet(std::uint8_t channel, bool eof, ByteSpan data); // delimited Packet{msg}
Bytes pex_request_packets(std::size_t count);                    // `count` whole PexRequests
Bytes message_packets(std::uint8_t channel, ByteSpan message);   // split in 1024-byte packets
// `count` addresses 127.<b>.x.y:26656 with made-up IDs (the first ones: `ids`), the same for
// the same arguments.
std::vector<NetAddress> made_up_addresses(std::size_t count, std::uint8_t b,
                                          const std::vector<std::string>& ids = {});
// Our ephemeral key message (delimited BytesValue) with `padding` bytes of an unknown field.
Bytes ephemeral_message(std::size_t padding = 0);

// --- the target ---------------------------------------------------------------------------
struct Target {
  PeerAddress address;     // ID@127.x.y.z:port (the ID is checked by the handshake)
  std::string network;     // the chain we claim to be a node of
  Millis io_timeout{5000}; // every connect/handshake step
};

// --- attacks ------------------------------------------------------------------------------
enum class Attack {
  kPingFlood,       // handshake, `pings` PacketPings (340 per sealed frame), then never read
  kOversized,       // handshake, a packet whose length prefix says 10 MiB, then 64 KiB of it
  kTruncated,       // handshake, a packet cut short (half of its body), held open
  kUnknownChannel,  // handshake, a whole message on channel 0x7f
  kInvalidProtobuf, // handshake, a Packet body and a PEX message that are not protobuf
  kPexFlood,        // handshake, `pex_requests` PexRequests in one burst
  kBigAddrs,        // handshake, an unsolicited PexAddrs of `addresses` (10,000) entries
  kNeverRead,       // handshake, PexRequest, a 1 KiB receive buffer that is never read
  kIdle,            // handshake, then nothing (holds a peer slot)
  kPoison,          // handshake as `network`, PexRequest, unsolicited PexAddrs of made-up
                    // addresses (127.<poison_octet>.x.y), listen_addr one of them
  kSilent,          // TCP connect, nothing
  kSlowloris,       // TCP connect, a valid ephemeral key message one byte per second
  kGarbage,         // TCP connect, 4 KiB of random bytes, held open
  kHalfHandshake,   // TCP connect, our ephemeral key, nothing more; with ephemeral_padding the
                    // key message carries that many bytes of unknown fields (a handshake
                    // message may be 1 MiB) and is cut 16 bytes before its end
  kChurn,           // TCP connect and close at `rate` per second
};
// Names as the tool takes them ("ping-flood", "slowloris", ...).
std::optional<Attack> parse_attack(const std::string& name);
std::string attack_name(Attack a);
std::vector<std::string> attack_names();

struct AttackOptions {
  Attack attack = Attack::kIdle;
  std::size_t connections = 1; // at most this many connections in all (churn: in all)
  Millis duration{10000};      // each connection is held (or churn runs) at most this long
  double rate = 0;             // connections opened per second (0: as fast as possible)
  std::size_t pings = 349'525; // kPingFlood: about 1 MiB of pings
  std::size_t pex_requests = 1000;
  std::size_t addresses = 10'000;
  std::uint8_t poison_octet = 251;     // kPoison: made-up addresses in 127.<octet>.0.0/16
  std::vector<std::string> poison_ids; // kPoison: IDs (of real nodes) the first ones carry
  std::size_t ephemeral_padding = 0;   // kHalfHandshake: see there (at most 1 MiB - 64)
  std::uint8_t source_octet = 66;      // connections come from 127.<octet>.x.y
  std::size_t source_ips = 0;          // distinct source IPs (0: one per connection)
  std::size_t threads = 8;             // workers for authenticated attacks
  std::optional<std::array<std::uint8_t, 32>> key_seed; // one fixed node key for every conn
};

struct AttackReport {
  std::size_t attempted = 0;        // connections tried
  std::size_t connected = 0;        // TCP connects that succeeded
  std::size_t handshaken = 0;       // authenticated attacks: handshakes completed
  std::size_t closed_by_target = 0; // the target closed (or reset) while we held it
  std::uint64_t bytes_sent = 0;
  std::string first_failure; // the first connect or handshake failure, for the printout
  Millis elapsed{0};
  std::string refused;         // set when nothing was done (a target that is not loopback)
  std::string summary() const; // one line
};

// Runs `options.attack` against `target` until every connection is done (each held at most
// `duration`) or `stop` is set. Blocking; uses threads of its own and joins them. A target
// outside loopback is refused (AttackReport::refused) before any socket is opened.
AttackReport run_attack(const Target& target, const AttackOptions& options,
                        const std::atomic<bool>* stop = nullptr);

// --- the honest client -------------------------------------------------------------------
struct HonestResult {
  bool ok = false;               // handshake done and a PexAddrs received
  Millis latency{0};             // connect to PexAddrs
  std::vector<NetAddress> addrs; // the answer
  std::string failure;           // why not
};
// Connects from `source` (127.0.0.1 when unset) with a fresh node key (or `key_seed`),
// completes the handshake as a node of target.network, sends one PexRequest and waits for
// the PexAddrs, at most target.io_timeout in all. A target outside loopback fails at once.
HonestResult honest_pex(const Target& target, const std::optional<IpAddress>& source = {},
                        const std::optional<std::array<std::uint8_t, 32>>& key_seed = {});

// Honest traffic in threads while something else happens: each thread runs honest_pex one
// after another (with `pause` between) until stop() or `max_duration`.
class HonestLoad {
public:
  HonestLoad(Target target, std::size_t threads, Millis pause, Millis max_duration,
             std::uint8_t source_octet = 10);
  ~HonestLoad(); // stops and joins
  HonestLoad(const HonestLoad&) = delete;
  HonestLoad& operator=(const HonestLoad&) = delete;
  void stop();
  std::vector<HonestResult> results() const;

private:
  void run(std::size_t index, Millis pause, Millis max_duration);
  Target target_;
  SourcePool sources_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<HonestResult> results_;
  std::vector<std::thread> threads_;
};

struct HonestSummary {
  std::size_t total = 0;
  std::size_t ok = 0;      // succeeded
  std::size_t in_time = 0; // succeeded within the limit
  Millis median{0};
  Millis worst{0};
  std::string first_failure;
  double in_time_fraction() const { return total ? double(in_time) / double(total) : 0; }
  std::string summary() const;
};
HonestSummary summarize(const std::vector<HonestResult>& results, Millis limit);

// --- the target process -----------------------------------------------------------------
// VmRSS in KiB and open descriptors of a process, from /proc (nullopt when it is gone).
std::optional<std::size_t> rss_kib(pid_t pid);
std::optional<std::size_t> open_fds(pid_t pid);
// User + system CPU seconds the process has used (nullopt when it is gone).
std::optional<double> cpu_seconds(pid_t pid);

// Samples rss_kib and open_fds of `pid` every `every` on a thread of its own and keeps the
// peaks, until destroyed.
class ProcSampler {
public:
  ProcSampler(pid_t pid, Millis every = Millis(100));
  ~ProcSampler();
  ProcSampler(const ProcSampler&) = delete;
  ProcSampler& operator=(const ProcSampler&) = delete;
  std::size_t peak_rss_kib() const { return peak_rss_.load(); }
  std::size_t peak_fds() const { return peak_fds_.load(); }

private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> peak_rss_{0};
  std::atomic<std::size_t> peak_fds_{0};
  std::thread thread_;
};

} // namespace seedscope::test::hostile
