// STROBE-128 v1.0.2, the subset Merlin uses (AD, meta-AD, PRF). The sponge is kept as 25
// little-endian lanes; bytes are addressed through byte_at().
#include "core/crypto/strobe.hpp"

#include "core/crypto/keccak.hpp"

namespace seedscope::crypto {

namespace {

constexpr std::uint8_t kRate = 166; // 200 - 2 * 128 / 8 - 2
constexpr std::uint8_t kFlagI = 1;
constexpr std::uint8_t kFlagA = 1 << 1;
constexpr std::uint8_t kFlagC = 1 << 2;
constexpr std::uint8_t kFlagM = 1 << 4;
constexpr std::uint8_t kFlagK = 1 << 5;

std::uint8_t get_byte(const std::array<std::uint64_t, 25>& st, std::size_t i) {
  return static_cast<std::uint8_t>(st[i / 8] >> (8 * (i % 8)));
}
void xor_byte(std::array<std::uint64_t, 25>& st, std::size_t i, std::uint8_t v) {
  st[i / 8] ^= std::uint64_t(v) << (8 * (i % 8));
}

} // namespace

Strobe128::Strobe128(ByteSpan protocol_label) {
  // cSHAKE-style domain block: [1, R+2, 1, 0, 1, 96] || "STROBEv1.0.2", then F.
  const std::uint8_t head[6] = {1, kRate + 2, 1, 0, 1, 96};
  const char* tag = "STROBEv1.0.2";
  for (std::size_t i = 0; i < 6; ++i) xor_byte(st_, i, head[i]);
  for (std::size_t i = 0; i < 12; ++i) xor_byte(st_, 6 + i, static_cast<std::uint8_t>(tag[i]));
  keccak_f1600(st_);
  meta_ad(protocol_label);
}

void Strobe128::ad(ByteSpan data, bool more) {
  begin_op(kFlagA, more);
  absorb(data);
}

void Strobe128::meta_ad(ByteSpan data, bool more) {
  begin_op(kFlagM | kFlagA, more);
  absorb(data);
}

void Strobe128::prf(MutableByteSpan out, bool more) {
  begin_op(kFlagI | kFlagA | kFlagC, more);
  squeeze(out);
}

void Strobe128::key(ByteSpan data, bool more) {
  begin_op(kFlagA | kFlagC, more);
  overwrite(data);
}

std::array<std::uint8_t, 200> Strobe128::state_bytes() const {
  std::array<std::uint8_t, 200> out;
  for (std::size_t i = 0; i < 200; ++i) out[i] = get_byte(st_, i);
  return out;
}

void Strobe128::begin_op(std::uint8_t flags, bool more) {
  // A continued operation must be the same kind; callers in this code base always pass the
  // same flags, so a mismatch is a programming error and is treated as a fresh operation.
  if (more && flags == cur_flags_) return;
  const std::uint8_t old_begin = pos_begin_;
  pos_begin_ = static_cast<std::uint8_t>(pos_ + 1);
  cur_flags_ = flags;
  const std::uint8_t header[2] = {old_begin, flags};
  absorb(header);
  // Operations that use the cipher (C) or key (K) start on a fresh block.
  if ((flags & (kFlagC | kFlagK)) != 0 && pos_ != 0) run_f();
}

void Strobe128::absorb(ByteSpan data) {
  for (std::uint8_t b : data) {
    xor_byte(st_, pos_, b);
    if (++pos_ == kRate) run_f();
  }
}

void Strobe128::overwrite(ByteSpan data) {
  for (std::uint8_t b : data) {
    xor_byte(st_, pos_, static_cast<std::uint8_t>(get_byte(st_, pos_) ^ b));
    if (++pos_ == kRate) run_f();
  }
}

void Strobe128::squeeze(MutableByteSpan out) {
  for (std::uint8_t& b : out) {
    b = get_byte(st_, pos_);
    xor_byte(st_, pos_, b); // zero the byte
    if (++pos_ == kRate) run_f();
  }
}

void Strobe128::run_f() {
  xor_byte(st_, pos_, pos_begin_);
  xor_byte(st_, pos_ + 1, 0x04);
  xor_byte(st_, kRate + 1, 0x80);
  keccak_f1600(st_);
  pos_ = 0;
  pos_begin_ = 0;
}

} // namespace seedscope::crypto
