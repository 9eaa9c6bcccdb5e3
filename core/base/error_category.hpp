// One std::error_category per module error enum, without a class of its own in every module:
// the module describes its values in a function and names the category.
//   std::string_view describe(AddressError e) { switch (e) { ... } return "unknown ..."; }
//   const std::error_category& address_category() {
//     return enum_category<AddressError>("address", describe);
//   }
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace seedscope {

template <typename E> class EnumErrorCategory final : public std::error_category {
public:
  using Describe = std::string_view (*)(E);
  EnumErrorCategory(const char* name, Describe describe) : name_(name), describe_(describe) {}
  const char* name() const noexcept override { return name_; }
  std::string message(int ev) const override { return std::string(describe_(static_cast<E>(ev))); }

private:
  const char* name_;
  Describe describe_;
};

// The category of E (one object for the program; the first call's name and describe win).
template <typename E>
const std::error_category& enum_category(const char* name,
                                         typename EnumErrorCategory<E>::Describe describe) {
  static const EnumErrorCategory<E> category(name, describe);
  return category;
}

} // namespace seedscope
