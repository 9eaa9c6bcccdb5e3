// Fuzz target: the sealed-frame decoder and the SecretConnection handshake parser.
// Mode 0 feeds raw bytes to a fresh Handshake (ephemeral key, then whatever follows).
// Mode 1 seals fuzz-chosen plain frames (any length field, any content) with a known key and
// feeds them in fuzz-chosen splits to a FrameOpener: it must yield at most 1024 bytes a frame
// and fail, never crash, on a length over 1024.
#include <cstdint>
#include <cstdlib>

#include "core/crypto/keys.hpp"
#include "core/p2p/handshake.hpp"
#include "core/secret/secret_connection.hpp"

using namespace seedscope;

namespace {

const crypto::NodeKey& node_key() {
  static const crypto::NodeKey key = [] {
    crypto::init_sodium();
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 7;
    return crypto::NodeKey::from_seed(seed);
  }();
  return key;
}

void fuzz_handshake(ByteSpan in) {
  HandshakeConfig cfg;
  cfg.our_info.network = "fuzz";
  cfg.our_info.moniker = "fuzz";
  cfg.our_info.listen_addr = "127.0.0.1:26656";
  cfg.our_info.channels = {0};
  Handshake hs(node_key(), cfg);
  hs.start();
  // Split at the first byte's value so both whole and piecewise feeding are explored.
  const std::size_t split = in.empty() ? 0 : in[0] % (in.size() + 1);
  hs.on_receive(in.first(split));
  hs.on_receive(in.subspan(split));
  (void)hs.take_output();
}

void fuzz_frames(ByteSpan in) {
  std::array<std::uint8_t, 32> key{};
  key[31] = 1;
  secret::FrameOpener opener(key);
  Bytes stream;
  std::uint64_t counter = 0;
  // Each frame: 2 bytes of length field, then up to 16 bytes of content (the rest is zero).
  while (in.size() >= 2 && counter < 64) {
    const std::uint32_t len = std::uint32_t(in[0]) << 8 | in[1];
    in = in.subspan(2);
    std::array<std::uint8_t, secret::kTotalFrameSize> frame{};
    put_le32(frame.data(), len);
    const std::size_t take = std::min<std::size_t>(16, in.size());
    std::copy_n(in.begin(), take, frame.begin() + 4);
    in = in.subspan(take);
    std::array<std::uint8_t, 12> nonce{};
    put_le64(nonce.data() + 4, counter++);
    const std::size_t at = stream.size();
    stream.resize(at + secret::kSealedFrameSize);
    crypto::aead_seal(key, nonce, frame, stream.data() + at);
  }
  Bytes plain;
  std::size_t at = 0, step = 1;
  while (at < stream.size()) {
    const std::size_t n = std::min(step, stream.size() - at);
    Status st = opener.open(ByteSpan(stream).subspan(at, n), plain);
    if (!st) break;
    at += n;
    step = step * 7 % 2000 + 1;
  }
  // At most 1024 bytes of data come out of each frame.
  if (plain.size() > counter * secret::kDataMaxSize) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteSpan in(data + 1, size - 1);
  if (data[0] % 2 == 0) fuzz_handshake(in);
  else fuzz_frames(in);
  return 0;
}
