// Result<T>: a value or an Error, for code on the data path (no exceptions there).
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace seedscope {

// An error: a code from one module's category plus human-readable detail.
struct Error {
  std::error_code code;
  std::string detail;

  // "category: message (detail)".
  std::string message() const {
    std::string m = code.message();
    if (!detail.empty()) m += ": " + detail;
    return m;
  }
};

template <class E> Error make_error(E e, std::string detail = {}) {
  return Error{make_error_code(e), std::move(detail)};
}

template <class T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

} // namespace seedscope
