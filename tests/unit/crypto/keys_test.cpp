// HKDF-SHA256 and the libsodium wrappers: node keys, IDs, X25519, AEAD.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "core/crypto/hkdf.hpp"
#include "core/crypto/keys.hpp"
#include "core/secret/secret_connection.hpp"
#include "support/testdata.hpp"

using namespace seedscope;
using namespace seedscope::crypto;

namespace {
Bytes hex(const std::string& s) {
  auto b = from_hex(s);
  REQUIRE(b.has_value());
  return *b;
}
template <std::size_t N> std::array<std::uint8_t, N> arr(const std::string& s) {
  Bytes b = hex(s);
  REQUIRE(b.size() == N);
  std::array<std::uint8_t, N> a;
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}
} // namespace

TEST_CASE("HKDF-SHA256: RFC 5869 test cases 1 and 3") {
  init_sodium();
  Bytes ikm(22, 0x0b);
  CHECK(to_hex(
            hkdf_sha256(ikm, hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42)) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  CHECK(to_hex(hkdf_sha256(ikm, {}, {}, 42)) ==
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  CHECK(hkdf_sha256(ikm, {}, {}, 255 * 32 + 1).empty());
}

TEST_CASE("SecretConnection key derivation: Go's golden file") {
  init_sodium();
  auto rows = test::read_table("secret_connection_hkdf.csv", ',');
  REQUIRE(rows.size() >= 10);
  for (const auto& r : rows) {
    REQUIRE(r.size() == 5);
    CAPTURE(r[0]);
    auto keys = secret::derive_secrets(arr<32>(r[0]), r[1] == "true");
    CHECK(to_hex(keys.recv) == r[2]);
    CHECK(to_hex(keys.send) == r[3]);
  }
  MESSAGE("golden rows checked: " << rows.size());
}

TEST_CASE("node keys: IDs of the transcript keys, sign and verify") {
  init_sodium();
  auto doc = nlohmann::json::parse(test::read_testdata("handshake_transcripts.json"));
  for (const auto& c : doc)
    for (const char* side : {"a", "b"}) {
      const auto& j = c[side];
      NodeKey k = NodeKey::from_seed(arr<32>(j["node_key_seed_hex"]));
      CHECK(to_hex(k.public_key()) == j["node_pub_key_hex"].get<std::string>());
      CHECK(k.node_id() == j["node_id"].get<std::string>());
      CHECK(node_id_from_public_key(k.public_key()) == k.node_id());
      auto again = NodeKey::from_tendermint_bytes(k.tendermint_bytes());
      REQUIRE(again.has_value());
      CHECK(again->node_id() == k.node_id());
    }
  NodeKey k = NodeKey::generate();
  auto sig = k.sign(as_bytes("challenge"));
  CHECK(ed25519_verify(k.public_key(), as_bytes("challenge"), sig));
  CHECK_FALSE(ed25519_verify(k.public_key(), as_bytes("challengf"), sig));
  sig[10] ^= 1;
  CHECK_FALSE(ed25519_verify(k.public_key(), as_bytes("challenge"), sig));
  CHECK_FALSE(ed25519_verify(k.public_key(), as_bytes("challenge"), ByteSpan(sig).first(63)));
  // A 64-byte key whose public half does not belong to the seed is refused.
  auto bytes = k.tendermint_bytes();
  bytes[40] ^= 1;
  CHECK_FALSE(NodeKey::from_tendermint_bytes(bytes).has_value());
  CHECK_FALSE(NodeKey::from_tendermint_bytes(ByteSpan(bytes).first(63)).has_value());
}

TEST_CASE("node ID syntax") {
  CHECK(is_valid_node_id("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef"));
  CHECK(is_valid_node_id("DEADBEEFDEADBEEFDEADBEEFDEADBEEFDEADBEEF"));
  CHECK_FALSE(is_valid_node_id("deadbeef"));
  CHECK_FALSE(is_valid_node_id("xxxxbeefdeadbeefdeadbeefdeadbeefdeadbeef"));
  CHECK_FALSE(is_valid_node_id("deadbeefdeadbeefdeadbeefdeadbeefdeadbeef0"));
}

TEST_CASE("X25519: low-order points are refused (x25519_low_order_points.tsv)") {
  init_sodium();
  auto rows = test::read_table("x25519_low_order_points.tsv", '\t');
  REQUIRE(rows.size() >= 10);
  int rejected = 0;
  for (const auto& r : rows) {
    CAPTURE(r[0]);
    PublicKey peer = arr<32>(r[0]);
    const bool expect_reject = r[1] == "reject";
    CHECK(x25519(x25519_generate().secret, peer).has_value() == !expect_reject);
    std::array<std::uint8_t, 32> fixed;
    fixed.fill(0x11);
    CHECK(x25519(fixed, peer).has_value() == !expect_reject);
    rejected += expect_reject;
  }
  CHECK(rejected > 0);
  // An ordinary exchange agrees on both sides.
  auto a = x25519_generate();
  auto b = x25519_generate();
  CHECK(*x25519(a.secret, b.public_key) == *x25519(b.secret, a.public_key));
}

TEST_CASE("ChaCha20-Poly1305: round trip and tamper rejection") {
  init_sodium();
  std::array<std::uint8_t, 32> key{};
  key[3] = 9;
  std::array<std::uint8_t, 12> nonce{};
  nonce[4] = 1;
  Bytes plain(100, 0x33);
  Bytes sealed(plain.size() + kAeadTagSize);
  aead_seal(key, nonce, plain, sealed.data());
  Bytes opened(plain.size());
  REQUIRE(aead_open(key, nonce, sealed, opened.data()));
  CHECK(opened == plain);
  sealed[5] ^= 1;
  CHECK_FALSE(aead_open(key, nonce, sealed, opened.data()));
  sealed[5] ^= 1;
  nonce[4] = 2;
  CHECK_FALSE(aead_open(key, nonce, sealed, opened.data()));
  CHECK_FALSE(aead_open(key, nonce, ByteSpan(sealed).first(10), opened.data()));
}
