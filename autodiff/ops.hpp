// The differentiable ops. Each is its forward computation plus a backward written with these same ops
// (so gradients are differentiable). Binary elementwise ops broadcast like NumPy.
// Every op validates its inputs and throws ad::Error naming the op and the shapes.
#pragma once

#include <cstdint>
#include <random>

#include "autodiff/arg.hpp"
#include "autodiff/tensor.hpp"

namespace ad {

// ---- elementwise, broadcasting ---------------------------------------------------------------------
template <class T> TensorT<T> add(const TensorT<T>& a, const TensorT<T>& b);
template <class T> TensorT<T> sub(const TensorT<T>& a, const TensorT<T>& b);
template <class T> TensorT<T> mul(const TensorT<T>& a, const TensorT<T>& b);
template <class T> TensorT<T> div(const TensorT<T>& a, const TensorT<T>& b);
template <class T> TensorT<T> add(const TensorT<T>& a, T s);  // a + s
template <class T> TensorT<T> mul(const TensorT<T>& a, T s);  // a · s
template <class T> TensorT<T> rsub(T s, const TensorT<T>& a);  // s − a
template <class T> TensorT<T> neg(const TensorT<T>& a);
template <class T> TensorT<T> pow(const TensorT<T>& a, T p);  // a^p, p a constant
template <class T> TensorT<T> exp(const TensorT<T>& a);
template <class T> TensorT<T> log(const TensorT<T>& a);
template <class T> TensorT<T> sqrt(const TensorT<T>& a);
template <class T> TensorT<T> abs(const TensorT<T>& a);
template <class T> TensorT<T> square(const TensorT<T>& a);
template <class T> TensorT<T> clamp(const TensorT<T>& a, T lo, T hi);  // gradient 0 where clamped
template <class T> TensorT<T> sigmoid(const TensorT<T>& a);
template <class T> TensorT<T> tanh(const TensorT<T>& a);
template <class T> TensorT<T> relu(const TensorT<T>& a);
template <class T> TensorT<T> leaky_relu(const TensorT<T>& a, T negative_slope = T(0.01));
template <class T> TensorT<T> softplus(const TensorT<T>& a);  // log(1 + e^a), stable

// mask is a constant of 0s and 1s (it gets no gradient); both broadcast.
template <class T> TensorT<T> masked_mul(const TensorT<T>& a, const TensorT<T>& mask);
// where(mask, a, b) = mask ? a : b elementwise, broadcasting all three.
template <class T> TensorT<T> where(const TensorT<T>& mask, const TensorT<T>& a, const TensorT<T>& b);

// ---- matrix products (OpenBLAS) ------------------------------------------------------------------
template <class T> TensorT<T> matmul(const TensorT<T>& a, const TensorT<T>& b);  // [m,k]·[k,n]
// op(a)·op(b) with op = transpose where asked, without materialising the transposes.
template <class T> TensorT<T> matmul(const TensorT<T>& a, const TensorT<T>& b, bool transpose_a, bool transpose_b);

// y = x Wᵀ + b for x [N, in], W [out, in], b [out] (PyTorch's Linear), in one op: the bias rows are the GEMM's
// starting value. The same as add(matmul(x, W, false, true), b), faster; its backward is the same three products.
template <class T> TensorT<T> linear(const TensorT<T>& x, const TensorT<T>& weight, const TensorT<T>& bias);

// ---- shapes ---------------------------------------------------------------------------------------
template <class T> TensorT<T> transpose(const TensorT<T>& a);  // 2-D
template <class T> TensorT<T> permute(const TensorT<T>& a, const std::vector<std::size_t>& axes);
template <class T> TensorT<T> reshape(const TensorT<T>& a, const Shape& shape);
template <class T> TensorT<T> flatten(const TensorT<T>& a, std::size_t start_axis = 1);  // [N,...] -> [N, rest]
template <class T> TensorT<T> broadcast_to(const TensorT<T>& a, const Shape& shape);
// Sum a broadcast result back to `shape` (the adjoint of broadcast_to).
template <class T> TensorT<T> sum_to(const TensorT<T>& a, const Shape& shape);
// Rows a[indices[0]], a[indices[1]], ... along axis 0 (the batch gather).
template <class T> TensorT<T> index_select(const TensorT<T>& a, const std::vector<std::size_t>& indices);
// zeros(shape) with src's rows added at `indices` (the adjoint of index_select).
template <class T> TensorT<T> index_add(const Shape& shape, const std::vector<std::size_t>& indices, const TensorT<T>& src);
// a[..., start:end, ...] along one axis.
template <class T> TensorT<T> slice(const TensorT<T>& a, std::size_t axis, std::size_t start, std::size_t end);
// zeros(shape) with src placed at start along axis (the adjoint of slice).
template <class T> TensorT<T> unslice(const TensorT<T>& src, const Shape& shape, std::size_t axis, std::size_t start);
template <class T> TensorT<T> concat(const std::vector<TensorT<T>>& parts, std::size_t axis);

// ---- reductions -----------------------------------------------------------------------------------
// With a list of axes, the list must not be empty (numpy and PyTorch disagree on what that means: none or all).
template <class T> TensorT<T> sum(const TensorT<T>& a);  // over everything, shape []
template <class T> TensorT<T> sum(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim = false);
template <class T> TensorT<T> mean(const TensorT<T>& a);
template <class T> TensorT<T> mean(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim = false);
// Gradient shared equally between tied maxima.
template <class T> TensorT<T> max(const TensorT<T>& a);
template <class T> TensorT<T> max(const TensorT<T>& a, const std::vector<std::size_t>& axes, bool keepdim = false);
template <class T> TensorT<T> log_softmax(const TensorT<T>& a, std::size_t axis);
template <class T> TensorT<T> softmax(const TensorT<T>& a, std::size_t axis);

// Activation gradients as single ops (fast, and themselves differentiable): g ⊙ f'(·) from the saved value.
template <class T> TensorT<T> relu_grad(const TensorT<T>& g, const TensorT<T>& x);                 // g ⊙ [x > 0]
template <class T> TensorT<T> leaky_relu_grad(const TensorT<T>& g, const TensorT<T>& x, T slope);  // g ⊙ (x > 0 ? 1 : slope)
template <class T> TensorT<T> sigmoid_grad(const TensorT<T>& g, const TensorT<T>& s);              // g ⊙ s(1 − s)
template <class T> TensorT<T> tanh_grad(const TensorT<T>& g, const TensorT<T>& t);                 // g ⊙ (1 − t²)

// ---- fused losses: one pass forward, one pass backward ------------------------------------------------
// The same values as the compositions in the comments (nn/losses.cpp keeps those for reading; the tests compare
// the two); under create_graph the backward is written with ops.
template <class T> TensorT<T> sum_squared_error(const TensorT<T>& a, const TensorT<T>& b);   // Σ (a − b)²
template <class T> TensorT<T> sum_bce_with_logits(const TensorT<T>& z, const TensorT<T>& x);  // Σ softplus(z) − x z
// Σ −[x max(log p, −100) + (1 − x) max(log(1 − p), −100)] for probabilities p ∈ [0, 1], as PyTorch's
// binary_cross_entropy: each log term clamped at −100 (finite at p = 0 or 1), and d/dp = (p − x)/max(p(1 − p), 1e-12),
// so a saturated wrong output still gets a gradient. A p outside [0, 1] is an error; NaN passes through.
template <class T> TensorT<T> sum_binary_cross_entropy(const TensorT<T>& p, const TensorT<T>& x);

// ---- batch normalisation ---------------------------------------------------------------------------------
// Training-mode batch norm over every axis but 1: y = γ (x − μ)/√(σ² + ε) + β with the batch's per-channel μ and
// (biased) σ², for x [N, C] or [N, C, H, W], γ and β [C]. The batch statistics are returned through mean/var
// (for running averages). batch_norm_reference is the same formula written with ops, for reading; batch_norm
// computes it in three passes, and its backward in two (under create_graph it differentiates the reference).
template <class T> TensorT<T> batch_norm(const TensorT<T>& x, const TensorT<T>& gamma, const TensorT<T>& beta, double eps,
                                         std::vector<T>* mean = nullptr, std::vector<T>* var = nullptr);
template <class T> TensorT<T> batch_norm_reference(const TensorT<T>& x, const TensorT<T>& gamma, const TensorT<T>& beta, double eps);

// ---- sparsity -------------------------------------------------------------------------------------
// Keeps, in each row of a 2-D tensor, the k entries largest in magnitude and zeroes the rest
// (k-sparse autoencoder); the gradient flows only through the kept units.
template <class T> TensorT<T> topk_mask(const TensorT<T>& a, std::size_t k);

// ---- convolution (NCHW), im2col + GEMM -------------------------------------------------------------
struct Conv2dOptions {
  AE_ARG(std::size_t, stride) = 1;   // Conv2dOptions().stride(2).padding(1)
  AE_ARG(std::size_t, padding) = 0;
};
// x [N,C,H,W], weight [O,C,kh,kw] -> [N,O,Ho,Wo], Ho = (H + 2p − kh)/s + 1.
template <class T> TensorT<T> conv2d(const TensorT<T>& x, const TensorT<T>& weight, Conv2dOptions opt = {});
// The same plus a bias [O].
template <class T> TensorT<T> conv2d(const TensorT<T>& x, const TensorT<T>& weight, const TensorT<T>& bias, Conv2dOptions opt);
// The adjoint of conv2d in x: y [N,O,Ho,Wo], weight [O,C,kh,kw] (PyTorch's ConvTranspose2d layout [in,out,kh,kw])
// -> [N,C,H,W], H = (Ho − 1)s − 2p + kh + output_padding.
template <class T> TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, Conv2dOptions opt = {},
                                               std::size_t output_padding = 0);
