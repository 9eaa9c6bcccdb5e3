// Fuzz target: the incremental DelimitedReader.
// Input: byte 0 picks the reader's maximum size, bytes 1-2 a chunk size, the rest is the
// stream. The stream is read once fed whole and once fed in chunks; both readings must equal
// a one-pass reference parse (same messages, same error, same bytes left over), and no
// message may exceed the maximum.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "core/wire/delimited.hpp"
#include "core/wire/varint.hpp"

using namespace seedscope;
using namespace seedscope::wire;

namespace {

#define FUZZ_INVARIANT(cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) std::abort();                                                                     \
  } while (0)

struct Reading {
  std::vector<Bytes> messages;
  std::optional<std::error_code> error;
  std::size_t left = 0; // buffered at the end (when no error)
};

void drain(DelimitedReader& reader, std::size_t max_size, Reading& out) {
  while (!out.error) {
    auto r = reader.next();
    if (!r.ok()) {
      out.error = r.error().code;
      return;
    }
    if (!r.value()) return;
    FUZZ_INVARIANT(r.value()->size() <= max_size);
    out.messages.push_back(std::move(*r.value()));
  }
}

Reading read_in_chunks(ByteSpan stream, std::size_t max_size, std::size_t chunk) {
  DelimitedReader reader(max_size);
  Reading out;
  for (std::size_t off = 0; off < stream.size(); off += chunk) {
    reader.feed(stream.subspan(off, std::min(chunk, stream.size() - off)));
    drain(reader, max_size, out);
  }
  drain(reader, max_size, out);
  out.left = out.error ? 0 : reader.buffered();
  return out;
}

// The straightforward whole-buffer parse the incremental reader must agree with.
Reading reference(ByteSpan stream, std::size_t max_size) {
  Reading out;
  std::size_t off = 0;
  while (true) {
    const VarintDecode len = get_uvarint(stream.subspan(off));
    if (len.status == VarintStatus::kNeedMore) break;
    if (len.status == VarintStatus::kOverflow) {
      out.error = make_error_code(WireError::kVarintOverflow);
      return out;
    }
    if (len.value > max_size) {
      out.error = make_error_code(WireError::kMessageTooLarge);
      return out;
    }
    if (stream.size() - off - len.consumed < len.value) break;
    const ByteSpan body = stream.subspan(off + len.consumed, len.value);
    out.messages.emplace_back(body.begin(), body.end());
    off += len.consumed + len.value;
  }
  out.left = stream.size() - off;
  return out;
}

bool same(const Reading& a, const Reading& b) {
  return a.messages == b.messages && a.error == b.error && a.left == b.left;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // 0..255 exercises tiny limits; 255 stands for a large one (MConnection's 64 KiB).
  const std::size_t max_size = data[0] == 255 ? 65536 : data[0];
  const std::size_t chunk = 1 + ((std::size_t{data[1]} << 8 | data[2]) % 64);
  const ByteSpan stream(data + 3, size - 3);

  const Reading whole = read_in_chunks(stream, max_size, stream.empty() ? 1 : stream.size());
  const Reading pieces = read_in_chunks(stream, max_size, chunk);

  const Reading expected = reference(stream, max_size);
  FUZZ_INVARIANT(same(whole, expected));
  FUZZ_INVARIANT(same(pieces, expected));
  return 0;
}
