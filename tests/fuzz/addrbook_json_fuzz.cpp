// Fuzz target: Tendermint's addrbook.json import (storage/addrbook_json). Any text may be
// refused, with a one-line message; what is accepted must export and import back to the same
// book (export(import(export(x))) == export(x)), and the RFC 3339 time parser must round-trip
// every time the exporter writes.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_invariant.hpp"
#include "storage/addrbook_json.hpp"

using namespace seedscope;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // The time parser alone, on the whole input: what parses formats and parses back the same.
  if (auto t = storage::parse_go_time(text)) {
    const std::string formatted = storage::format_go_time(*t);
    const auto again = storage::parse_go_time(formatted);
    FUZZ_INVARIANT(again && *again == *t);
  }

  auto book = storage::from_addrbook_json(text);
  if (!book.ok()) {
    const std::string message = book.error().message();
    FUZZ_INVARIANT(!message.empty() && message.find('\n') == std::string::npos);
    return 0;
  }
  const std::string exported = storage::to_addrbook_json(*book);
  auto again = storage::from_addrbook_json(exported);
  FUZZ_INVARIANT(again.ok());
  FUZZ_INVARIANT(again->key_hex == book->key_hex);
  FUZZ_INVARIANT(again->addrs == book->addrs);
  FUZZ_INVARIANT(again->bans.empty());
  FUZZ_INVARIANT(storage::to_addrbook_json(*again) == exported);
  return 0;
}
