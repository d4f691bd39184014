// Reductions and broadcasting: sum, mean, max, log_softmax, softmax, sum_to, broadcast_to.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <vector>

#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xsort.hpp>

#include "autodiff/broadcast.hpp"
#include "autodiff/internal.hpp"
#include "autodiff/multiversion.hpp"
#include "autodiff/parallel.hpp"

namespace ad {

using detail::Grads;
using detail::constant;
using detail::require_defined;

namespace {

// An empty list of axes is refused (for a tensor with axes): numpy reduces over none of them there and PyTorch
// over all of them, so either reading would surprise someone. sum(a), mean(a), max(a) reduce over everything.
void check_axes(const char* op, const Shape& shape, const std::vector<std::size_t>& axes) {
  if (axes.empty() && !shape.empty())
    detail::fail(op, ": empty list of axes for shape ", shape_str(shape), " (numpy would reduce over none, PyTorch over all; call ",
                 op, "(a) to reduce over every axis)");
  std::vector<bool> seen(shape.size(), false);
  for (auto ax : axes) {
    if (ax >= shape.size()) detail::fail(op, ": axis ", ax, " out of range for shape ", shape_str(shape));
    if (seen[ax]) detail::fail(op, ": axis ", ax, " given twice for shape ", shape_str(shape));
    seen[ax] = true;
  }
}

// The shape with the reduced axes kept as 1.
Shape kept_shape(const Shape& shape, const std::vector<std::size_t>& axes) {
  Shape s = shape;
  for (auto ax : axes) s[ax] = 1;
  return s;
}

Shape reduced_shape(const Shape& shape, const std::vector<std::size_t>& axes, bool keepdim) {
  if (keepdim) return kept_shape(shape, axes);
  Shape s;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) s.push_back(shape[i]);
  return s;
}

std::vector<std::size_t> all_axes(std::size_t n) {
  std::vector<std::size_t> axes(n);
  for (std::size_t i = 0; i < n; ++i) axes[i] = i;
  return axes;
}

// out[j] += in[r][j] for rows r0..r1 of a [rows, cols] array, in row order.
template <class T>
AE_MULTIVERSION void add_rows(const T* __restrict in, std::size_t r0, std::size_t r1, std::size_t cols, T* __restrict out) {
  for (std::size_t r = r0; r < r1; ++r)
    for (std::size_t j = 0; j < cols; ++j) out[j] += in[r * cols + j];
}

template <class T>
xt::xarray<T> sum_axes(const xt::xarray<T>& a, const std::vector<std::size_t>& axes, const Shape& out_shape) {
  xt::xarray<T> v;
  const std::size_t n = a.size();
  if (axes.empty()) {
    v = a;
  } else if (axes.size() == a.dimension()) {  // everything: eight partial sums in double (accurate, and vectorised)
    double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const T* __restrict p = a.data();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (std::size_t k = 0; k < 8; ++k) part[k] += static_cast<double>(p[i + k]);
    for (; i < n; ++i) part[0] += static_cast<double>(p[i]);
    v = xt::xarray<T>::from_shape(out_shape);
    v.data()[0] = static_cast<T>(((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])));
    return v;
  } else if (axes.size() == 1 && axes[0] == 0 && a.dimension() >= 2) {  // over rows (bias gradients)
    // Each block of 64 rows is added up in order, then the blocks' sums in order: the same bits at any thread
    // count, and each thread reads rows that the ops before it wrote on the same core (they split by rows too).
    constexpr std::size_t kBlock = 64;
    const std::size_t rows = a.shape()[0], cols = std::accumulate(a.shape().begin() + 1, a.shape().end(), std::size_t(1),
                                                                   std::multiplies<>());
    const std::size_t blocks = (rows + kBlock - 1) / kBlock;
    std::vector<T> block_sums(blocks * cols, T(0));
    parallel_for(blocks, std::max<std::size_t>(1, (1 << 14) / (kBlock * std::max<std::size_t>(cols, 1))),
                 [&](std::size_t b0, std::size_t b1) {
                   for (std::size_t b = b0; b < b1; ++b)
                     add_rows(a.data(), b * kBlock, std::min(rows, (b + 1) * kBlock), cols, block_sums.data() + b * cols);
                 });
    v = xt::zeros<T>({cols});
    add_rows(block_sums.data(), 0, blocks, cols, v.data());
  } else {  // any other axes: the broadcasting reducer
    Shape kept = to_shape(a.shape());
    for (auto ax : axes) kept[ax] = 1;
    v = detail::reduce_to(a.data(), to_shape(a.shape()), kept);
  }
  v.reshape(out_shape);
  return v;
}

}  // namespace

// Sum over the axes broadcasting added, back to `shape`.
template <class T>
TensorT<T> sum_to(const TensorT<T>& a, const Shape& shape) {
  require_defined("sum_to", a);
  const Shape from = a.shape();
  if (from == shape) return a;
  if (shape.size() > from.size() || detail::broadcast_shapes("sum_to", shape, from) != from)
    detail::fail("sum_to: shape ", shape_str(from), " cannot be summed to ", shape_str(shape));
  xt::xarray<T> v = detail::reduce_to(a, shape);
  return make_result<T>(std::move(v), "sum_to", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {broadcast_to(c.grad, c.inputs[0].shape())};
  });
}

