// The thin BLAS layer (OpenBLAS): used by matmul and the convolutions, and by the benchmarks.
#pragma once

#include <cstddef>
#include <string>

namespace ad::blas {

// Row-major C[m,n] = alpha·op(A)·op(B) + beta·C, where A is stored with rows of length lda, B of ldb.
// Large products are split over the library's threads (autodiff/parallel.hpp); OpenBLAS runs single-threaded.
// row_init: if given (n values), C starts as that row repeated (beta is then ignored): y = x Wᵀ + b in one call.
template <class T>
void gemm(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const T* row_init = nullptr);

// How gemm splits C = op(A)·op(B) [m,n] with a sum of k over `threads` threads (the rule and its reasons are beside
// gemm in autodiff/linalg.cpp): not at all, by rows of C, by columns of C, or by the sum (each thread's part of k
// into its own copy of C, the copies added up by rows).
enum class Split { none, rows, columns, sum };
Split split_for(bool transpose_a, bool transpose_b, std::size_t m, std::size_t n, std::size_t k, std::size_t threads);

std::string config();  // openblas_get_config(): version, kernels (core type), and whether choose_kernels chose them

// Where OpenBLAS fell back to its generic "Prescott" kernels on a CPU it does not know but that has AVX2 or AVX-512,
// and OPENBLAS_CORETYPE is unset, switches to the kernels the CPU allows (Cooperlake, SkylakeX or Haswell). Once
// per process, before the first product: the library's thread pool calls it when it starts.
void choose_kernels();

}  // namespace ad::blas
