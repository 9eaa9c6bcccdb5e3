// SecretConnection as a sans-I/O state machine: bytes from the socket go in, bytes for the
// socket and the peer's decrypted stream come out. Station-to-station handshake (X25519,
// Merlin transcript, HKDF-SHA256, Ed25519 AuthSig), then ChaCha20-Poly1305 sealed frames.
// Ports p2p/conn/secret_connection.go @ v0.34. Single-threaded; owned by one connection.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <system_error>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"
#include "core/wire/delimited.hpp"

namespace seedscope::secret {

constexpr std::size_t kDataLenSize = 4;
constexpr std::size_t kDataMaxSize = 1024;
constexpr std::size_t kTotalFrameSize = kDataLenSize + kDataMaxSize;             // 1028
constexpr std::size_t kSealedFrameSize = kTotalFrameSize + crypto::kAeadTagSize; // 1044
// Go reads each handshake message with a 1 MiB limit, but an ephemeral key message is 34 bytes
// and an AuthSig about 100: a stranger who sends most of a MiB and stops would hold that much of
// our memory in every connection of the handshake pool (256 MiB). 1024 is far above both.
constexpr std::size_t kMaxHandshakeMessageSize = 1024;

enum class SecretError {
  kBadEphemeralKey = 1, // ephemeral key message undecodable or not 32 bytes
  kLowOrderKey,         // X25519 result all zero
  kMessageTooLarge,     // a delimited handshake message over kMaxHandshakeMessageSize
  kMalformed,           // AuthSigMessage undecodable
  kUnsupportedKey,      // secp256k1, empty, or wrong-size public key
  kBadSignature,        // signature does not verify over the challenge
  kIdMismatch,          // authenticated ID differs from the dialed ID
  kDecryptFailed,       // a sealed frame did not open
  kFrameTooLong,        // plain frame length > 1024
  kNonceOverflow,       // 2^64 frames in one direction
  kNotEstablished,      // send() before the handshake completed
};
const std::error_category& secret_category();
std::error_code make_error_code(SecretError e);

// Frames one direction: splits a stream into sealed 1044-byte frames with a counting nonce.
class FrameSealer {
public:
  FrameSealer() = default;
  explicit FrameSealer(const std::array<std::uint8_t, 32>& key) : key_(key) {}
  // Appends the sealed frames for `plain` to `out`. Empty input writes nothing.
  Status seal(ByteSpan plain, Bytes& out);

private:
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t counter_ = 0;
  bool exhausted_ = false;
};

// Opens the other direction: accepts ciphertext in any split, yields plaintext.
class FrameOpener {
public:
  FrameOpener() = default;
  explicit FrameOpener(const std::array<std::uint8_t, 32>& key) : key_(key) {}
  // Appends the plaintext of every complete frame in `sealed` (plus earlier partial input)
  // to `plain`. Errors are fatal for the connection.
  Status open(ByteSpan sealed, Bytes& plain);

private:
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t counter_ = 0;
  bool exhausted_ = false;
  Bytes partial_;
};

// The 96-byte HKDF output split into keys, as deriveSecrets() in Go.
struct DerivedKeys {
  std::array<std::uint8_t, 32> recv{};
  std::array<std::uint8_t, 32> send{};
};
DerivedKeys derive_secrets(const std::array<std::uint8_t, 32>& dh_secret, bool loc_is_least);

class SecretConnection {
public:
  struct Options {
    // Set when we dialed ID@addr: the authenticated key must hash to this ID.
    std::optional<std::string> expected_peer_id;
    // Fixed ephemeral key (test vectors); random when unset.
    std::optional<crypto::X25519KeyPair> ephemeral;
  };

  // `key` proves our identity (its public key and its signature of the challenge go into
  // our AuthSig); a node passes its NodeKey. Not owned; must outlive this object.
  SecretConnection(const crypto::Signer& key, Options options);

  // Queues our ephemeral key message. Call once, first.
  void start();

  // Bytes read from the socket, in any split. During the handshake this drives it; once
  // established, decrypted bytes become available through take_plaintext(). An error is
  // fatal: the caller closes the socket.
  Status on_receive(ByteSpan data);

  bool established() const { return state_ == State::kEstablished; }
  // Valid once established.
  const crypto::PublicKey& peer_public_key() const { return peer_key_; }
  const std::string& peer_id() const { return peer_id_; }

  // Encrypts `plain` for the peer (only once established).
  Status send(ByteSpan plain);

  // Bytes to write to the socket, in order.
  Bytes take_output();
  bool has_output() const { return !output_.empty(); }
  // The peer's decrypted stream so far.
  Bytes take_plaintext();
  bool has_plaintext() const { return !plaintext_.empty(); }

private:
  enum class State { kIdle, kAwaitEphemeral, kAwaitAuthSig, kEstablished, kFailed };

  Status on_ephemeral(ByteSpan body);
  Status on_auth_sig(ByteSpan body);
  Status drive_handshake();
  Status fail(Error e);

  const crypto::Signer& key_;
  Options options_;
  State state_ = State::kIdle;
  crypto::X25519KeyPair ephemeral_{};
  std::array<std::uint8_t, 32> challenge_{};
  // Unframes the ephemeral key message (raw bytes), then the AuthSig (decrypted bytes).
  wire::DelimitedReader handshake_reader_{kMaxHandshakeMessageSize};
  FrameSealer sealer_;
  FrameOpener opener_;
  crypto::PublicKey peer_key_{};
  std::string peer_id_;
  Bytes output_;
  Bytes plaintext_;
};

} // namespace seedscope::secret

namespace std {
template <> struct is_error_code_enum<seedscope::secret::SecretError> : true_type {};
} // namespace std
