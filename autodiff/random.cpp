// Seeded sampling. The generator is an explicit object: one seed drives all randomness, tests can seed it,
// and the numbers are the same on every platform (our own uniform, Box–Muller and Fisher–Yates).
#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/internal.hpp"
#include "autodiff/multiversion.hpp"
#include "autodiff/vmath.hpp"

namespace ad {

double Generator::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;  // 53 random bits in [0, 1)
}

double Generator::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  have_spare_ = true;
  return r * std::cos(theta);
}

// The same numbers as n calls of normal(), faster: the engine is sequential, so the uniform pairs are drawn first,
// then each pair's Box–Muller transform (log, sqrt, sin and cos in double, as in normal()) runs on the threads.
void Generator::normals(double* out, std::size_t n) {
  std::size_t first = 0;
  if (n > 0 && have_spare_) {
    out[first++] = spare_;
    have_spare_ = false;
  }
  const std::size_t pairs = (n - first + 1) / 2;
  std::vector<double> u(2 * pairs);
  for (std::size_t p = 0; p < pairs; ++p) {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    u[2 * p] = u1;
    u[2 * p + 1] = uniform();
  }
  auto pair = [&](std::size_t p, double& c, double& s) {
    const double r = std::sqrt(-2.0 * std::log(u[2 * p]));
    const double theta = 2.0 * M_PI * u[2 * p + 1];
    s = r * std::sin(theta);
    c = r * std::cos(theta);
  };
  const std::size_t whole = (n - first) / 2;  // pairs that fill two outputs; an odd n leaves a spare
  parallel_for(whole, 512, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) pair(p, out[first + 2 * p], out[first + 2 * p + 1]);
  });
  if (whole < pairs) {
    pair(whole, out[n - 1], spare_);
    have_spare_ = true;
  }
}