template <class T> TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, const TensorT<T>& bias,
                                               Conv2dOptions opt, std::size_t output_padding = 0);
// With a different output padding for height and width.
template <class T> TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, Conv2dOptions opt,
                                               std::size_t output_padding_h, std::size_t output_padding_w);
// dL/dweight of conv2d given x and dL/dy: [O,C,kh,kw]. Bilinear, and itself differentiable.
template <class T> TensorT<T> conv2d_weight_grad(const TensorT<T>& x, const TensorT<T>& grad_y, std::size_t kh,
                                                 std::size_t kw, Conv2dOptions opt);

// ---- random sampling from a seeded generator (constants: no gradient) -----------------------------
// One seed drives all randomness; there is no hidden global generator.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}
  void seed(std::uint64_t s) { engine_.seed(s); have_spare_ = false; }
  double uniform();  // [0, 1), 53 random bits
  double normal();   // N(0, 1), Box–Muller (the same numbers on every platform)
  void normals(double* out, std::size_t n);  // the next n normal()s, their transforms computed on the threads
  std::uint64_t next_u64() { return engine_(); }
  // Bulk noise for corruptions, in float: one engine number is a key, and the draw for element i is a hash of
  // (key, i) (SplitMix64's output function), so each element's number is fixed before any thread computes it:
  // the same numbers whatever the thread count. One engine number per call; not what n uniform()/normal() give.
  void noise_uniform(float* out, std::size_t n);  // [0, 1), 24 random bits each
  void noise_normal(float* out, std::size_t n);   // N(0, 1), Box–Muller on the hashes (noise_normal_pair)
  static std::uint64_t counter_hash(std::uint64_t key, std::uint64_t i);
  // Element p of noise_normal's output and element p + ⌈n/2⌉: r cos θ, r sin θ with r = √(−2 ln u₁), θ = 2π u₂,
  // u₁ = (high 32 bits + 1)/2³² in (0, 1], u₂ = (low 24 bits)/2²⁴ (so |z| ≤ 6.7), for the hash h of (key, p).
  static void noise_normal_pair(std::uint64_t h, double& z_cos, double& z_sin);  // the formula, in double
  std::size_t randint(std::size_t n);  // uniform in [0, n)
  template <class It>
  void shuffle(It first, It last) {  // Fisher–Yates with our own randint: portable
    for (auto n = last - first; n > 1; --n) std::swap(first[n - 1], first[randint(static_cast<std::size_t>(n))]);
  }

 private:
  std::mt19937_64 engine_;
  bool have_spare_ = false;
  double spare_ = 0.0;
};

