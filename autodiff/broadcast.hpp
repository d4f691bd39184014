// Broadcasting loops that stay fast for the shapes training meets ([N,C,H,W] with [1,C,1,1], [N,F] with [F]):
// adjacent axes that broadcast alike are merged, so the innermost loop runs over contiguous memory with each
// operand's stride 0 or 1. Internal to the op implementations.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "autodiff/internal.hpp"

namespace ad::detail {

// Strides (in elements) of a row-major array of shape `s` seen inside the broadcast shape `out` (0 where broadcast).
inline std::vector<std::ptrdiff_t> broadcast_strides(const Shape& s, const Shape& out) {
  std::vector<std::ptrdiff_t> st(out.size(), 0);
  std::ptrdiff_t step = 1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::size_t ax = s.size() - 1 - i, oax = out.size() - 1 - i;
    st[oax] = s[ax] == 1 ? 0 : step;
    step *= static_cast<std::ptrdiff_t>(s[ax]);
  }
  return st;
}

// Merges adjacent axes where every operand's strides chain (stride[i] == stride[i+1]·size[i+1]).
template <std::size_t K>
void collapse(Shape& out, std::array<std::vector<std::ptrdiff_t>, K>& st) {
  Shape o;
  std::array<std::vector<std::ptrdiff_t>, K> s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;  // size-1 axes carry nothing
    bool merge = !o.empty();
    for (std::size_t k = 0; merge && k < K; ++k) merge = s[k].back() == st[k][i] * static_cast<std::ptrdiff_t>(out[i]);
    if (merge) {
      o.back() *= out[i];
      for (std::size_t k = 0; k < K; ++k) s[k].back() = st[k][i];
    } else {
      o.push_back(out[i]);
      for (std::size_t k = 0; k < K; ++k) s[k].push_back(st[k][i]);
    }
  }
  if (o.empty()) {
    o.push_back(1);
    for (std::size_t k = 0; k < K; ++k) s[k].push_back(0);
  }
  out = o;
  st = s;
}

// Calls body(offset_0, ..., offset_{K−1}, inner_strides, n) for every run of the innermost merged axis.
template <std::size_t K, class Body>
void for_each_run(const Shape& out, const std::array<std::vector<std::ptrdiff_t>, K>& st, Body body) {
  const std::size_t d = out.size(), n = out.back();
  std::array<std::ptrdiff_t, K> inner{};
  for (std::size_t k = 0; k < K; ++k) inner[k] = st[k].back();
  std::vector<std::size_t> idx(d, 0);
  std::array<std::ptrdiff_t, K> off{};
  while (true) {
    body(off, inner, n);
    std::size_t ax = d - 1;
    while (ax-- > 0) {  // odometer over the outer axes
      ++idx[ax];
      for (std::size_t k = 0; k < K; ++k) off[k] += st[k][ax];
      if (idx[ax] < out[ax]) break;
      for (std::size_t k = 0; k < K; ++k) off[k] -= st[k][ax] * static_cast<std::ptrdiff_t>(out[ax]);
      idx[ax] = 0;
      if (ax == 0) return;
    }
    if (d == 1) return;
  }
}

// out = f(a, b) elementwise with NumPy broadcasting to `shape`.
template <class T, class F>
xt::xarray<T> broadcast_binary(const TensorT<T>& a, const TensorT<T>& b, const Shape& shape, F f) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  if (out.size() == 0) return out;
  const T* pa = a.data();
  const T* pb = b.data();
  T* po = out.data();
  if (a.numel() == out.size() && b.numel() == out.size()) {  // same shape: one flat loop
    parallel_elements(out.size(), [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) po[i] = f(pa[i], pb[i]);
    });
    return out;
  }
  Shape o = shape;
  std::array<std::vector<std::ptrdiff_t>, 3> st{broadcast_strides(a.shape(), shape), broadcast_strides(b.shape(), shape),
                                               broadcast_strides(shape, shape)};
  collapse(o, st);
  // Split over the threads along the outermost axis (the batch, usually) when there is one and work enough.
  const bool split = o.size() >= 2 && out.size() >= 2 * (1u << 14);
  parallel_for(split ? o[0] : 1, 1, [&](std::size_t i0, std::size_t i1) {
    Shape part = o;
    if (split) part[0] = i1 - i0;
    const std::ptrdiff_t first = split ? static_cast<std::ptrdiff_t>(i0) : 0;
    for_each_run<3>(part, st, [&](const std::array<std::ptrdiff_t, 3>& off, const std::array<std::ptrdiff_t, 3>& in, std::size_t n) {
      const T* x = pa + off[0] + first * st[0][0];
      const T* y = pb + off[1] + first * st[1][0];
      T* z = po + off[2] + first * st[2][0];
      if (in[0] == 1 && in[1] == 1)
        for (std::size_t i = 0; i < n; ++i) z[i] = f(x[i], y[i]);
      else if (in[0] == 1 && in[1] == 0) {
        const T yv = *y;
        for (std::size_t i = 0; i < n; ++i) z[i] = f(x[i], yv);
      } else if (in[0] == 0 && in[1] == 1) {
        const T xv = *x;
        for (std::size_t i = 0; i < n; ++i) z[i] = f(xv, y[i]);
      } else
        for (std::size_t i = 0; i < n; ++i) z[i] = f(x[i * in[0]], y[i * in[1]]);
    });
  });
  return out;
}