namespace {
// SplitMix64's output for the state i + 1 steps from key (Steele, Lea and Flood 2014)
inline std::uint64_t splitmix(std::uint64_t key, std::uint64_t i) {
  std::uint64_t z = key + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

std::uint64_t Generator::counter_hash(std::uint64_t key, std::uint64_t i) { return splitmix(key, i); }

void Generator::noise_normal_pair(std::uint64_t h, double& z_cos, double& z_sin) {
  const double u1 = (static_cast<double>(h >> 32) + 1.0) * 0x1.0p-32, u2 = static_cast<double>(h & 0xFFFFFF) * 0x1.0p-24;
  const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
  z_cos = r * std::cos(theta);
  z_sin = r * std::sin(theta);
}

namespace {
// The fast path of noise_uniform / noise_normal (docs/PERFORMANCE.md, "Noise"): the same hash, the same formula in
// float, written so that the loops vectorise; tested against counter_hash and noise_normal_pair.
AE_MULTIVERSION void uniform_kernel(float* out, std::size_t i0, std::size_t i1, std::uint64_t key) {
  for (std::size_t i = i0; i < i1; ++i) {
    const std::uint64_t z = splitmix(key, i);
    out[i] = static_cast<float>(static_cast<std::int32_t>(z >> 40)) * 0x1.0p-24f;
  }
}

// Pairs p0 .. p0 + count − 1: r cos θ into cos_out[j], r sin θ into sin_out[j], p = p0 + j.
AE_MULTIVERSION void normal_kernel(float* __restrict cos_out, float* __restrict sin_out, std::size_t p0,
                                   std::size_t count, std::uint64_t key) {
  for (std::size_t j = 0; j < count; ++j) {
    const std::uint64_t z = splitmix(key, p0 + j);
    // u₁ = (k + 1)/2³² with k the high 32 bits, converted as two 16-bit halves (exact int32 conversions)
    const std::uint32_t k = static_cast<std::uint32_t>(z >> 32);
    const float u1 = (static_cast<float>(static_cast<std::int32_t>(k >> 16)) * 65536.0f +
                      static_cast<float>(static_cast<std::int32_t>((k & 0xFFFF) + 1))) * 0x1.0p-32f;
    const float u2 = static_cast<float>(static_cast<std::int32_t>(z & 0xFFFFFF)) * 0x1.0p-24f;
    const float r = std::sqrt(-2.0f * vmath::log(u1));
    // sin and cos of 2π u₂: quadrant q = round(4 u₂), a = 2π (u₂ − q/4) in [−π/4, π/4], Cephes' polynomials
    const float qf = std::floor(u2 * 4.0f + 0.5f);
    const int q = static_cast<int>(qf) & 3;
    const float a = 6.283185307179586f * (u2 - 0.25f * qf), a2 = a * a;
    const float s = a + a * a2 * (-1.6666654611e-1f + a2 * (8.3321608736e-3f + a2 * -1.9515295891e-4f));
    const float c = 1.0f - 0.5f * a2 + a2 * a2 * (4.166664568298827e-2f + a2 * (-1.388731625493765e-3f + a2 * 2.443315711809948e-5f));
    const float sin_t = q == 0 ? s : q == 1 ? c : q == 2 ? -s : -c;
    const float cos_t = q == 0 ? c : q == 1 ? -s : q == 2 ? -c : s;
    cos_out[j] = r * cos_t;
    sin_out[j] = r * sin_t;
  }
}
}  // namespace

void Generator::noise_uniform(float* out, std::size_t n) {
  const std::uint64_t key = engine_();
  parallel_for(n, 8192, [&](std::size_t i0, std::size_t i1) { uniform_kernel(out, i0, i1, key); }, 16);
}

void Generator::noise_normal(float* out, std::size_t n) {
  const std::uint64_t key = engine_();
  const std::size_t half = (n + 1) / 2, whole = n / 2;  // pair p fills out[p] and out[half + p]
  parallel_for(whole, 4096, [&](std::size_t p0, std::size_t p1) {
    normal_kernel(out + p0, out + half + p0, p0, p1 - p0, key);
  }, 16);
  if (whole < half) {  // n odd: the last pair's cosine only
    float unused;
    normal_kernel(out + whole, &unused, whole, 1, key);
  }
}

std::size_t Generator::randint(std::size_t n) {
  if (n == 0) throw Error("Generator::randint: empty range");
  // Rejection sampling: no modulo bias.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do r = engine_();
  while (r >= limit);
  return static_cast<std::size_t>(r % n);
}

template <class T>
TensorT<T> randn(const Shape& shape, Generator& gen, T mean, T stddev) {
  xt::xarray<T> v = xt::xarray<T>::from_shape(shape);
  std::vector<double> z(v.size());
  gen.normals(z.data(), z.size());
  std::transform(z.begin(), z.end(), v.begin(), [&](double e) { return mean + stddev * static_cast<T>(e); });
  return TensorT<T>(std::move(v));
}

template <class T>
TensorT<T> rand_uniform(const Shape& shape, Generator& gen, T lo, T hi) {
  if (!(lo <= hi)) detail::fail("rand_uniform: lower bound ", lo, " exceeds upper bound ", hi);
  xt::xarray<T> v = xt::xarray<T>::from_shape(shape);
  for (auto& x : v) x = lo + (hi - lo) * static_cast<T>(gen.uniform());
  return TensorT<T>(std::move(v));
}

template <class T>
TensorT<T> bernoulli(const Shape& shape, T p, Generator& gen) {
  if (!(p >= T(0) && p <= T(1))) detail::fail("bernoulli: probability ", p, " is outside [0, 1]");
  xt::xarray<T> v = xt::xarray<T>::from_shape(shape);
  for (auto& x : v) x = gen.uniform() < static_cast<double>(p) ? T(1) : T(0);
  return TensorT<T>(std::move(v));
}

template <class T>
TensorT<T> bernoulli(const TensorT<T>& probs, Generator& gen) {
  detail::require_defined("bernoulli", probs, "probabilities");
  xt::xarray<T> v = xt::xarray<T>::from_shape(probs.value().shape());
  const T* p = probs.data();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!(p[i] >= T(0) && p[i] <= T(1)))
      detail::fail("bernoulli: probability ", p[i], " at index ", i, " of ", shape_str(probs.shape()), " is outside [0, 1]");
    v.data()[i] = gen.uniform() < static_cast<double>(p[i]) ? T(1) : T(0);
  }
  return TensorT<T>(std::move(v));
}

#define AD_RANDOM(T)                                                   \
  template TensorT<T> randn(const Shape&, Generator&, T, T);           \
  template TensorT<T> rand_uniform(const Shape&, Generator&, T, T);    \
  template TensorT<T> bernoulli(const Shape&, T, Generator&);          \
  template TensorT<T> bernoulli(const TensorT<T>&, Generator&);
AD_INSTANTIATE(AD_RANDOM)

}  // namespace ad
