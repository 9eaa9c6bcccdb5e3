// libsodium wrappers for node identity and the SecretConnection primitives.
#include "core/crypto/keys.hpp"

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <sodium.h>

namespace seedscope::crypto {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort(); // no usable randomness: nothing can work
  });
}

NodeKey NodeKey::generate() {
  init_sodium();
  std::array<std::uint8_t, 32> seed;
  randombytes_buf(seed.data(), seed.size());
  NodeKey k = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

NodeKey NodeKey::from_seed(const std::array<std::uint8_t, 32>& seed) {
  init_sodium();
  NodeKey k;
  k.seed_ = seed;
  crypto_sign_seed_keypair(k.public_key_.data(), k.secret_.data(), seed.data());
  return k;
}

std::optional<NodeKey> NodeKey::from_tendermint_bytes(ByteSpan bytes64) {
  if (bytes64.size() != 64) return std::nullopt;
  std::array<std::uint8_t, 32> seed;
  std::copy_n(bytes64.begin(), 32, seed.begin());
  NodeKey k = from_seed(seed);
  if (!std::equal(k.public_key_.begin(), k.public_key_.end(), bytes64.begin() + 32))
    return std::nullopt;
  return k;
}

std::array<std::uint8_t, 64> NodeKey::tendermint_bytes() const {
  std::array<std::uint8_t, 64> out;
  std::copy(seed_.begin(), seed_.end(), out.begin());
  std::copy(public_key_.begin(), public_key_.end(), out.begin() + 32);
  return out;
}

std::string NodeKey::node_id() const { return node_id_from_public_key(public_key_); }

Signature NodeKey::sign(ByteSpan message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool ed25519_verify(const PublicKey& key, ByteSpan message, ByteSpan signature) {
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.data()) == 0;
}

std::string node_id_from_public_key(const PublicKey& key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256(digest.data(), key.data(), key.size());
  return to_hex(ByteSpan(digest.data(), 20));
}

bool is_valid_node_id(std::string_view id) {
  return id.size() == 40 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

X25519KeyPair x25519_generate() {
  init_sodium();
  std::array<std::uint8_t, 32> secret;
  randombytes_buf(secret.data(), secret.size());
  return x25519_from_secret(secret);
}

X25519KeyPair x25519_from_secret(const std::array<std::uint8_t, 32>& secret) {
  init_sodium();
  X25519KeyPair kp;
  kp.secret = secret;
  crypto_scalarmult_base(kp.public_key.data(), secret.data());
  return kp;
}

std::optional<std::array<std::uint8_t, 32>> x25519(const std::array<std::uint8_t, 32>& secret,
                                                   const PublicKey& peer_public) {
  std::array<std::uint8_t, 32> out{};
  // libsodium refuses (-1) exactly when the result is all zero, i.e. a low-order point.
  if (crypto_scalarmult(out.data(), secret.data(), peer_public.data()) != 0) return std::nullopt;
  if (sodium_is_zero(out.data(), out.size())) return std::nullopt;
  return out;
}

void aead_seal(const std::array<std::uint8_t, 32>& key, const std::array<std::uint8_t, 12>& nonce,
               ByteSpan plain, std::uint8_t* out) {
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &len, plain.data(), plain.size(), nullptr, 0,
                                            nullptr, nonce.data(), key.data());
}

bool aead_open(const std::array<std::uint8_t, 32>& key, const std::array<std::uint8_t, 12>& nonce,
               ByteSpan sealed, std::uint8_t* out) {
  if (sealed.size() < kAeadTagSize) return false;
  unsigned long long len = 0;
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, &len, nullptr, sealed.data(), sealed.size(),
                                                   nullptr, 0, nonce.data(), key.data()) == 0;
}

} // namespace seedscope::crypto
