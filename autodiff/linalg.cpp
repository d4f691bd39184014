// Matrix products through OpenBLAS: C = op(A)·op(B), op = identity or transpose, no transposed copies.
#include <cblas.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "autodiff/blas.hpp"
#include "autodiff/internal.hpp"
#include "autodiff/multiversion.hpp"
#include "autodiff/parallel.hpp"

namespace ad {

using detail::Grads;
using detail::require_defined;

namespace blas {
namespace {
// One single-threaded call of OpenBLAS.
void call(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
          const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}
void call(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

// The calling thread's buffer for the parts of a split sum, kept between calls (grown, never zeroed: each part
// writes all of its copy of C before it is read).
template <class T>
T* part_buffer(std::size_t n) {
  thread_local std::unique_ptr<T[]> values;
  thread_local std::size_t size = 0;
  if (n > size) values.reset(new T[size = n]);
  return values.get();
}
// C[r0..r1) = ((init + p_0) + p_1) + ..., init being row_init, beta·C or 0.
template <class T>
AE_MULTIVERSION void add_parts(const std::vector<T*>& parts, std::size_t r0, std::size_t r1, std::size_t n, T beta,
                               T* __restrict c, std::size_t ldc, const T* row_init) {
  for (std::size_t r = r0; r < r1; ++r) {
    T* __restrict out = c + r * ldc;
    const T* __restrict first = parts[0] + r * n;
    if (row_init)
      for (std::size_t j = 0; j < n; ++j) out[j] = row_init[j] + first[j];
    else if (beta == T(0))
      for (std::size_t j = 0; j < n; ++j) out[j] = first[j];
    else
      for (std::size_t j = 0; j < n; ++j) out[j] = beta * out[j] + first[j];
    for (std::size_t p = 1; p < parts.size(); ++p) {
      const T* __restrict part = parts[p] + r * n;
      for (std::size_t j = 0; j < n; ++j) out[j] += part[j];
    }
  }
}
}  // namespace

// Split over the library's threads by rows of C (rows of op(A)) when it has 64 or more, else by its columns
// (columns of op(B)) when it has 256 or more, or by the sum itself: each thread sums its share of k into its own
// copy of C and the copies are added in order, each thread adding up its share of C's rows. The choice counts
// the floats a thread reads that another thread wrote (ops split by batch rows leave half of every activation in
// the other thread's cache; Adam's thread t writes the t-th share of a weight's rows, cut at multiples of 16, as
// these splits cut them), and splits another way where a split by rows moves more:
//   Aᵀ·B, a weight gradient with k running over the batch: the sum, when k/2·(m/2 + n) > m/2·n (split by rows,
//     each thread reads every batch row of A and B; split sum, the other copies of its rows of C);
//   x·Wᵀ (B = W, [n, k]): the columns, so that each thread reads only the rows of W its Adam updates, when
//     m/2·(k + n) < n·k (all of x and, for the next op, half of its rows of C, against the other thread's half of
//     W, which crosses twice: read after that thread's Adam wrote it, and taken back when it writes it again);
//     also when C has 3 times more columns than rows;
//   G·W (B = W, [k, n]): the sum over W's rows, same reason, when m/4·(k + 2n) is at most half of n·k (its columns
//     of G and the other copy of its rows of C; the copies cost a write and an add besides);
//   and a small C with a long sum: the sum.
// Why: docs/PERFORMANCE.md, "Threads", "Two CPUs that move apart" and "Each thread its own rows of W".
// Every element of C is still single-threaded dot products in a fixed order, though not always rounded
// the same across thread counts: OpenBLAS computes the rows and columns of a block that do not fill a micro-tile
// with an edge kernel whose multiply-adds run in another order, so a row's last bit can depend on where the split
// puts it, and a split sum adds its parts in another order (differences of ~1e-7 relative between thread counts;
// one thread count always gives the same bits). Small products are not split. With row_init (n values), C
// starts as that row repeated (the linear layer's bias) and the product is accumulated onto it.
namespace {
constexpr std::size_t kRowAlign = 8, kColAlign = 16, kMinSplitK = 2048;
}

Split split_for(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, std::size_t threads) {
  constexpr std::size_t kMinWork = 1 << 18;
  if (m * n * k < kMinWork || threads <= 1) return Split::none;
  const std::size_t split = 2 * kColAlign * threads;  // the least k or n a split sum or split columns need
  const bool batch_sum = ta && !tb && k >= split && k * (m + 2 * n) > 2 * m * n;
  const bool weight_sum = !ta && !tb && k >= split && m * (k + 2 * n) <= 2 * n * k;
  const bool weight_columns = tb && n >= split && ((!ta && m * (k + n) < 2 * n * k) || (n >= 3 * m && n >= 16 * kColAlign));
  if (batch_sum || weight_sum) return Split::sum;
  if (!weight_columns && m >= 8 * kRowAlign) return Split::rows;
  if (weight_columns || n >= 16 * kColAlign || k < 2 * kMinSplitK) return Split::columns;
  return Split::sum;
}

template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc, const T* row_init) {
  auto block = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    if (row_init)
      for (std::size_t r = r0; r < r1; ++r) std::copy(row_init + c0, row_init + c1, c + r * ldc + c0);
    if (k == 0) {  // an empty sum: C = row_init or beta·C (BLAS would reject the zero leading dimensions)
      if (!row_init)
        for (std::size_t r = r0; r < r1; ++r)
          for (std::size_t j = c0; j < c1; ++j) c[r * ldc + j] = beta == T(0) ? T(0) : beta * c[r * ldc + j];
      return;
    }
    call(ta, tb, r1 - r0, c1 - c0, k, alpha, ta ? a + r0 : a + r0 * lda, lda, tb ? b + c0 * ldb : b + c0, ldb,
         row_init ? T(1) : beta, c + r0 * ldc + c0, ldc);
  };
  const std::size_t threads = static_cast<std::size_t>(num_threads());
  switch (split_for(ta, tb, m, n, k, threads)) {
    case Split::none: return block(0, m, 0, n);
    case Split::rows:
      return parallel_for(m, kRowAlign, [&](std::size_t r0, std::size_t r1) { block(r0, r1, 0, n); }, kRowAlign);
    case Split::columns:
      return parallel_for(n, kColAlign, [&](std::size_t c0, std::size_t c1) { block(0, m, c0, c1); }, kColAlign);
    case Split::sum: break;
  }
  // split the sum: part p covers k in [p·step, (p+1)·step)
  const std::size_t parts = threads;
  const std::size_t step = ((k + parts - 1) / parts + kColAlign - 1) / kColAlign * kColAlign;
  T* const copies = part_buffer<T>(parts * m * n);
  std::vector<T*> partial(parts);
  for (std::size_t p = 0; p < parts; ++p) partial[p] = copies + p * m * n;
  parallel_for(parts, 1, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      T* out = partial[p];
      const std::size_t k0 = std::min(k, p * step), k1 = std::min(k, k0 + step);
      if (k0 < k1)
        call(ta, tb, m, n, k1 - k0, alpha, ta ? a + k0 * lda : a + k0, lda, tb ? b + k0 : b + k0 * ldb, ldb, T(0), out, n);
      else
        std::fill(out, out + m * n, T(0));
    }
  });
  // each thread adds up its share of C's rows, cut at multiples of 16 rows (a weight gradient: the rows its share of
  // Adam will update)
  parallel_for(m, 16, [&](std::size_t r0, std::size_t r1) { add_parts(partial, r0, r1, n, beta, c, ldc, row_init); }, 16);
}
template void gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t, const float*);
template void gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t, const double*);

}  // namespace blas

