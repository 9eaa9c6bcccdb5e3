// node_key.json in Tendermint's exact format (p2p/key.go @ v0.34, LoadNodeKey / SaveAs):
// {"priv_key":{"type":"tendermint/PrivKeyEd25519","value":"<base64 of seed || public key>"}}
// so an operator can reuse an existing node's identity. Start-up code: errors are exceptions.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/crypto/keys.hpp"

namespace seedscope::app {

class NodeKeyFileError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

constexpr std::string_view kEd25519PrivKeyType = "tendermint/PrivKeyEd25519";

// The JSON text (compact, as Go's tmjson.Marshal writes it).
std::string encode_node_key_json(const crypto::NodeKey& key);
// Parses the JSON text; `source` names it in error messages.
crypto::NodeKey decode_node_key_json(std::string_view json_text, std::string_view source);

crypto::NodeKey load_node_key(const std::filesystem::path& file);
// Creates `file` with mode 0600, atomically (a crash leaves no file or a whole one); refuses
// (NodeKeyFileError) if it already exists.
void save_node_key(const std::filesystem::path& file, const crypto::NodeKey& key);

} // namespace seedscope::app
