// A fuzz input read as a script: bytes and spans taken from the front, zeros once it is used
// up, so that a target can turn any input into a sequence of decisions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/base/bytes.hpp"

namespace seedscope::fuzz {

struct Input {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool empty() const { return at >= size; }
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  ByteSpan take(std::size_t n) {
    n = std::min(n, size - std::min(at, size));
    ByteSpan out(data + at, n);
    at += n;
    return out;
  }
};

} // namespace seedscope::fuzz
