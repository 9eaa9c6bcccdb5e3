// Merlin transcripts (merlin.cool, v1.0) on STROBE-128, as used by Tendermint's
// SecretConnection (github.com/gtank/merlin).
#pragma once

#include <string_view>

#include "core/base/bytes.hpp"
#include "core/crypto/strobe.hpp"

namespace seedscope::crypto {

class MerlinTranscript {
public:
  // new(label): STROBE init "Merlin v1.0", then append("dom-sep", label).
  explicit MerlinTranscript(std::string_view label);

  // meta-AD(label || LE32(len(msg))), then AD(msg).
  void append(std::string_view label, ByteSpan message);

  // meta-AD(label || LE32(out.size())), then PRF into `out`.
  void extract(std::string_view label, MutableByteSpan out);

private:
  Strobe128 strobe_;
};

} // namespace seedscope::crypto
