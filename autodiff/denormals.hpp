// FlushDenormals: while it lives, the calling thread's SSE/AVX arithmetic treats subnormal inputs as zero and
// flushes subnormal results to zero (MXCSR DAZ + FTZ); the previous mode comes back when it is destroyed.
// For kernels whose values decay geometrically toward zero, such as an optimizer's moments where a gradient stays
// 0 (dead units, border pixels), or the weights of inputs that are always 0 and everything they multiply: there
// they pass through the subnormal range (below 1.2e-38 in float), where x86 arithmetic is many times slower.
// A parallel_for inside the scope runs every chunk in this mode. Why and how much: docs/PERFORMANCE.md. Elsewhere
// a no-op.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace ad {

class FlushDenormals {
 public:
#if defined(__SSE__) || defined(__x86_64__)
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kDaz | kFtz); }
  ~FlushDenormals() { _mm_setcsr(saved_); }

 private:
  static constexpr unsigned kFtz = 0x8000, kDaz = 0x0040;
  unsigned saved_;
#else
  FlushDenormals() = default;
#endif
 public:
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;
};

}  // namespace ad