template <class T>
TensorT<T> broadcast_to(const TensorT<T>& a, const Shape& shape) {
  require_defined("broadcast_to", a);
  const Shape from = a.shape();
  if (from == shape) return a;
  if (from.size() > shape.size() || detail::broadcast_shapes("broadcast_to", from, shape) != shape)
    detail::fail("broadcast_to: shape ", shape_str(from), " cannot be broadcast to ", shape_str(shape));
  xt::xarray<T> v = detail::broadcast_copy(a, shape);
  return make_result<T>(std::move(v), "broadcast_to", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {sum_to(c.grad, c.inputs[0].shape())};
  });
}

template <class T>
TensorT<T> sum(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim) {
  require_defined("sum", a);
  const Shape shape = a.shape();
  check_axes("sum", shape, axes);
  xt::xarray<T> v = sum_axes(a.value(), axes, reduced_shape(shape, axes, keepdim));
  return make_result<T>(std::move(v), "sum", {a}, [axes](const BackwardArgs<T>& c) -> Grads<T> {
    const Shape in_shape = c.inputs[0].shape();
    return {broadcast_to(reshape(c.grad, kept_shape(in_shape, axes)), in_shape)};
  });
}

template <class T>
TensorT<T> sum(const TensorT<T>& a) {
  require_defined("sum", a);
  return sum(a, all_axes(a.dim()), false);
}

template <class T>
TensorT<T> mean(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim) {
  require_defined("mean", a);
  check_axes("mean", a.shape(), axes);
  std::size_t n = 1;
  for (auto ax : axes) n *= a.size(ax);
  if (n == 0) detail::fail("mean: no elements to average over axes of shape ", shape_str(a.shape()));
  return mul(sum(a, axes, keepdim), T(1) / static_cast<T>(n));
}

template <class T>
TensorT<T> mean(const TensorT<T>& a) {
  require_defined("mean", a);
  return mean(a, all_axes(a.dim()), false);
}

// The gradient goes to the maxima, split equally between ties.
template <class T>
TensorT<T> max(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim) {
  require_defined("max", a);
  const Shape shape = a.shape();
  check_axes("max", shape, axes);
  if (a.numel() == 0) detail::fail("max: empty tensor of shape ", shape_str(shape));
  xt::xarray<T> m = axes.empty() ? a.value() : xt::xarray<T>(xt::amax(a.value(), axes, xt::evaluation_strategy::immediate));
  m.reshape(kept_shape(shape, axes));
  xt::xarray<T> is_max = xt::cast<T>(xt::equal(a.value(), m));
  xt::xarray<T> ties = sum_axes(is_max, axes, kept_shape(shape, axes));
  xt::xarray<T> share = is_max / ties;
  TensorT<T> weights = constant(std::move(share));
  m.reshape(reduced_shape(shape, axes, keepdim));
  return make_result<T>(std::move(m), "max", {a}, [axes, weights](const BackwardArgs<T>& c) -> Grads<T> {
    const Shape in_shape = c.inputs[0].shape();
    return {mul(broadcast_to(reshape(c.grad, kept_shape(in_shape, axes)), in_shape), weights)};
  });
}

template <class T>
TensorT<T> max(const TensorT<T>& a) {
  require_defined("max", a);
  return max(a, all_axes(a.dim()), false);
}

// log_softmax(a)_i = a_i − log Σ_j e^{a_j}, computed after subtracting the max (no overflow).
// Backward: g − softmax · Σ g, with softmax = e^{output}.
template <class T>
TensorT<T> log_softmax(const TensorT<T>& a, std::size_t axis) {
  require_defined("log_softmax", a);
  const Shape shape = a.shape();
  check_axes("log_softmax", shape, {axis});
  const std::vector<std::size_t> axes{axis};
  xt::xarray<T> m = xt::amax(a.value(), axes, xt::evaluation_strategy::immediate);
  m.reshape(kept_shape(shape, axes));
  xt::xarray<T> shifted = a.value() - m;
  xt::xarray<T> lse = xt::log(sum_axes(xt::xarray<T>(xt::exp(shifted)), axes, kept_shape(shape, axes)));
  xt::xarray<T> v = shifted - lse;
  return make_result<T>(std::move(v), "log_softmax", {a}, [axis](const BackwardArgs<T>& c) -> Grads<T> {
    return {sub(c.grad, mul(exp(c.output), sum(c.grad, {axis}, true)))};
  });
}

template <class T>
TensorT<T> softmax(const TensorT<T>& a, std::size_t axis) {
  return exp(log_softmax(a, axis));
}

#define AD_REDUCE(T)                                                                        \
  template TensorT<T> sum_to(const TensorT<T>&, const Shape&);                              \
  template TensorT<T> broadcast_to(const TensorT<T>&, const Shape&);                        \
  template TensorT<T> sum(const TensorT<T>&);                                               \
  template TensorT<T> sum(const TensorT<T>&, const std::vector<std::size_t>&, bool);        \
  template TensorT<T> mean(const TensorT<T>&);                                              \
  template TensorT<T> mean(const TensorT<T>&, const std::vector<std::size_t>&, bool);       \
  template TensorT<T> max(const TensorT<T>&);                                               \
  template TensorT<T> max(const TensorT<T>&, const std::vector<std::size_t>&, bool);        \
  template TensorT<T> log_softmax(const TensorT<T>&, std::size_t);                          \
  template TensorT<T> softmax(const TensorT<T>&, std::size_t);
AD_INSTANTIATE(AD_REDUCE)

}  // namespace ad
