// Elementwise loops shared by the op implementations (internal): plain loops over contiguous arrays, built for
// AVX-512, AVX2 and baseline x86-64 (AE_MULTIVERSION, picked at run time) so that GCC vectorises them, arithmetic
// and vmath::exp/log alike; split over the library's threads.
#pragma once

#include "autodiff/internal.hpp"
#include "autodiff/vmath.hpp"

namespace ad::detail {

template <class T, class F>
AE_MULTIVERSION void apply_loop(const T* __restrict in, T* __restrict out, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

template <class T, class F>
AE_MULTIVERSION void zip_loop(const T* __restrict a, const T* __restrict b, T* __restrict out, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

// out[i] = f(a[i]).
template <class T, class F>
xt::xarray<T> apply(const TensorT<T>& a, F f) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(a.value().shape());
  const T* pa = a.data();
  T* o = out.data();
  parallel_elements(out.size(), [&](std::size_t s, std::size_t e) { apply_loop(pa + s, o + s, e - s, f); });
  return out;
}

// out[i] = f(a[i], b[i]) for two arrays of the same size (the caller checks the shapes).
template <class T, class F>
xt::xarray<T> zip(const TensorT<T>& a, const TensorT<T>& b, F f) {
  xt::xarray<T> out = xt::xarray<T>::from_shape(a.value().shape());
  const T* pa = a.data();
  const T* pb = b.data();
  T* o = out.data();
  parallel_elements(out.size(), [&](std::size_t s, std::size_t e) { zip_loop(pa + s, pb + s, o + s, e - s, f); });
  return out;
}

}  // namespace ad::detail