// Copies `a` broadcast to `shape`.
template <class T>
xt::xarray<T> broadcast_copy(const TensorT<T>& a, const Shape& shape) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(shape);
  if (out.size() == 0) return out;
  Shape o = shape;
  std::array<std::vector<std::ptrdiff_t>, 2> st{broadcast_strides(a.shape(), shape), broadcast_strides(shape, shape)};
  collapse(o, st);
  const T* pa = a.data();
  T* po = out.data();
  if (a.numel() == 1) {  // a scalar spread out (the backward of sum and mean)
    parallel_elements(out.size(), [&](std::size_t begin, std::size_t end) { std::fill(po + begin, po + end, *pa); });
    return out;
  }
  for_each_run<2>(o, st, [&](const std::array<std::ptrdiff_t, 2>& off, const std::array<std::ptrdiff_t, 2>& in, std::size_t n) {
    if (in[0] == 0) std::fill(po + off[1], po + off[1] + n, pa[off[0]]);
    else std::copy(pa + off[0], pa + off[0] + n, po + off[1]);
  });
  return out;
}

// Sums the row-major array `pa` of shape `from` down to `to`, which broadcasts to `from` (the adjoint of
// broadcast_copy). Split over the threads along the outermost axis the result keeps (the channels of a
// convolution's bias gradient, [N,C,H,W] → [1,C,1,1]): each output element is still summed by one thread in the
// same order, so the bits do not depend on the thread count.
template <class T>
xt::xarray<T> reduce_to(const T* pa, const Shape& from, const Shape& to) {
  xt::xarray<T> out = xt::zeros<T>(to);
  Shape o = from;
  std::array<std::vector<std::ptrdiff_t>, 2> st{broadcast_strides(from, from), broadcast_strides(to, from)};
  collapse(o, st);
  T* po = out.data();
  std::size_t axis = 0;  // the outermost axis along which the output varies
  while (axis + 1 < o.size() && st[1][axis] == 0) ++axis;
  const bool split = st[1][axis] != 0 && o[axis] >= 2 && shape_numel(from) >= (1u << 15);
  parallel_for(split ? o[axis] : 1, 1, [&](std::size_t i0, std::size_t i1) {
    Shape part = o;
    if (split) part[axis] = i1 - i0;
    const std::ptrdiff_t first = split ? static_cast<std::ptrdiff_t>(i0) : 0;
    for_each_run<2>(part, st, [&](const std::array<std::ptrdiff_t, 2>& off, const std::array<std::ptrdiff_t, 2>& in, std::size_t n) {
      const T* x = pa + off[0] + first * st[0][axis];
      T* z = po + off[1] + first * st[1][axis];
      if (in[1] == 0) {  // the run collapses into one output element: four partial sums in double
        double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        std::size_t i = 0;
        for (; i + 4 <= n; i += 4) {
          p0 += static_cast<double>(x[i]);
          p1 += static_cast<double>(x[i + 1]);
          p2 += static_cast<double>(x[i + 2]);
          p3 += static_cast<double>(x[i + 3]);
        }
        for (; i < n; ++i) p0 += static_cast<double>(x[i]);
        *z += static_cast<T>((p0 + p1) + (p2 + p3));
      } else {
        for (std::size_t i = 0; i < n; ++i) z[i] += x[i];
      }
    });
  });
  return out;
}

template <class T>
xt::xarray<T> reduce_to(const TensorT<T>& a, const Shape& to) {
  return reduce_to(a.data(), a.shape(), to);
}

}  // namespace ad::detail
