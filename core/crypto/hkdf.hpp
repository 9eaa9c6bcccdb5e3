// HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256 (libsodium 1.0.18 has no HKDF).
#pragma once

#include "core/base/bytes.hpp"

namespace seedscope::crypto {

// Extract-then-expand. An empty `salt` means HashLen (32) zero bytes, per RFC 5869.
// `length` must be at most 255 * 32; larger requests return an empty buffer.
Bytes hkdf_sha256(ByteSpan ikm, ByteSpan salt, ByteSpan info, std::size_t length);

} // namespace seedscope::crypto
