// Sealed frames of the SecretConnection: p2p/conn/secret_connection.go @ v0.34 (Write, Read,
// incrNonce). Each direction counts frames in bytes 4..11 of a 12-byte little-endian nonce.
#include <algorithm>

#include "core/secret/secret_connection.hpp"

namespace seedscope::secret {

namespace {

std::array<std::uint8_t, 12> nonce_for(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  put_le64(nonce.data() + 4, counter);
  return nonce;
}

// Go panics when the counter would wrap; we fail the connection instead.
bool advance(std::uint64_t& counter, bool& exhausted) {
  if (counter == UINT64_MAX) {
    exhausted = true;
    return false;
  }
  ++counter;
  return true;
}

} // namespace

Status FrameSealer::seal(ByteSpan plain, Bytes& out) {
  std::array<std::uint8_t, kTotalFrameSize> frame;
  while (!plain.empty()) {
    if (exhausted_) return make_error(SecretError::kNonceOverflow);
    const std::size_t n = std::min(plain.size(), kDataMaxSize);
    frame.fill(0);
    put_le32(frame.data(), static_cast<std::uint32_t>(n));
    std::copy_n(plain.begin(), n, frame.begin() + kDataLenSize);
    const std::size_t at = out.size();
    out.resize(at + kSealedFrameSize);
    crypto::aead_seal(key_, nonce_for(counter_), frame, out.data() + at);
    advance(counter_, exhausted_);
    plain = plain.subspan(n);
  }
  return ok_status();
}

Status FrameOpener::open(ByteSpan sealed, Bytes& plain) {
  std::array<std::uint8_t, kTotalFrameSize> frame;
  auto open_one = [&](const std::uint8_t* data) -> Status {
    if (exhausted_) return make_error(SecretError::kNonceOverflow);
    if (!crypto::aead_open(key_, nonce_for(counter_), ByteSpan(data, kSealedFrameSize),
                           frame.data()))
      return make_error(SecretError::kDecryptFailed, "frame " + std::to_string(counter_));
    advance(counter_, exhausted_);
    const std::uint32_t n = get_le32(frame.data());
    if (n > kDataMaxSize)
      return make_error(SecretError::kFrameTooLong, std::to_string(n) + " bytes");
    // The padding after the data is unspecified (Go reuses buffers): never inspect it.
    plain.insert(plain.end(), frame.begin() + kDataLenSize, frame.begin() + kDataLenSize + n);
    return ok_status();
  };

  // Complete a frame begun by an earlier call.
  if (!partial_.empty()) {
    const std::size_t need = kSealedFrameSize - partial_.size();
    const std::size_t take = std::min(need, sealed.size());
    partial_.insert(partial_.end(), sealed.begin(), sealed.begin() + take);
    sealed = sealed.subspan(take);
    if (partial_.size() < kSealedFrameSize) return ok_status();
    Status st = open_one(partial_.data());
    partial_.clear();
    if (!st) return st;
  }
  while (sealed.size() >= kSealedFrameSize) {
    if (Status st = open_one(sealed.data()); !st) return st;
    sealed = sealed.subspan(kSealedFrameSize);
  }
  partial_.assign(sealed.begin(), sealed.end());
  return ok_status();
}

} // namespace seedscope::secret
