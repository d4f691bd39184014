// Helpers shared by the op implementations (not part of the public API).
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/ops.hpp"
#include "autodiff/parallel.hpp"

namespace ad::detail {

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw Error(os.str());
}

template <class T>
void require_defined(const char* op, const TensorT<T>& t, const char* what = "input") {
  if (!t.defined()) fail(op, ": ", what, " is an undefined tensor");
}

// Both defined and of the same shape (ops that do not broadcast), or an error naming the op, both roles and shapes.
template <class T>
void require_same_shape(const char* op, const TensorT<T>& a, const char* what_a, const TensorT<T>& b, const char* what_b) {
  require_defined(op, a, what_a);
  require_defined(op, b, what_b);
  if (a.shape() != b.shape())
    fail(op, ": ", what_a, " ", shape_str(a.shape()), " and ", what_b, " ", shape_str(b.shape()), " differ");
}

// NumPy broadcasting of two shapes, or an error naming the op and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// A constant tensor (no gradient) from an evaluated array.
template <class T>
TensorT<T> constant(xt::xarray<T>&& v) {
  return TensorT<T>(std::move(v), false);
}

// t itself when it needs no gradient, else a detached copy: masks are constants in backward.
template <class T>
TensorT<T> as_constant(const TensorT<T>& t) {
  return t.requires_grad() ? t.detach() : t;
}

template <class T>
using Grads = std::vector<TensorT<T>>;

// Elementwise kernels over n items: split over the threads when there are at least 2 × 4 K of them (below
// that a hand-off costs more than it saves). Chunks start on 64-byte boundaries.
template <class Body>
void parallel_elements(std::size_t n, Body&& body) {
  constexpr std::size_t kGrain = 1 << 12, kAlign = 16;
  parallel_for(n, kGrain, body, kAlign);
}

}  // namespace ad::detail

// Explicit instantiation for the two precisions.
#define AD_INSTANTIATE(MACRO) \
  MACRO(float)                \
  MACRO(double)