// Gradients of C = op(A)·op(B) with upstream G, each again a product (so they can be differentiated):
//   C = A·B:   dA = G·Bᵀ,    dB = Aᵀ·G
//   C = A·Bᵀ:  dA = G·B,     dB = Gᵀ·A
//   C = Aᵀ·B:  dA = B·Gᵀ,    dB = A·G
//   C = Aᵀ·Bᵀ: dA = Bᵀ·Gᵀ,   dB = Gᵀ·Aᵀ
template <class T>
TensorT<T> matmul(const TensorT<T>& a, const TensorT<T>& b, bool ta, bool tb) {
  require_defined("matmul", a, "first input");
  require_defined("matmul", b, "second input");
  const char* ma = ta ? "ᵀ" : "";
  const char* mb = tb ? "ᵀ" : "";
  if (a.dim() != 2 || b.dim() != 2)
    detail::fail("matmul: ", shape_str(a.shape()), ma, " x ", shape_str(b.shape()), mb, ": both inputs must be 2-D");
  const std::size_t m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1);
  const std::size_t kb = tb ? b.size(1) : b.size(0), n = tb ? b.size(0) : b.size(1);
  if (k != kb)
    detail::fail("matmul: ", shape_str(a.shape()), ma, " x ", shape_str(b.shape()), mb, ": inner dimensions ", k,
                 " and ", kb, " differ");
  xt::xarray<T> v = xt::xarray<T>::from_shape({m, n});
  if (k == 0) v.fill(T(0));
  else if (m > 0 && n > 0) blas::gemm<T>(ta, tb, m, n, k, T(1), a.data(), a.size(1), b.data(), b.size(1), T(0), v.data(), n);
  return make_result<T>(std::move(v), "matmul", {a, b}, [ta, tb](const BackwardArgs<T>& c) -> Grads<T> {
    const auto& [A, B] = std::tie(c.inputs[0], c.inputs[1]);
    const TensorT<T>& G = c.grad;
    TensorT<T> dA, dB;
    if (!ta && !tb) {
      if (c.needs[0]) dA = matmul(G, B, false, true);
      if (c.needs[1]) dB = matmul(A, G, true, false);
    } else if (!ta && tb) {
      if (c.needs[0]) dA = matmul(G, B, false, false);
      if (c.needs[1]) dB = matmul(G, A, true, false);
    } else if (ta && !tb) {
      if (c.needs[0]) dA = matmul(B, G, false, true);
      if (c.needs[1]) dB = matmul(A, G, false, false);
    } else {
      if (c.needs[0]) dA = matmul(B, G, true, true);
      if (c.needs[1]) dB = matmul(G, A, true, true);
    }
    return {dA, dB};
  });
}

