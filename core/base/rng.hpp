// Randomness as the core sees it: injected, so tests are deterministic.
#pragma once

#include <cstdint>
#include <random>

namespace seedscope {

class Rng {
public:
  virtual ~Rng() = default;
  virtual std::uint64_t next_u64() = 0;
  // Uniform in [0, n); 0 when n == 0.
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next_u64() % n; }
  // Uniform in [0, 1).
  double uniform01() { return double(next_u64() >> 11) * 0x1.0p-53; }
};

// A seeded Mersenne Twister (tests, simulations) — not for secrets.
class SeededRng final : public Rng {
public:
  explicit SeededRng(std::uint64_t seed) : gen_(seed) {}
  std::uint64_t next_u64() override { return gen_(); }

private:
  std::mt19937_64 gen_;
};

} // namespace seedscope
