// Fused loss ops: the reconstruction losses touch every pixel of the batch, and written as a chain of ops
// (sub, square, sum; softplus, mul, sub, sum) each pass allocates and streams a batch-sized array, forward and
// backward. Here each loss is one pass forward and one pass backward.
//
//   Σ (a − b)²                 d/da = 2(a − b),   d/db = −2(a − b)
//   Σ softplus(z) − x z        d/dz = σ(z) − x,   d/dx = −z          (Bernoulli −log p(x|z) with logits z)
//   Σ −[x ℓ₁ + (1 − x) ℓ₀]     d/dp = (p − x)/max(p(1 − p), ε),  d/dx = ℓ₀ − ℓ₁   (ε = 1e-12)
//                              with ℓ₁ = max(log p, −100), ℓ₀ = max(log(1 − p), −100)   (PyTorch's clamps)
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "autodiff/kernels.hpp"

namespace ad {

using detail::Grads;
using detail::require_defined;

namespace {

// Σ f(a_i, b_i) over one block (at most 4096 terms): 16 float lanes of at most 256 terms each, so that the loop
// vectorises, then added in double.
template <class T, class F>
AE_MULTIVERSION double block_sum(const T* __restrict a, const T* __restrict b, std::size_t n, F f) {
  constexpr std::size_t kLanes = 16;
  T lane[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k) lane[k] += f(a[i + k], b[i + k]);
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(f(a[i], b[i]));
  for (std::size_t k = 0; k < kLanes; ++k) total += static_cast<double>(lane[k]);
  return total;
}

// Σ f(a_i, b_i) over blocks of a fixed size, so that the total does not depend on the thread count.
template <class T, class F>
T fused_sum(const T* a, const T* b, std::size_t n, F f) {
  constexpr std::size_t kBlock = 4096;
  std::vector<double> partial((n + kBlock - 1) / kBlock);
  parallel_for(partial.size(), 4, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t k = b0; k < b1; ++k) {
      const std::size_t start = k * kBlock, len = std::min(kBlock, n - start);
      partial[k] = block_sum(a + start, b + start, len, f);
    }
  });
  return static_cast<T>(std::accumulate(partial.begin(), partial.end(), 0.0));
}

template <class T>
xt::xarray<T> scalar_value(T v) {
  return xt::xarray<T>(v);
}

}  // namespace

template <class T>
TensorT<T> sum_squared_error(const TensorT<T>& a, const TensorT<T>& b) {
  detail::require_same_shape("sum_squared_error", a, "first input", b, "second input");
  // BEGIN EXERCISE mse_loss
  const T total = fused_sum(a.data(), b.data(), a.numel(), [](T x, T y) { return (x - y) * (x - y); });
  return make_result<T>(scalar_value(total), "sum_squared_error", {a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const TensorT<T>& a = c.inputs[0];
    const TensorT<T>& b = c.inputs[1];
    TensorT<T> da;
    if (is_grad_enabled()) {  // create_graph: 2(a − b)·g with ops
      da = mul(sub(a, b), mul(c.grad, T(2)));
    } else {
      const T two_g = T(2) * c.grad.item();
      da = TensorT<T>(detail::zip(a, b, [two_g](T x, T y) { return two_g * (x - y); }));
    }
    return {c.needs[0] ? da : TensorT<T>(), c.needs[1] ? neg(da) : TensorT<T>()};
  });
  // END EXERCISE mse_loss
}

template <class T>
TensorT<T> sum_bce_with_logits(const TensorT<T>& z, const TensorT<T>& x) {
  detail::require_same_shape("sum_bce_with_logits", z, "logits", x, "target");
  const T total = fused_sum(z.data(), x.data(), z.numel(), [](T zi, T xi) { return vmath::softplus(zi) - xi * zi; });
  return make_result<T>(scalar_value(total), "sum_bce_with_logits", {z, x}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const TensorT<T>& z = c.inputs[0];
    const TensorT<T>& x = c.inputs[1];
    TensorT<T> dz, dx;
    if (is_grad_enabled()) {  // create_graph: (σ(z) − x)·g and −z·g with ops
      if (c.needs[0]) dz = mul(sub(sigmoid(z), x), c.grad);
      if (c.needs[1]) dx = mul(neg(z), c.grad);
    } else {
      const T g = c.grad.item();
      if (c.needs[0]) dz = TensorT<T>(detail::zip(z, x, [g](T zi, T xi) { return g * (vmath::sigmoid(zi) - xi); }));
      if (c.needs[1]) dx = mul(z, -g);
    }
    return {dz, dx};
  });
}

namespace {
template <class T>
T log_clamped(T v) {  // max(log v, −100)
  return std::max(std::log(v), T(-100));
}
template <class T>
T log1m_clamped(T p) {  // max(log(1 − p), −100)
  return std::max(std::log1p(-p), T(-100));
}
}  // namespace

template <class T>
TensorT<T> sum_binary_cross_entropy(const TensorT<T>& p, const TensorT<T>& x) {
  detail::require_same_shape("sum_binary_cross_entropy", p, "probabilities", x, "target");
  const T* pv = p.data();
  for (std::size_t i = 0; i < p.numel(); ++i)
    if (pv[i] < T(0) || pv[i] > T(1))
      detail::fail("sum_binary_cross_entropy: probability ", pv[i], " at index ", i, " of ", shape_str(p.shape()),
                   " is outside [0, 1] (use bce_with_logits on logits)");
  const T total = fused_sum(p.data(), x.data(), p.numel(),
                            [](T pi, T xi) { return -(xi * log_clamped(pi) + (1 - xi) * log1m_clamped(pi)); });
  return make_result<T>(scalar_value(total), "sum_binary_cross_entropy", {p, x}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const TensorT<T>& p = c.inputs[0];
    const TensorT<T>& x = c.inputs[1];
    const T eps = static_cast<T>(1e-12f);  // PyTorch's EPSILON is the float 1e-12, in float64 too
    TensorT<T> dp, dx;
    if (is_grad_enabled()) {  // create_graph: the same formulas with ops
      if (c.needs[0])
        dp = mul(div(sub(p, x), clamp(mul(p, rsub(T(1), p)), eps, std::numeric_limits<T>::max())), c.grad);
      if (c.needs[1]) {
        const T big = std::numeric_limits<T>::max();
        dx = mul(sub(clamp(log(rsub(T(1), p)), T(-100), big), clamp(log(p), T(-100), big)), c.grad);
      }
    } else {
      const T g = c.grad.item();
      if (c.needs[0])
        dp = TensorT<T>(detail::zip(p, x, [g, eps](T pi, T xi) { return g * (pi - xi) / std::max(pi * (1 - pi), eps); }));
      if (c.needs[1]) dx = TensorT<T>(detail::apply(p, [g](T pi) { return g * (log1m_clamped(pi) - log_clamped(pi)); }));
    }
    return {dp, dx};
  });
}

#define AD_LOSSES(T)                                                              \
  template TensorT<T> sum_squared_error(const TensorT<T>&, const TensorT<T>&);     \
  template TensorT<T> sum_bce_with_logits(const TensorT<T>&, const TensorT<T>&);   \
  template TensorT<T> sum_binary_cross_entropy(const TensorT<T>&, const TensorT<T>&);
AD_INSTANTIATE(AD_LOSSES)

}  // namespace ad
