// Length-delimited messages ("protoio"): uvarint length, then the body. The reader is an
// incremental unframer: it accepts input split anywhere and rejects an over-long length
// before the body arrives. Decoding the body is the caller's business.
#pragma once

#include <optional>
#include <system_error>

#include <google/protobuf/message_lite.h>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace seedscope::wire {

enum class WireError {
  kVarintOverflow = 1, // length prefix is not a valid uvarint
  kMessageTooLarge,    // length prefix above the reader's maximum
  kDecode,             // body is not the expected protobuf message
};
const std::error_category& wire_category();
std::error_code make_error_code(WireError e);

class DelimitedReader {
public:
  explicit DelimitedReader(std::size_t max_size) : max_size_(max_size) {}

  void set_max_size(std::size_t max_size) { max_size_ = max_size; }
  void feed(ByteSpan data);

  // The next whole message body; nullopt while more input is needed. Errors are sticky.
  Result<std::optional<Bytes>> next();

  // Bytes fed but not yet returned as a message (handed to the next layer after a handshake).
  Bytes take_remaining();
  std::size_t buffered() const { return buf_.size() - pos_; }

private:
  std::size_t max_size_;
  Bytes buf_;
  std::size_t pos_ = 0;
  std::optional<Error> error_;
};

// Appends uvarint(len) || body.
void write_delimited(Bytes& out, ByteSpan body);
// Serializes `msg` and appends it delimited.
void write_delimited(Bytes& out, const google::protobuf::MessageLite& msg);
// Parses `body` into `msg`; WireError::kDecode on failure.
Status parse_message(ByteSpan body, google::protobuf::MessageLite& msg);

} // namespace seedscope::wire

namespace std {
template <> struct is_error_code_enum<seedscope::wire::WireError> : true_type {};
} // namespace std
