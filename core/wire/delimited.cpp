#include "core/wire/delimited.hpp"

#include <climits>
#include <string>

#include "core/base/error_category.hpp"
#include "core/wire/varint.hpp"

namespace seedscope::wire {

namespace {

std::string_view describe(WireError e) {
  switch (e) {
  case WireError::kVarintOverflow: return "length prefix is not a valid uvarint";
  case WireError::kMessageTooLarge: return "message length above the maximum";
  case WireError::kDecode: return "message body does not decode";
  }
  return "unknown wire error";
}

// Compact once the consumed prefix is both large in absolute terms and at least half the
// buffer, so each byte is moved O(1) times on average and memory stays near what is unread.
constexpr std::size_t kCompactThreshold = 4096;

} // namespace

const std::error_category& wire_category() { return enum_category<WireError>("wire", describe); }

std::error_code make_error_code(WireError e) { return {static_cast<int>(e), wire_category()}; }

void DelimitedReader::feed(ByteSpan data) {
  if (error_) return; // nothing more will be read; do not grow
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= kCompactThreshold && pos_ * 2 >= buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  append(buf_, data);
}

Result<std::optional<Bytes>> DelimitedReader::next() {
  if (error_) return *error_;
  const ByteSpan unread = ByteSpan(buf_).subspan(pos_);
  const VarintDecode len = get_uvarint(unread);
  if (len.status == VarintStatus::kNeedMore) return std::optional<Bytes>{};
  if (len.status == VarintStatus::kOverflow) {
    error_ = make_error(WireError::kVarintOverflow);
    return *error_;
  }
  if (len.value > max_size_) {
    error_ = make_error(WireError::kMessageTooLarge,
                        std::to_string(len.value) + " > " + std::to_string(max_size_) + " bytes");
    return *error_;
  }
  const std::size_t body_size = static_cast<std::size_t>(len.value);
  if (unread.size() - len.consumed < body_size) return std::optional<Bytes>{};
  const ByteSpan body = unread.subspan(len.consumed, body_size);
  Bytes out(body.begin(), body.end());
  pos_ += len.consumed + body_size;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return std::optional<Bytes>{std::move(out)};
}

Bytes DelimitedReader::take_remaining() {
  Bytes rest(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), buf_.end());
  buf_.clear();
  pos_ = 0;
  return rest;
}

void write_delimited(Bytes& out, ByteSpan body) {
  put_uvarint(out, body.size());
  append(out, body);
}

void write_delimited(Bytes& out, const google::protobuf::MessageLite& msg) {
  const std::size_t size = msg.ByteSizeLong();
  put_uvarint(out, size);
  const std::size_t start = out.size();
  out.resize(start + size);
  if (size > 0) msg.SerializeWithCachedSizesToArray(out.data() + start);
}

Status parse_message(ByteSpan body, google::protobuf::MessageLite& msg) {
  if (body.size() > static_cast<std::size_t>(INT_MAX)) {
    return make_error(WireError::kDecode, "body too large to parse");
  }
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* data = body.empty() ? &kEmpty : body.data();
  if (!msg.ParseFromArray(data, static_cast<int>(body.size()))) {
    return make_error(WireError::kDecode, msg.GetTypeName());
  }
  return ok_status();
}

} // namespace seedscope::wire
