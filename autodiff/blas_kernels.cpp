// OpenBLAS's kernels for a CPU newer than it knows. A DYNAMIC_ARCH OpenBLAS picks its kernels when it loads, from
// the CPU's family and model number; Debian 12's 0.3.21 does not know Intel's later Xeons (family 6, model 207 is
// one) and falls back to "Prescott", its SSE3 kernels: 2-3x slower products, and whole lessons 3-6x slower. When
// it did that on a CPU with AVX2 or AVX-512, and OPENBLAS_CORETYPE does not say otherwise, the library picks the
// kernels the CPU's features allow, as OPENBLAS_CORETYPE would have, before its first product.
// Measurements: docs/PERFORMANCE.md, "Kernels".
#include <cblas.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "autodiff/blas.hpp"

// OpenBLAS's own start-up, exported by DYNAMIC_ARCH builds (weak: absent elsewhere, then nothing is changed).
extern "C" void gotoblas_dynamic_init(void) __attribute__((weak));
extern "C" void gotoblas_dynamic_quit(void) __attribute__((weak));

namespace ad::blas {
namespace {

// The best of OpenBLAS 0.3.21's x86-64 kernel sets this CPU's features allow ("" when none is better than SSE3).
const char* kernels_for_this_cpu() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

std::once_flag chosen_once;
std::string chosen_note;  // what choose_kernels did, for config()

}  // namespace

void choose_kernels() {
  std::call_once(chosen_once, [] {
    if (std::getenv("OPENBLAS_CORETYPE") || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return;
    const std::string picked = openblas_get_corename();
    const char* better = kernels_for_this_cpu();
    if (picked != "Prescott" || !*better) return;
    // gotoblas_dynamic_init reads OPENBLAS_CORETYPE; it is set for that call only, so child processes still see
    // the environment the user gave.
    setenv("OPENBLAS_CORETYPE", better, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    chosen_note = std::string("; OpenBLAS took this CPU for a Prescott, the library chose ") + openblas_get_corename();
  });
}

std::string config() {
  choose_kernels();
  return openblas_get_config() + chosen_note;
}

}  // namespace ad::blas
