#include "crawler/app/node_key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace seedscope::app {

std::string encode_node_key_json(const crypto::NodeKey& key) {
  crypto::init_sodium();
  auto raw = key.tendermint_bytes();
  std::string b64(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), raw.data(), raw.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  sodium_memzero(raw.data(), raw.size());
  // Built by hand to keep Go's key order (type before value).
  return fmt::format(R"({{"priv_key":{{"type":"{}","value":"{}"}}}})", kEd25519PrivKeyType, b64);
}

crypto::NodeKey decode_node_key_json(std::string_view json_text, std::string_view source) {
  crypto::init_sodium();
  auto fail = [&](const std::string& why) -> NodeKeyFileError {
    return NodeKeyFileError(fmt::format("{}: {}", source, why));
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw fail(std::string("malformed JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("priv_key") || !doc["priv_key"].is_object())
    throw fail("expected {\"priv_key\":{\"type\":...,\"value\":...}}");
  const auto& priv = doc["priv_key"];
  if (!priv.contains("type") || !priv["type"].is_string()) throw fail("priv_key.type missing");
  std::string type = priv["type"].get<std::string>();
  if (type != kEd25519PrivKeyType)
    throw fail(
        fmt::format("unsupported key type \"{}\" (expected \"{}\")", type, kEd25519PrivKeyType));
  if (!priv.contains("value") || !priv["value"].is_string()) throw fail("priv_key.value missing");
  std::string b64 = priv["value"].get<std::string>();
  unsigned char raw[64 + 1];
  std::size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_base642bin(raw, sizeof raw, b64.data(), b64.size(), nullptr, &len, &end,
                             sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || end != b64.data() + b64.size())
    throw fail("priv_key.value is not valid base64 of 64 bytes");
  if (len != 64)
    throw fail(fmt::format("priv_key.value holds {} bytes, expected 64 (seed || public key)", len));
  auto key = crypto::NodeKey::from_tendermint_bytes(ByteSpan(raw, 64));
  sodium_memzero(raw, sizeof raw);
  if (!key) throw fail("the public key in priv_key.value does not match its seed");
  return *key;
}

crypto::NodeKey load_node_key(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw NodeKeyFileError(fmt::format("cannot read node key {}", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return decode_node_key_json(ss.str(), file.string());
}

void save_node_key(const std::filesystem::path& file, const crypto::NodeKey& key) {
  std::string text = encode_node_key_json(key);
  // Written whole to a file of our own beside it, synced, then linked to its name: a crash
  // at any point leaves either no node_key.json or a complete one (never a truncated key that
  // every later start refuses), and link() fails, like O_EXCL, when the name exists.
  const std::filesystem::path tmp =
      file.string() + fmt::format(".tmp-{}", static_cast<long>(::getpid()));
  ::unlink(tmp.c_str()); // one left by a crashed process that had our pid
  auto fail = [&](const std::string& what, int err) {
    sodium_memzero(text.data(), text.size());
    ::unlink(tmp.c_str());
    return NodeKeyFileError(fmt::format("{} {}: {}", what, file.string(), std::strerror(err)));
  };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw fail("cannot create", errno);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw fail("cannot write", err);
    }
    off += static_cast<std::size_t>(n);
  }
  int rc = ::fsync(fd);
  int err = errno;
  if (::close(fd) != 0 && rc == 0) {
    rc = -1;
    err = errno;
  }
  if (rc != 0) throw fail("cannot write", err);
  if (::link(tmp.c_str(), file.c_str()) != 0) {
    err = errno;
    if (err == EEXIST) {
      sodium_memzero(text.data(), text.size());
      ::unlink(tmp.c_str());
      throw NodeKeyFileError(
          fmt::format("node key {} already exists; refusing to overwrite it", file.string()));
    }
    throw fail("cannot create", err);
  }
  ::unlink(tmp.c_str());
  // The new name on disk too.
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  sodium_memzero(text.data(), text.size());
}

} // namespace seedscope::app
