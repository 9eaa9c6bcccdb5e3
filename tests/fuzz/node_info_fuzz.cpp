// Fuzz target: the DefaultNodeInfo decoder, validation and compatibility check.
// Anything may fail to decode or validate; what decodes must survive encode -> decode
// unchanged, and encoding must be stable (encode(decode(encode(x))) == encode(x)).
#include <cstdint>
#include <cstdlib>

#include "core/types/node_info.hpp"

using namespace seedscope;

namespace {

#define FUZZ_INVARIANT(cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) std::abort();                                                                     \
  } while (0)

const NodeInfo& ours() {
  static const NodeInfo info = [] {
    NodeInfo i;
    i.node_id = "2ff3a0b78e2c741f6d9cede791ebeb58cecf02fa";
    i.listen_addr = "tcp://0.0.0.0:26656";
    i.network = "testing";
    i.moniker = "fuzz";
    i.channels = {0x00};
    return i;
  }();
  return info;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = decode_node_info(ByteSpan(data, size));
  if (!decoded.ok()) {
    FUZZ_INVARIANT(decoded.error().code == NodeInfoError::kDecode);
    return 0;
  }
  const NodeInfo& info = *decoded;
  const Bytes encoded = encode_node_info(info);
  auto again = decode_node_info(encoded);
  FUZZ_INVARIANT(again.ok());
  FUZZ_INVARIANT(*again == info);
  FUZZ_INVARIANT(encode_node_info(*again) == encoded);

  Status valid = validate_node_info(info);
  FUZZ_INVARIANT(valid.ok() || valid.error().code == NodeInfoError::kInvalid);
  if (!valid.ok()) (void)valid.error().message();
  Status compat = check_compatible(ours(), info);
  if (!compat.ok()) (void)compat.error().message();
  return 0;
}
