// Batch normalisation as one op: the formula written with ops (batch_norm_reference, for reading and for double
// backward), and the same in three passes forward and two backward (batch_norm).
#include <algorithm>
#include <cmath>

#include "autodiff/internal.hpp"

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
// Sums over one contiguous run of a channel (H·W values) in eight lanes of T, so that the loops vectorise;
// runs are short (at most a few thousand values), then the totals are added in double.
template <class T, class F>
double lane_sum(std::size_t n, F term) {
  T lane[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t k = 0; k < 8; ++k) lane[k] += term(i + k);
  double total = 0;
  for (; i < n; ++i) total += static_cast<double>(term(i));
  for (T v : lane) total += static_cast<double>(v);
  return total;
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
  parallel_for(c, 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t ch = c0; ch < c1; ++ch) {
      double mu = 0, var = 0;
      for (std::size_t b = 0; b < n; ++b) {
        const T* p = px + (b * c + ch) * s;
        mu += lane_sum<T>(s, [p](std::size_t i) { return p[i]; });
      }
      mu /= static_cast<double>(m);
      const T u = static_cast<T>(mu);
      for (std::size_t b = 0; b < n; ++b) {
        const T* p = px + (b * c + ch) * s;
        var += lane_sum<T>(s, [p, u](std::size_t i) { return (p[i] - u) * (p[i] - u); });
      }
      var /= static_cast<double>(m);  // biased
      mean_t[ch] = u;
      var_t[ch] = static_cast<T>(var);
      inv[ch] = static_cast<T>(1.0 / std::sqrt(var + eps));
      const T scale = inv[ch] * gamma.data()[ch], shift = beta.data()[ch] - u * scale;
      for (std::size_t b = 0; b < n; ++b) {
        const T* p = px + (b * c + ch) * s;
        T* q = py + (b * c + ch) * s;
        for (std::size_t i = 0; i < s; ++i) q[i] = p[i] * scale + shift;
      }
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
    parallel_for(c, 1, [&](std::size_t c0, std::size_t c1) {
      for (std::size_t ch = c0; ch < c1; ++ch) {
        const T u = mean_t[ch], iv = inv[ch];
        double sb = 0, sg = 0;
        for (std::size_t b = 0; b < n; ++b) {
          const T* p = px + (b * c + ch) * s;
          const T* g = pg + (b * c + ch) * s;
          sb += lane_sum<T>(s, [g](std::size_t i) { return g[i]; });
          sg += lane_sum<T>(s, [p, g, u, iv](std::size_t i) { return g[i] * (p[i] - u) * iv; });
        }
        dbeta[ch] = static_cast<T>(sb);
        dgamma[ch] = static_cast<T>(sg);
        if (!a.needs[0]) continue;
        const T k = gamma[ch] * iv, mb = dbeta[ch] / mT, mg = dgamma[ch] / mT;
        for (std::size_t b = 0; b < n; ++b) {
          const T* p = px + (b * c + ch) * s;
          const T* g = pg + (b * c + ch) * s;
          T* q = out.data() + (b * c + ch) * s;
          for (std::size_t i = 0; i < s; ++i) q[i] = k * (g[i] - mb - (p[i] - u) * iv * mg);
        }
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
