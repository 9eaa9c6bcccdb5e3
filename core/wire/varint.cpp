#include "core/wire/varint.hpp"

namespace seedscope::wire {

void put_uvarint(Bytes& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

std::size_t uvarint_size(std::uint64_t value) {
  std::size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

// Same rules as Go's binary.Uvarint: at most 10 bytes, and the 10th may only carry the top
// bit of the value (0 or 1). Non-minimal encodings (e.g. 80 00) are accepted, as in Go.
VarintDecode get_uvarint(ByteSpan in) {
  VarintDecode d;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::uint8_t b = in[i];
    if (i == kMaxVarintBytes - 1 && b > 1) {
      d.status = VarintStatus::kOverflow;
      return d;
    }
    value |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      d.status = VarintStatus::kOk;
      d.value = value;
      d.consumed = i + 1;
      return d;
    }
  }
  d.status = VarintStatus::kNeedMore;
  return d;
}

} // namespace seedscope::wire
