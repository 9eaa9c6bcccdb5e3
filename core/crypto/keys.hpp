// Node identity: Ed25519 keys, node IDs, and the X25519/ChaCha20-Poly1305 primitives of the
// SecretConnection, as thin wrappers over libsodium. Ports p2p/key.go @ v0.34 (identity part).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"

namespace seedscope::crypto {

// Must be called once before any other function here (idempotent, thread-safe).
void init_sodium();

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

// What the SecretConnection needs of our key (Go: the crypto.PrivKey handed to
// MakeSecretConnection): the public key the peer authenticates, and signatures with it. A
// node's is its NodeKey; a simulated node may sign wrongly (netsim).
class Signer {
public:
  virtual ~Signer() = default;
  virtual const PublicKey& public_key() const = 0;
  virtual Signature sign(ByteSpan message) const = 0;
};

// An Ed25519 node key. Tendermint stores it as 64 bytes: 32-byte seed, then public key.
class NodeKey final : public Signer {
public:
  // Fresh random key.
  static NodeKey generate();
  // Deterministic key from a 32-byte seed.
  static NodeKey from_seed(const std::array<std::uint8_t, 32>& seed);
  // From Tendermint's 64-byte form (seed || public key). Fails if the public key does not
  // match the seed.
  static std::optional<NodeKey> from_tendermint_bytes(ByteSpan bytes64);

  const PublicKey& public_key() const override { return public_key_; }
  const std::array<std::uint8_t, 32>& seed() const { return seed_; }
  // seed || public key, as in node_key.json.
  std::array<std::uint8_t, 64> tendermint_bytes() const;
  // 40 lowercase hex characters.
  std::string node_id() const;

  Signature sign(ByteSpan message) const override;

private:
  std::array<std::uint8_t, 32> seed_{};
  PublicKey public_key_{};
  std::array<std::uint8_t, 64> secret_{}; // libsodium's expanded secret key
};

bool ed25519_verify(const PublicKey& key, ByteSpan message, ByteSpan signature);

// Node ID = lowercase hex of the first 20 bytes of SHA-256(public key).
std::string node_id_from_public_key(const PublicKey& key);

// True for exactly 40 lowercase-or-uppercase hex digits. (IDs compare as strings: callers
// that need a canonical ID must also require lowercase.)
bool is_valid_node_id(std::string_view id);

struct X25519KeyPair {
  std::array<std::uint8_t, 32> secret{};
  PublicKey public_key{};
};
X25519KeyPair x25519_generate();
// From a fixed 32-byte secret (tests; clamped by X25519 itself).
X25519KeyPair x25519_from_secret(const std::array<std::uint8_t, 32>& secret);
// Shared secret, or nullopt when the result is all zero (low-order peer key).
std::optional<std::array<std::uint8_t, 32>> x25519(const std::array<std::uint8_t, 32>& secret,
                                                   const PublicKey& peer_public);

// ChaCha20-Poly1305 IETF, no associated data. `nonce` is 12 bytes.
constexpr std::size_t kAeadTagSize = 16;
void aead_seal(const std::array<std::uint8_t, 32>& key, const std::array<std::uint8_t, 12>& nonce,
               ByteSpan plain, std::uint8_t* out /* plain.size() + 16 */);
bool aead_open(const std::array<std::uint8_t, 32>& key, const std::array<std::uint8_t, 12>& nonce,
               ByteSpan sealed, std::uint8_t* out /* sealed.size() - 16 */);

} // namespace seedscope::crypto