template <class T> TensorT<T> randn(const Shape& shape, Generator& gen, T mean = T(0), T stddev = T(1));
template <class T> TensorT<T> rand_uniform(const Shape& shape, Generator& gen, T lo = T(0), T hi = T(1));
template <class T> TensorT<T> bernoulli(const Shape& shape, T p, Generator& gen);  // 1 with probability p
template <class T> TensorT<T> bernoulli(const TensorT<T>& probs, Generator& gen);  // elementwise probabilities

// ---- operators ------------------------------------------------------------------------------------
template <class T> TensorT<T> operator+(const TensorT<T>& a, const TensorT<T>& b) { return add(a, b); }
template <class T> TensorT<T> operator-(const TensorT<T>& a, const TensorT<T>& b) { return sub(a, b); }
template <class T> TensorT<T> operator*(const TensorT<T>& a, const TensorT<T>& b) { return mul(a, b); }
template <class T> TensorT<T> operator/(const TensorT<T>& a, const TensorT<T>& b) { return div(a, b); }
template <class T> TensorT<T> operator-(const TensorT<T>& a) { return neg(a); }
template <class T> TensorT<T> operator+(const TensorT<T>& a, T s) { return add(a, s); }
template <class T> TensorT<T> operator+(T s, const TensorT<T>& a) { return add(a, s); }
template <class T> TensorT<T> operator-(const TensorT<T>& a, T s) { return add(a, -s); }
template <class T> TensorT<T> operator-(T s, const TensorT<T>& a) { return rsub(s, a); }
template <class T> TensorT<T> operator*(const TensorT<T>& a, T s) { return mul(a, s); }
template <class T> TensorT<T> operator*(T s, const TensorT<T>& a) { return mul(a, s); }
template <class T> TensorT<T> operator/(const TensorT<T>& a, T s) { return mul(a, T(1) / s); }

}  // namespace ad
