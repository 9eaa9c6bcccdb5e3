// Merlin transcripts v1.0 on STROBE-128.
#include "core/crypto/merlin.hpp"

namespace seedscope::crypto {

namespace {
std::array<std::uint8_t, 4> le32(std::size_t n) {
  std::array<std::uint8_t, 4> out;
  put_le32(out.data(), static_cast<std::uint32_t>(n));
  return out;
}
} // namespace

MerlinTranscript::MerlinTranscript(std::string_view label) : strobe_(as_bytes("Merlin v1.0")) {
  append("dom-sep", as_bytes(label));
}

void MerlinTranscript::append(std::string_view label, ByteSpan message) {
  strobe_.meta_ad(as_bytes(label));
  strobe_.meta_ad(le32(message.size()), true);
  strobe_.ad(message);
}

void MerlinTranscript::extract(std::string_view label, MutableByteSpan out) {
  strobe_.meta_ad(as_bytes(label));
  strobe_.meta_ad(le32(out.size()), true);
  strobe_.prf(out);
}

} // namespace seedscope::crypto
