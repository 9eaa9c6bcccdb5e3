#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "core/wire/varint.hpp"

using namespace seedscope;
using namespace seedscope::wire;

namespace {
Bytes hex(std::string_view s) { return from_hex(s).value(); }
} // namespace

TEST_CASE("varint: known encodings round-trip") {
  struct Vector {
    std::uint64_t value;
    const char* hex;
  };
  const Vector vectors[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "8001"},
      {300, "ac02"},
      {std::uint64_t{1} << 63, "80808080808080808001"},
      {std::numeric_limits<std::uint64_t>::max(), "ffffffffffffffffff01"},
  };
  for (const Vector& v : vectors) {
    CAPTURE(v.value);
    Bytes out;
    put_uvarint(out, v.value);
    CHECK(to_hex(out) == v.hex);
    CHECK(uvarint_size(v.value) == out.size());

    VarintDecode d = get_uvarint(out);
    CHECK(d.status == VarintStatus::kOk);
    CHECK(d.value == v.value);
    CHECK(d.consumed == out.size());

    // Trailing bytes are not consumed.
    Bytes longer = out;
    longer.push_back(0x55);
    d = get_uvarint(longer);
    CHECK(d.status == VarintStatus::kOk);
    CHECK(d.consumed == out.size());

    // Every strict prefix needs more.
    for (std::size_t n = 0; n < out.size(); ++n) {
      CHECK(get_uvarint(ByteSpan(out).first(n)).status == VarintStatus::kNeedMore);
    }
  }
}

TEST_CASE("varint: overflow") {
  SUBCASE("11 bytes") {
    CHECK(get_uvarint(hex("8080808080808080808001")).status == VarintStatus::kOverflow);
  }
  SUBCASE("10th byte has continuation bit") {
    CHECK(get_uvarint(hex("ffffffffffffffffff80")).status == VarintStatus::kOverflow);
  }
  SUBCASE("10th byte above 1") {
    CHECK(get_uvarint(hex("ffffffffffffffffff02")).status == VarintStatus::kOverflow);
    CHECK(get_uvarint(hex("80808080808080808002")).status == VarintStatus::kOverflow);
  }
  SUBCASE("10th byte 1 is fine") {
    CHECK(get_uvarint(hex("80808080808080808001")).status == VarintStatus::kOk);
  }
}

TEST_CASE("varint: need more") {
  CHECK(get_uvarint({}).status == VarintStatus::kNeedMore);
  CHECK(get_uvarint(hex("80")).status == VarintStatus::kNeedMore);
  CHECK(get_uvarint(hex("ffffffffffffffffff")).status == VarintStatus::kNeedMore);
}

TEST_CASE("varint: non-minimal encodings are accepted, as in Go") {
  VarintDecode d = get_uvarint(hex("8000"));
  CHECK(d.status == VarintStatus::kOk);
  CHECK(d.value == 0);
  CHECK(d.consumed == 2);
}
