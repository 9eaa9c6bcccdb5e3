#include "support/hostile_peer.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/mconn/mconnection.hpp"
#include "core/pex/pex_messages.hpp"
#include "core/pex/pex_reactor.hpp"
#include "support/hostile_socket.hpp"

namespace seedscope::test::hostile {

using namespace detail;

// --- the honest client ----------------------------------------------------------------------

HonestResult honest_pex(const Target& target, const std::optional<IpAddress>& source,
                        const std::optional<std::array<std::uint8_t, 32>>& key_seed) {
  HonestResult r;
  if (std::string why = loopback_problem(target.address); !why.empty()) {
    r.failure = why;
    return r;
  }
  const auto start = Clock::now();
  const auto deadline = start + target.io_timeout;
  auto s = handshake(target, source, key_seed, r.failure);
  if (!s) return r;
  mconn::ChannelDescriptor pexd;
  pexd.id = pex::kPexChannel;
  pexd.send_queue_capacity = 10;
  pexd.recv_message_capacity = pex::kMaxMsgSize;
  mconn::MConnConfig mc_config;
  mc_config.flush_throttle = Millis(0);
  mconn::MConnection mc({pexd}, mc_config, now_ms());
  mc.send(pex::kPexChannel, pex::encode_pex_request());
  Bytes plain = std::move(s->leftover);
  Bytes buf;
  while (Clock::now() < deadline) {
    if (!plain.empty()) {
      if (auto st = mc.on_plaintext(plain, now_ms()); !st.ok()) {
        r.failure = "mconnection: " + st.error().message();
        return r;
      }
      plain.clear();
      for (auto& m : mc.take_received()) {
        auto decoded = pex::decode_pex_message(m.data);
        if (!decoded.ok() || decoded->is_request()) continue;
        r.ok = true;
        r.addrs = std::move(decoded->addrs);
        r.latency = since(start);
        return r;
      }
    }
    const Bytes out = mc.poll_transmit(now_ms());
    if (!out.empty() && !send_plain(*s, out, deadline)) {
      r.failure = "write failed";
      return r;
    }
    const ssize_t n = recv_some(s->fd.get(), buf, deadline);
    if (n == 0) {
      r.failure = "closed by the target before PexAddrs";
      return r;
    }
    if (n < 0) break;
    if (auto st = s->conn->on_receive(buf); !st.ok()) {
      r.failure = "secret connection: " + st.error().message();
      return r;
    }
    plain = s->conn->take_plaintext();
    const Bytes pong = s->conn->take_output();
    if (!pong.empty()) send_all(s->fd.get(), pong, deadline);
  }
  r.failure = fmt::format("no PexAddrs within {} ms", target.io_timeout.count());
  return r;
}

HonestLoad::HonestLoad(Target target, std::size_t threads, Millis pause, Millis max_duration,
                       std::uint8_t source_octet)
    : target_(std::move(target)),
      sources_(source_octet) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this, i, pause, max_duration] { run(i, pause, max_duration); });
}

HonestLoad::~HonestLoad() { stop(); }

void HonestLoad::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void HonestLoad::run(std::size_t, Millis pause, Millis max_duration) {
  const auto end = Clock::now() + max_duration;
  for (std::size_t n = 0; n < 100'000 && !stop_ && Clock::now() < end; ++n) {
    // A request under way when stop() is called still counts (it ends within io_timeout).
    HonestResult r = honest_pex(target_, sources_.next(!target_.address.ip->is_v4()));
    {
      std::lock_guard lock(mutex_);
      results_.push_back(std::move(r));
    }
    for (auto t = Clock::now() + pause; Clock::now() < t && !stop_;)
      std::this_thread::sleep_for(Millis(10));
  }
}

std::vector<HonestResult> HonestLoad::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

HonestSummary summarize(const std::vector<HonestResult>& results, Millis limit) {
  HonestSummary s;
  s.total = results.size();
  std::vector<Millis> lat;
  for (const auto& r : results) {
    if (!r.ok) {
      if (s.first_failure.empty()) s.first_failure = r.failure;
      continue;
    }
    ++s.ok;
    if (r.latency <= limit) ++s.in_time;
    lat.push_back(r.latency);
  }
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    s.median = lat[lat.size() / 2];
    s.worst = lat.back();
  }
  return s;
}

std::string HonestSummary::summary() const {
  return fmt::format("honest: {} of {} in time ({:.1f} %), {} succeeded, median {} ms, worst {} "
                     "ms{}",
                     in_time, total, 100.0 * in_time_fraction(), ok, median.count(), worst.count(),
                     first_failure.empty() ? "" : ", first failure: " + first_failure);
}

// --- the target process ---------------------------------------------------------------------

std::optional<std::size_t> rss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return std::nullopt;
}

std::optional<std::size_t> open_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it(fmt::format("/proc/{}/fd", pid), ec);
  if (ec) return std::nullopt;
  std::size_t n = 0;
  for (; it != std::filesystem::directory_iterator() && n < 1'000'000; it.increment(ec)) {
    if (ec) break;
    ++n;
  }
  return n;
}

std::optional<double> cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

ProcSampler::ProcSampler(pid_t pid, Millis every) : pid_(pid) {
  thread_ = std::thread([this, every] {
    while (!stop_) {
      if (auto r = rss_kib(pid_)) peak_rss_ = std::max(peak_rss_.load(), *r);
      if (auto f = open_fds(pid_)) peak_fds_ = std::max(peak_fds_.load(), *f);
      for (auto t = Clock::now() + every; Clock::now() < t && !stop_;)
        std::this_thread::sleep_for(Millis(10));
    }
  });
}

ProcSampler::~ProcSampler() {
  stop_ = true;
  thread_.join();
}

} // namespace seedscope::test::hostile
