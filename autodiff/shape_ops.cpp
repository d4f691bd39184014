// Shape ops: permute/transpose, reshape, flatten, row gather, slice, concat.
// Each one's backward is its adjoint, itself an op (permute ↔ inverse permute, index_select ↔ index_add,
// slice ↔ unslice).
#include <algorithm>
#include <cstring>
#include <numeric>

#include <xtensor/xmanipulation.hpp>

#include "autodiff/internal.hpp"

namespace ad {

using detail::Grads;
using detail::constant;
using detail::require_defined;

namespace {

std::size_t product(const Shape& s, std::size_t from, std::size_t to) {
  std::size_t n = 1;
  for (std::size_t i = from; i < to; ++i) n *= s[i];
  return n;
}

template <class T>
TensorT<T> permute_as(const char* op, const TensorT<T>& a, const std::vector<std::size_t>& axes) {
  require_defined(op, a);
  const Shape shape = a.shape();
  std::vector<std::size_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(shape.size());
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity) {
    Shape given(axes.begin(), axes.end());
    detail::fail(op, ": axes ", shape_str(given), " are not a permutation of the axes of ", shape_str(shape));
  }
  xt::xarray<T> v = xt::transpose(a.value(), axes);
  std::vector<std::size_t> inverse(axes.size());
  for (std::size_t i = 0; i < axes.size(); ++i) inverse[axes[i]] = i;
  return make_result<T>(std::move(v), op, {a},
                        [inverse](const BackwardArgs<T>& c) -> Grads<T> { return {permute(c.grad, inverse)}; });
}

}  // namespace

template <class T>
TensorT<T> permute(const TensorT<T>& a, const std::vector<std::size_t>& axes) {
  return permute_as("permute", a, axes);
}

template <class T>
TensorT<T> transpose(const TensorT<T>& a) {
  require_defined("transpose", a);
  if (a.dim() != 2) detail::fail("transpose: expects a 2-D tensor, got ", shape_str(a.shape()));
  return permute_as("transpose", a, {1, 0});
}

template <class T>
TensorT<T> reshape(const TensorT<T>& a, const Shape& shape) {
  require_defined("reshape", a);
  if (shape_numel(shape) != a.numel())
    detail::fail("reshape: cannot reshape ", shape_str(a.shape()), " (", a.numel(), " elements) to ", shape_str(shape),
                 " (", shape_numel(shape), " elements)");
  if (a.shape() == shape) return a;
  xt::xarray<T> v = xt::xarray<T>::from_shape(shape);  // the values, copied by the threads
  const T* src = a.data();
  T* dst = v.data();
  detail::parallel_elements(v.size(), [&](std::size_t b, std::size_t e) { std::copy(src + b, src + e, dst + b); });
  return make_result<T>(std::move(v), "reshape", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {reshape(c.grad, c.inputs[0].shape())};
  });
}

template <class T>
TensorT<T> flatten(const TensorT<T>& a, std::size_t start_axis) {
  require_defined("flatten", a);
  const Shape s = a.shape();
  if (start_axis >= s.size()) detail::fail("flatten: start axis ", start_axis, " out of range for shape ", shape_str(s));
  Shape out(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(start_axis));
  out.push_back(product(s, start_axis, s.size()));
  return reshape(a, out);
}

template <class T>
TensorT<T> index_select(const TensorT<T>& a, const std::vector<std::size_t>& indices) {
  require_defined("index_select", a);
  const Shape s = a.shape();
  if (s.empty()) detail::fail("index_select: needs at least one axis, got a scalar");
  const std::size_t row = product(s, 1, s.size());
  for (auto i : indices)
    if (i >= s[0]) detail::fail("index_select: index ", i, " out of range for axis 0 of ", shape_str(s));
  Shape out = s;
  out[0] = indices.size();
  xt::xarray<T> v = xt::xarray<T>::from_shape(out);
  const T* src = a.data();
  T* dst = v.data();
  for (std::size_t r = 0; r < indices.size(); ++r) std::memcpy(dst + r * row, src + indices[r] * row, row * sizeof(T));
  return make_result<T>(std::move(v), "index_select", {a}, [indices](const BackwardArgs<T>& c) -> Grads<T> {
    return {index_add(c.inputs[0].shape(), indices, c.grad)};
  });
}

template <class T>
TensorT<T> index_add(const Shape& shape, const std::vector<std::size_t>& indices, const TensorT<T>& src) {
  require_defined("index_add", src);
  Shape expected = shape;
  if (!expected.empty()) expected[0] = indices.size();
  if (shape.empty() || src.shape() != expected)
    detail::fail("index_add: source ", shape_str(src.shape()), " does not match ", indices.size(), " rows of ",
                 shape_str(shape));
  const std::size_t row = product(shape, 1, shape.size());
  xt::xarray<T> v = xt::zeros<T>(shape);
  const T* in = src.data();
  T* out = v.data();
  for (std::size_t r = 0; r < indices.size(); ++r) {
    if (indices[r] >= shape[0]) detail::fail("index_add: index ", indices[r], " out of range for axis 0 of ", shape_str(shape));
    T* dst = out + indices[r] * row;
    const T* s = in + r * row;
    for (std::size_t j = 0; j < row; ++j) dst[j] += s[j];
  }
  return make_result<T>(std::move(v), "index_add", {src}, [indices](const BackwardArgs<T>& c) -> Grads<T> {
    return {index_select(c.grad, indices)};
  });
}

