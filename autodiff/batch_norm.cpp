// Batch normalisation as one op: the formula written with ops (batch_norm_reference, for reading and for double
// backward), and the same in three passes forward and two backward (batch_norm).
#include <algorithm>
#include <cmath>

#include "autodiff/internal.hpp"
#include "autodiff/multiversion.hpp"

namespace ad {

using detail::Grads;
using detail::require_defined;

template <class T>
TensorT<T> batch_norm_reference(const TensorT<T>& x, const TensorT<T>& gamma, const TensorT<T>& beta, double eps) {
  std::vector<std::size_t> axes{0};
  Shape per_channel{1, x.size(1)};
  for (std::size_t i = 2; i < x.dim(); ++i) {
    axes.push_back(i);
    per_channel.push_back(1);
  }
  const TensorT<T> mu = mean(x, axes, true);
  const TensorT<T> centered = sub(x, mu);
  const TensorT<T> var = mean(square(centered), axes, true);  // biased
  const TensorT<T> x_hat = div(centered, sqrt(add(var, static_cast<T>(eps))));
  return add(mul(x_hat, reshape(gamma, per_channel)), reshape(beta, per_channel));
}

namespace {
constexpr std::size_t kLanes = 16;

// Σ term(j) over the n runs of one channel, run b being the s values j = b·stride + i: each run summed in kLanes
// lanes of T so that the loop vectorises, the lanes carried from run to run in double.
template <class T, class F>
AE_MULTIVERSION double channel_sum(std::size_t n, std::size_t stride, std::size_t s, F term) {
  double carried[kLanes] = {};
  double rest = 0;
  for (std::size_t b = 0; b < n; ++b) {
    const std::size_t o = b * stride;
    T lane[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= s; i += kLanes)
      for (std::size_t k = 0; k < kLanes; ++k) lane[k] += term(o + i + k);
    for (std::size_t k = 0; k < kLanes; ++k) carried[k] += static_cast<double>(lane[k]);
    for (; i < s; ++i) rest += static_cast<double>(term(o + i));
  }
  for (double v : carried) rest += v;
  return rest;
}

// out[j] = value(j) over the same runs.
template <class T, class F>
AE_MULTIVERSION void channel_map(std::size_t n, std::size_t stride, std::size_t s, T* __restrict out, F value) {
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t i = b * stride, end = i + s; i < end; ++i) out[i] = value(i);
}
}  // namespace

// Three passes forward (means, variances, output) and two backward, each split over the threads by channels:
// every channel's sums run in the same order whatever the thread count.
template <class T>
TensorT<T> batch_norm(const TensorT<T>& x, const TensorT<T>& gamma, const TensorT<T>& beta, double eps, std::vector<T>* mean_out,
                      std::vector<T>* var_out) {
  require_defined("batch_norm", x);
  if (x.dim() < 2 || gamma.shape() != Shape{x.size(1)} || beta.shape() != Shape{x.size(1)})
    detail::fail("batch_norm: input ", shape_str(x.shape()), " with weight ", shape_str(gamma.shape()), " and bias ",
                 shape_str(beta.shape()), " (expected [N, C, ...], [C], [C])");
  const std::size_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c), m = n * s;
  if (m < 2) detail::fail("batch_norm: needs more than one value per channel, got ", shape_str(x.shape()));
  const T* px = x.data();
  std::vector<T> mean_t(c), inv(c), var_t(c);
  xt::xarray<T> y = xt::xarray<T>::from_shape(x.value().shape());
  T* py = y.data();
  const std::size_t stride = c * s;  // from one sample's run of a channel to the next sample's
  parallel_for(c, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t ch = c0; ch < c1; ++ch) {
      const T* p = px + ch * s;
      const double mu = channel_sum<T>(n, stride, s, [p](std::size_t j) { return p[j]; }) / static_cast<double>(m);
      const T u = static_cast<T>(mu);
      const double var =  // biased
          channel_sum<T>(n, stride, s, [p, u](std::size_t j) { return (p[j] - u) * (p[j] - u); }) / static_cast<double>(m);
      mean_t[ch] = u;
      var_t[ch] = static_cast<T>(var);
      inv[ch] = static_cast<T>(1.0 / std::sqrt(var + eps));
      const T scale = inv[ch] * gamma.data()[ch], shift = beta.data()[ch] - u * scale;
      channel_map(n, stride, s, py + ch * s, [p, scale, shift](std::size_t j) { return p[j] * scale + shift; });
    }
  });
  if (mean_out) *mean_out = mean_t;
  if (var_out) *var_out = var_t;
  return make_result<T>(std::move(y), "batch_norm", {x, gamma, beta}, [eps, mean_t, inv](const BackwardArgs<T>& a) -> Grads<T> {
    if (is_grad_enabled()) {  // create_graph: differentiate the readable formula, so the gradient is differentiable too
      const TensorT<T> ref = batch_norm_reference(a.inputs[0], a.inputs[1], a.inputs[2], eps);
      return grad(ref, {a.inputs[0], a.inputs[1], a.inputs[2]}, a.grad, false, true);
    }
    // dβ = Σ g,  dγ = Σ g x̂,  dx = γ/σ · (g − dβ/M − x̂ dγ/M)
    const TensorT<T>& x = a.inputs[0];
    const std::size_t n = x.size(0), c = x.size(1), s = x.numel() / (n * c);
    const T mT = static_cast<T>(n * s);
    const T* px = x.data();
    const T* pg = a.grad.data();
    const T* gamma = a.inputs[1].data();
    std::vector<T> dbeta(c), dgamma(c);
    xt::xarray<T> out;
    if (a.needs[0]) out = xt::xarray<T>::from_shape(x.value().shape());
    const std::size_t stride = c * s;
    parallel_for(c, 1, [&](std::size_t c0, std::size_t c1) {
      for (std::size_t ch = c0; ch < c1; ++ch) {
        const T u = mean_t[ch], iv = inv[ch];
        const T* p = px + ch * s;
        const T* g = pg + ch * s;
        dbeta[ch] = static_cast<T>(channel_sum<T>(n, stride, s, [g](std::size_t j) { return g[j]; }));
        dgamma[ch] = static_cast<T>(channel_sum<T>(n, stride, s, [p, g, u, iv](std::size_t j) { return g[j] * (p[j] - u) * iv; }));
        if (!a.needs[0]) continue;
        const T k = gamma[ch] * iv, mb = dbeta[ch] / mT, mg = dgamma[ch] / mT;
        channel_map(n, stride, s, out.data() + ch * s,
                    [p, g, u, iv, k, mb, mg](std::size_t j) { return k * (g[j] - mb - (p[j] - u) * iv * mg); });
      }
    });
    auto vector_tensor = [c](const std::vector<T>& v) {
      xt::xarray<T> t = xt::xarray<T>::from_shape({c});
      std::copy(v.begin(), v.end(), t.data());
      return TensorT<T>(std::move(t));
    };
    return {a.needs[0] ? TensorT<T>(std::move(out)) : TensorT<T>(), a.needs[1] ? vector_tensor(dgamma) : TensorT<T>(),
            a.needs[2] ? vector_tensor(dbeta) : TensorT<T>()};
  });
}

#define AD_BATCH_NORM(T)                                                                                                 \
  template TensorT<T> batch_norm(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&, double, std::vector<T>*, std::vector<T>*); \
  template TensorT<T> batch_norm_reference(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&, double);
AD_INSTANTIATE(AD_BATCH_NORM)

}  // namespace ad
