// STROBE v1.0.2 at security level 128 (rate 166), with only the operations Merlin needs:
// AD, meta-AD, PRF and KEY (plus the bookkeeping they share). Ports github.com/mimoo/StrobeGo,
// the library behind Go's Merlin and so behind Tendermint's SecretConnection.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/base/bytes.hpp"

namespace seedscope::crypto {

class Strobe128 {
public:
  // Initializes the sponge and absorbs the protocol label (STROBE's init).
  explicit Strobe128(ByteSpan protocol_label);

  // `more` continues the previous operation of the same kind (STROBE's streaming flag).
  void ad(ByteSpan data, bool more = false);
  void meta_ad(ByteSpan data, bool more = false);
  void prf(MutableByteSpan out, bool more = false);
  // KEY: overwrites the state with key material (used by tests against the STROBE vectors,
  // and by Merlin-based RNGs).
  void key(ByteSpan data, bool more = false);

  // The raw sponge state (200 bytes), for checking against published state dumps.
  std::array<std::uint8_t, 200> state_bytes() const;

private:
  void begin_op(std::uint8_t flags, bool more);
  void absorb(ByteSpan data);
  void squeeze(MutableByteSpan out);
  void overwrite(ByteSpan data);
  void run_f();

  std::array<std::uint64_t, 25> st_{};
  std::uint8_t pos_ = 0;
  std::uint8_t pos_begin_ = 0;
  std::uint8_t cur_flags_ = 0;
};

} // namespace seedscope::crypto
