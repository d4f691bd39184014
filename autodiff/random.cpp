// Seeded sampling. The generator is an explicit object: one seed drives all randomness, tests can seed it,
// and the numbers are the same on every platform (our own uniform, Box–Muller and Fisher–Yates).
#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/internal.hpp"

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
