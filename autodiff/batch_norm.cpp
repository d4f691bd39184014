// Batch normalisation as one op: the formula written with ops (batch_norm_reference, for reading and for double
// backward), and the same in three passes forward and two backward (batch_norm).
#include <algorithm>
#include <array>
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
constexpr std::size_t kSamplesPerBlock = 8;
std::size_t sample_blocks(std::size_t n) { return (n + kSamplesPerBlock - 1) / kSamplesPerBlock; }

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

// [N, C, S] with the samples cut into blocks of kSamplesPerBlock, split over the threads by blocks (as the ops
// around a batch norm split by samples, each thread reads the samples it wrote). body(b, ch, n0, n1, at) handles
// channel ch of block b, samples [n0, n1), whose first value is at offset `at`.
template <class Body>
void for_sample_blocks(std::size_t n, std::size_t c, std::size_t s, Body body) {
  parallel_for(sample_blocks(n), 1, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      const std::size_t n0 = b * kSamplesPerBlock, n1 = std::min(n, n0 + kSamplesPerBlock);
      for (std::size_t ch = 0; ch < c; ++ch) body(b, ch, n0, n1, (n0 * c + ch) * s);
    }
  });
}

// sums[k][ch] = Σ_j terms_k(ch)(j) over channel ch (terms_k(ch): that channel's term as a function of the offset j):
// each block of samples summed (channel_sum) on one thread, then the blocks' sums added in order, so the bits do not
// depend on the thread count.
template <class T, class... F>
std::array<std::vector<double>, sizeof...(F)> channel_sums(std::size_t n, std::size_t c, std::size_t s, F... terms) {
  constexpr std::size_t K = sizeof...(F);
  const std::size_t blocks = sample_blocks(n);
  std::vector<double> partial(blocks * c * K);
  for_sample_blocks(n, c, s, [&](std::size_t b, std::size_t ch, std::size_t n0, std::size_t n1, std::size_t at) {
    std::size_t k = 0;
    ((partial[(b * c + ch) * K + k++] =
          channel_sum<T>(n1 - n0, c * s, s, [f = terms(ch), at](std::size_t j) { return f(at + j); })),
     ...);
  });
  std::array<std::vector<double>, K> sums;
  for (std::size_t k = 0; k < K; ++k) {
    sums[k].assign(c, 0.0);
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t ch = 0; ch < c; ++ch) sums[k][ch] += partial[(b * c + ch) * K + k];
  }
  return sums;
}
}  // namespace

// Three passes forward (means, variances, output) and two backward, each split over the threads by blocks of
// samples: every channel's sums run in the same order whatever the thread count.
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
  std::vector<T> mean_t(c), inv(c), var_t(c), scale(c), shift(c);
  const auto sum_x = channel_sums<T>(n, c, s, [px](std::size_t) { return [px](std::size_t j) { return px[j]; }; });
  for (std::size_t ch = 0; ch < c; ++ch) mean_t[ch] = static_cast<T>(sum_x[0][ch] / static_cast<double>(m));
  const auto sum_sq = channel_sums<T>(n, c, s, [px, &mean_t](std::size_t ch) {
    return [px, u = mean_t[ch]](std::size_t j) { return (px[j] - u) * (px[j] - u); };
  });
  for (std::size_t ch = 0; ch < c; ++ch) {
    const double var = sum_sq[0][ch] / static_cast<double>(m);  // biased
    var_t[ch] = static_cast<T>(var);
    inv[ch] = static_cast<T>(1.0 / std::sqrt(var + eps));
    scale[ch] = inv[ch] * gamma.data()[ch];
    shift[ch] = beta.data()[ch] - mean_t[ch] * scale[ch];
  }
  xt::xarray<T> y = xt::xarray<T>::from_shape(x.value().shape());
  T* py = y.data();
  for_sample_blocks(n, c, s, [&](std::size_t, std::size_t ch, std::size_t n0, std::size_t n1, std::size_t at) {
    const T* p = px + at;
    const T a = scale[ch], b = shift[ch];
    channel_map(n1 - n0, c * s, s, py + at, [p, a, b](std::size_t j) { return p[j] * a + b; });
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
    const auto sums = channel_sums<T>(
        n, c, s, [pg](std::size_t) { return [pg](std::size_t j) { return pg[j]; }; },
        [&](std::size_t ch) {
          return [px, pg, u = mean_t[ch], iv = inv[ch]](std::size_t j) { return pg[j] * (px[j] - u) * iv; };
        });
    std::vector<T> dbeta(c), dgamma(c);
    for (std::size_t ch = 0; ch < c; ++ch) {
      dbeta[ch] = static_cast<T>(sums[0][ch]);
      dgamma[ch] = static_cast<T>(sums[1][ch]);
    }
    xt::xarray<T> out;
    if (a.needs[0]) {
      out = xt::xarray<T>::from_shape(x.value().shape());
      for_sample_blocks(n, c, s, [&](std::size_t, std::size_t ch, std::size_t n0, std::size_t n1, std::size_t at) {
        const T* p = px + at;
        const T* g = pg + at;
        const T u = mean_t[ch], iv = inv[ch], k = gamma[ch] * iv, mb = dbeta[ch] / mT, mg = dgamma[ch] / mT;
        channel_map(n1 - n0, c * s, s, out.data() + at,
                    [p, g, u, iv, k, mb, mg](std::size_t j) { return k * (g[j] - mb - (p[j] - u) * iv * mg); });
      });
    }
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
