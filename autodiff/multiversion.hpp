// AE_MULTIVERSION: build a function for AVX-512, AVX2 and baseline x86-64 and pick one at run time (GCC's
// target_clones), so that hot loops vectorise on the CPU at hand while the binary runs on any x86-64
// (no -march=native). Elsewhere it expands to nothing.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AE_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AE_MULTIVERSION
#endif