template <class T>
TensorT<T> slice(const TensorT<T>& a, std::size_t axis, std::size_t start, std::size_t end) {
  require_defined("slice", a);
  const Shape s = a.shape();
  if (axis >= s.size()) detail::fail("slice: axis ", axis, " out of range for shape ", shape_str(s));
  if (start >= end || end > s[axis])
    detail::fail("slice: range [", start, ",", end, ") is empty or outside axis ", axis, " of ", shape_str(s));
  const std::size_t outer = product(s, 0, axis), inner = product(s, axis + 1, s.size());
  const std::size_t len = end - start;
  Shape out = s;
  out[axis] = len;
  xt::xarray<T> v = xt::xarray<T>::from_shape(out);
  for (std::size_t o = 0; o < outer; ++o)
    std::memcpy(v.data() + o * len * inner, a.data() + (o * s[axis] + start) * inner, len * inner * sizeof(T));
  return make_result<T>(std::move(v), "slice", {a}, [axis, start](const BackwardArgs<T>& c) -> Grads<T> {
    return {unslice(c.grad, c.inputs[0].shape(), axis, start)};
  });
}

template <class T>
TensorT<T> unslice(const TensorT<T>& src, const Shape& shape, std::size_t axis, std::size_t start) {
  require_defined("unslice", src);
  const Shape s = src.shape();
  bool ok = axis < shape.size() && s.size() == shape.size() && start + s[axis] <= shape[axis];
  for (std::size_t i = 0; ok && i < s.size(); ++i) ok = i == axis || s[i] == shape[i];
  if (!ok)
    detail::fail("unslice: source ", shape_str(s), " does not fit in ", shape_str(shape), " at ", start, " along axis ",
                 axis);
  const std::size_t outer = product(shape, 0, axis), inner = product(shape, axis + 1, shape.size());
  const std::size_t len = s[axis];
  xt::xarray<T> v = xt::zeros<T>(shape);
  for (std::size_t o = 0; o < outer; ++o)
    std::memcpy(v.data() + (o * shape[axis] + start) * inner, src.data() + o * len * inner, len * inner * sizeof(T));
  return make_result<T>(std::move(v), "unslice", {src}, [axis, start](const BackwardArgs<T>& c) -> Grads<T> {
    const std::size_t len = c.inputs[0].size(axis);
    return {slice(c.grad, axis, start, start + len)};
  });
}

template <class T>
TensorT<T> concat(const std::vector<TensorT<T>>& parts, std::size_t axis) {
  if (parts.empty()) detail::fail("concat: no tensors given");
  for (std::size_t i = 0; i < parts.size(); ++i) require_defined("concat", parts[i]);
  const Shape first = parts[0].shape();
  if (axis >= first.size()) detail::fail("concat: axis ", axis, " out of range for shape ", shape_str(first));
  Shape out = first;
  out[axis] = 0;
  for (const auto& p : parts) {
    const Shape s = p.shape();
    bool ok = s.size() == first.size();
    for (std::size_t i = 0; ok && i < s.size(); ++i) ok = i == axis || s[i] == first[i];
    if (!ok) detail::fail("concat: shapes ", shape_str(first), " and ", shape_str(s), " differ outside axis ", axis);
    out[axis] += s[axis];
  }
  const std::size_t outer = product(out, 0, axis), inner = product(out, axis + 1, out.size());
  xt::xarray<T> v = xt::xarray<T>::from_shape(out);
  std::vector<std::size_t> offsets;
  std::size_t offset = 0;
  for (const auto& p : parts) {
    const std::size_t len = p.size(axis);
    for (std::size_t o = 0; o < outer; ++o)
      std::memcpy(v.data() + (o * out[axis] + offset) * inner, p.data() + o * len * inner, len * inner * sizeof(T));
    offsets.push_back(offset);
    offset += len;
  }
  return make_result<T>(std::move(v), "concat", parts, [axis, offsets](const BackwardArgs<T>& c) -> Grads<T> {
    Grads<T> g(c.inputs.size());
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
      if (c.needs[i]) g[i] = slice(c.grad, axis, offsets[i], offsets[i] + c.inputs[i].size(axis));
    return g;
  });
}

#define AD_SHAPE_OPS(T)                                                                            \
  template TensorT<T> permute(const TensorT<T>&, const std::vector<std::size_t>&);                 \
  template TensorT<T> transpose(const TensorT<T>&);                                                \
  template TensorT<T> reshape(const TensorT<T>&, const Shape&);                                    \
  template TensorT<T> flatten(const TensorT<T>&, std::size_t);                                     \
  template TensorT<T> index_select(const TensorT<T>&, const std::vector<std::size_t>&);            \
  template TensorT<T> index_add(const Shape&, const std::vector<std::size_t>&, const TensorT<T>&); \
  template TensorT<T> slice(const TensorT<T>&, std::size_t, std::size_t, std::size_t);             \
  template TensorT<T> unslice(const TensorT<T>&, const Shape&, std::size_t, std::size_t);          \
  template TensorT<T> concat(const std::vector<TensorT<T>>&, std::size_t);
AD_INSTANTIATE(AD_SHAPE_OPS)

}  // namespace ad