template <class T>
TensorT<T> matmul(const TensorT<T>& a, const TensorT<T>& b) {
  return matmul(a, b, false, false);
}

// y = x Wᵀ + b:  dx = G W,  dW = Gᵀ x,  db = Σ_rows G
template <class T>
TensorT<T> linear(const TensorT<T>& x, const TensorT<T>& w, const TensorT<T>& b) {
  require_defined("linear", x, "input");
  require_defined("linear", w, "weight");
  require_defined("linear", b, "bias");
  if (x.dim() != 2 || w.dim() != 2 || b.dim() != 1 || x.size(1) != w.size(1) || b.size(0) != w.size(0))
    detail::fail("linear: input ", shape_str(x.shape()), ", weight ", shape_str(w.shape()), " and bias ", shape_str(b.shape()),
                 " do not fit y = x Wᵀ + b (expected [N,in], [out,in], [out])");
  const std::size_t n = x.size(0), in = x.size(1), out = w.size(0);
  xt::xarray<T> y = xt::xarray<T>::from_shape({n, out});
  if (n > 0 && out > 0)  // y starts as the bias rows; the product is added onto them
    blas::gemm<T>(false, true, n, out, in, T(1), x.data(), in, w.data(), in, T(0), y.data(), out, b.data());
  return make_result<T>(std::move(y), "linear", {x, w, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const TensorT<T>& G = c.grad;
    return {c.needs[0] ? matmul(G, c.inputs[1]) : TensorT<T>(), c.needs[1] ? matmul(G, c.inputs[0], true, false) : TensorT<T>(),
            c.needs[2] ? sum(G, {0}) : TensorT<T>()};
  });
}

#define AD_LINALG(T)                                                           \
  template TensorT<T> matmul(const TensorT<T>&, const TensorT<T>&);            \
  template TensorT<T> matmul(const TensorT<T>&, const TensorT<T>&, bool, bool); \
  template TensorT<T> linear(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&);
AD_INSTANTIATE(AD_LINALG)

}  // namespace ad
