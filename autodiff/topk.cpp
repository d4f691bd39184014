// The k-sparse autoencoder's op: per row, the k entries of largest magnitude kept, the rest zeroed.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "autodiff/internal.hpp"

namespace ad {

using detail::constant;
using detail::Grads;
using detail::require_defined;

// k-sparse: per row, keep the k entries of largest magnitude (Makhzani & Frey 2013; slides 004 "SPARSE AUTOENCODERS":
// "conservando las k mayores activaciones en módulo"). The mask is a constant: gradient only through kept units.
template <class T>
TensorT<T> topk_mask(const TensorT<T>& a, std::size_t k) {
  require_defined("topk_mask", a);
  if (a.dim() != 2) detail::fail("topk_mask: expects a 2-D [batch, units] tensor, got ", shape_str(a.shape()));
  const std::size_t rows = a.size(0), cols = a.size(1);
  if (k > cols) detail::fail("topk_mask: k=", k, " exceeds the ", cols, " units of ", shape_str(a.shape()));
  xt::xarray<T> mask = xt::zeros<T>({rows, cols});
  // BEGIN EXERCISE k_sparse
  std::vector<std::size_t> order(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = a.data() + r * cols;
    std::iota(order.begin(), order.end(), 0);
    // Larger magnitude first; ties broken by index, so the result is deterministic.
    auto larger = [row](std::size_t i, std::size_t j) {
      const T ai = std::abs(row[i]), aj = std::abs(row[j]);
      return ai > aj || (ai == aj && i < j);
    };
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), larger);
    for (std::size_t i = 0; i < k; ++i) mask(r, order[i]) = T(1);
  }
  // END EXERCISE k_sparse
  xt::xarray<T> v = a.value() * mask;
  TensorT<T> kept = constant(std::move(mask));
  return make_result<T>(std::move(v), "topk_mask", {a},
                        [kept](const BackwardArgs<T>& c) -> Grads<T> { return {mul(c.grad, kept)}; });
}

#define AD_TOPK(T) template TensorT<T> topk_mask(const TensorT<T>&, std::size_t);
AD_INSTANTIATE(AD_TOPK)

}  // namespace ad
