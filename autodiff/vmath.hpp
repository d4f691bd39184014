// Vectorisable exp and log for the elementwise kernels (internal).
//
// Why: the binaries are built for any x86-64 (no -march=native), and there xsimd's exp/log run at the speed of
// the scalar libm calls (1.3 ns per float here). These are the Cephes single-precision algorithms written as
// plain arithmetic, so GCC vectorises the loops that call them; AE_MULTIVERSION builds those loops for AVX-512,
// AVX2 and baseline x86-64 and picks one at run time. Measured here: 0.19 ns per float for either.
// Accuracy: relative error below 1e-7 (under one float ulp) over the whole range (checked in test_autodiff_ops).
// Doubles (gradient checks) use std::exp and std::log.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "autodiff/multiversion.hpp"

namespace ad::vmath {

// e^x: x = n ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n written into the exponent bits.
// Above 88.7 it is +inf, below −87.3 it is 0 (flushing the denormal results), NaN stays NaN.
inline float exp(float x) {
  const float c = x >= -87.3f && x <= 88.7f ? x : (x > 88.7f ? 88.7f : -87.3f);  // NaN goes to −87.3 here
  // n = floor(c log2 e + ½), by truncating a number made positive (c is clamped, so it cannot overflow)
  const std::int32_t n = static_cast<std::int32_t>(c * 1.44269504088896341f + 128.5f) - 128;
  const float fn = static_cast<float>(n);
  float r = c - fn * 0.693359375f;  // ln2 in two parts, for an exact r
  r -= fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const std::uint32_t bits = static_cast<std::uint32_t>(n + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, sizeof two_n);
  float e = p * two_n;
  e = x >= -87.3f ? e : 0.0f;
  e = x > 88.7f ? HUGE_VALF : e;
  return x == x ? e : x;  // NaN stays NaN
}

// log x: x = m 2^e with m in [√½, √2), log m = (m−1) − (m−1)²/2 + (m−1)³ P(m−1).
// log 0 = −inf, log of a negative number or NaN is NaN, log inf = inf, denormals are scaled first.
inline float log(float x) {
  constexpr float kMinNormal = 1.17549435e-38f;
  const bool denormal = x < kMinNormal;
  const float v = denormal ? x * 8388608.0f : x;  // · 2^23
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::int32_t e = static_cast<std::int32_t>((bits >> 23) & 0xff) - 126;
  bits = (bits & 0x807fffffu) | 0x3f000000u;  // m in [½, 1)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  const bool below = m < 0.707106781186547524f;
  e -= below;
  m = below ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e) - (denormal ? 23.0f : 0.0f);
  y += fe * -2.12194440e-4f;
  y += -0.5f * z;
  const float l = m + y + fe * 0.693359375f;
  return x > 0.0f ? (x <= 3.40282347e38f ? l : x) : (x == 0.0f ? -HUGE_VALF : std::nanf(""));
}

inline double exp(double x) { return std::exp(x); }
inline double log(double x) { return std::log(x); }

// σ(x) = 1 / (1 + e^−x)
template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

// softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^−|x|): no overflow for large x; a NaN stays NaN.
// (log(1 + ·) rather than log1p: it vectorises, and the two differ by less than the float epsilon here.)
template <class T>
T softplus(T x) {
  return (x > T(0) ? x : T(0)) + log(T(1) + exp(x > T(0) ? -x : x));
}

}  // namespace ad::vmath
