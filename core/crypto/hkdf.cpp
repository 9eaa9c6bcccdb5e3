// HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256.
#include "core/crypto/hkdf.hpp"

#include <array>

#include <sodium.h>

namespace seedscope::crypto {

Bytes hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::size_t length) {
  constexpr std::size_t kHashLen = crypto_auth_hmacsha256_BYTES;
  if (length > 255 * kHashLen) return {};
  // Extract: PRK = HMAC(salt, IKM); an absent salt is HashLen zero bytes.
  std::array<std::uint8_t, kHashLen> zero_salt{};
  if (salt.empty()) salt = zero_salt;
  std::array<std::uint8_t, kHashLen> prk;
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, salt.data(), salt.size());
  crypto_auth_hmacsha256_update(&st, ikm.data(), ikm.size());
  crypto_auth_hmacsha256_final(&st, prk.data());

  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
  Bytes out;
  out.reserve(length);
  std::array<std::uint8_t, kHashLen> t{};
  std::size_t t_len = 0;
  for (std::uint8_t i = 1; out.size() < length; ++i) {
    crypto_auth_hmacsha256_init(&st, prk.data(), prk.size());
    crypto_auth_hmacsha256_update(&st, t.data(), t_len);
    crypto_auth_hmacsha256_update(&st, info.data(), info.size());
    crypto_auth_hmacsha256_update(&st, &i, 1);
    crypto_auth_hmacsha256_final(&st, t.data());
    t_len = kHashLen;
    const std::size_t take = std::min(kHashLen, length - out.size());
    out.insert(out.end(), t.begin(), t.begin() + take);
  }
  sodium_memzero(prk.data(), prk.size());
  sodium_memzero(t.data(), t.size());
  return out;
}

} // namespace seedscope::crypto
