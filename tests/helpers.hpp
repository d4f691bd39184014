// Shared test helpers: seeded inputs kept away from kinks, and one gradcheck macro used everywhere.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>

#include "autodiff/gradcheck.hpp"
#include "autodiff/ops.hpp"

namespace test {

using ad::Shape;
using ad::Tensor;
using ad::Tensor64;

// Uniform in [lo, hi), from its own seed.
inline Tensor64 uniform(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  ad::Generator gen(seed);
  return ad::rand_uniform<double>(shape, gen, lo, hi);
}

// Values with |x| in [0.2, 1.2) and random sign: away from the kinks of relu, abs, leaky_relu at 0.
inline Tensor64 away_from_zero(const Shape& shape, std::uint64_t seed) {
  ad::Generator gen(seed);
  Tensor64 t = ad::rand_uniform<double>(shape, gen, 0.2, 1.2);
  for (std::size_t i = 0; i < t.numel(); ++i)
    if (gen.uniform() < 0.5) t.data()[i] = -t.data()[i];
  return t;
}

// Distinct values (no ties), shuffled: for max and top-k.
inline Tensor64 distinct(const Shape& shape, std::uint64_t seed) {
  ad::Generator gen(seed);
  Tensor64 t = Tensor64::zeros(shape);
  std::vector<double> v(t.numel());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(v.size()) + 0.013;
  gen.shuffle(v.begin(), v.end());
  std::copy(v.begin(), v.end(), t.data());
  return t;
}

inline double max_abs_diff(const Tensor64& a, const Tensor64& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
  return m;
}

// Does calling f throw ad::Error whose message contains every fragment?
template <class F>
bool throws_with(F&& f, std::initializer_list<std::string> fragments, std::string* message = nullptr) {
  try {
    f();
  } catch (const ad::Error& e) {
    const std::string what = e.what();
    if (message) *message = what;
    for (const auto& frag : fragments)
      if (what.find(frag) == std::string::npos) return false;
    return true;
  }
  return false;
}

}  // namespace test

#define CHECK_GRADCHECK(f, ...)                                             \
  do {                                                                      \
    const auto gc_result = ad::gradcheck((f), {__VA_ARGS__});               \
    BOOST_CHECK_MESSAGE(gc_result.ok, gc_result.message);                   \
    BOOST_CHECK_GT(gc_result.checked, 0u);                                  \
  } while (0)

#define CHECK_GRADGRADCHECK(f, ...)                                         \
  do {                                                                      \
    const auto gg_result = ad::gradgradcheck((f), {__VA_ARGS__});           \
    BOOST_CHECK_MESSAGE(gg_result.ok, gg_result.message);                   \
  } while (0)

#define CHECK_THROWS_WITH(expr, ...)                                                         \
  do {                                                                                       \
    std::string thrown_message;                                                              \
    BOOST_CHECK_MESSAGE(test::throws_with([&] { (void)(expr); }, {__VA_ARGS__}, &thrown_message), \
                        "message was: '" << thrown_message << "'");                          \
  } while (0)
