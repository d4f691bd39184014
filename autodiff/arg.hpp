// Named options, as PyTorch's C++ frontend writes them (its TORCH_ARG): each option is a private field with a
// setter that returns the options, so settings chain and read by name where they are written,
//   ae::AutoencoderOptions().sizes({784, 32}).code(ae::Activation::Identity)
// and a getter of the same name, options.code(). Declared with its default:
//   struct AutoencoderOptions {
//     AE_ARG(std::vector<std::size_t>, sizes) = {784, 32};
//   };
#pragma once

#include <utility>

#define AE_ARG(T, name)                                  \
 public:                                                 \
  auto name(const T& new_##name)->decltype(*this) {      \
    this->name##_ = new_##name;                          \
    return *this;                                        \
  }                                                      \
  const T& name() const noexcept { return this->name##_; } \
                                                         \
 private:                                                \
  T name##_
