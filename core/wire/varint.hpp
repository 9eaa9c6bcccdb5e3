// Unsigned LEB128 (protobuf varint).
#pragma once

#include <cstdint>

#include "core/base/bytes.hpp"

namespace seedscope::wire {

constexpr std::size_t kMaxVarintBytes = 10;

void put_uvarint(Bytes& out, std::uint64_t value);
std::size_t uvarint_size(std::uint64_t value);

enum class VarintStatus { kOk, kNeedMore, kOverflow };
struct VarintDecode {
  VarintStatus status = VarintStatus::kNeedMore;
  std::uint64_t value = 0;
  std::size_t consumed = 0; // bytes of `in` used when status is kOk
};
// Decodes one uvarint from the front of `in`. kOverflow: more than 10 bytes or a value that
// does not fit 64 bits.
VarintDecode get_uvarint(ByteSpan in);

} // namespace seedscope::wire
