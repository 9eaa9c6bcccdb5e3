// Keccak-f[1600] permutation (FIPS 202), the sponge under STROBE-128.
#pragma once

#include <array>
#include <cstdint>

namespace seedscope::crypto {

// Applies the 24-round Keccak-f[1600] permutation in place. Lanes are little-endian 64-bit
// words, lane (x, y) at index x + 5*y.
void keccak_f1600(std::array<std::uint64_t, 25>& state);

} // namespace seedscope::crypto
