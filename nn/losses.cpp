#include "nn/losses.hpp"

#include <sstream>

namespace nn {

namespace {
template <class T>
void same_shape(const char* op, const TensorT<T>& a, const TensorT<T>& b) {
  if (!a.defined() || !b.defined()) throw ad::Error(std::string(op) + ": undefined input");
  if (a.shape() != b.shape())
    throw ad::Error(std::string(op) + ": prediction " + ad::shape_str(a.shape()) + " and target " +
                    ad::shape_str(b.shape()) + " differ");
}
}  // namespace

// Σ or mean of (p − x)²: reduce(square(sub(p, x)), r) fused into one op (ad::sum_squared_error).
template <class T>
TensorT<T> mse_loss(const TensorT<T>& prediction, const TensorT<T>& target, Reduction r) {
  same_shape("mse_loss", prediction, target);
  // BEGIN EXERCISE mse_loss
  const TensorT<T> total = ad::sum_squared_error(prediction, target);
  return r == Reduction::Mean ? ad::mul(total, T(1) / static_cast<T>(prediction.numel())) : total;
  // END EXERCISE mse_loss
}

// −[x log p + (1 − x) log(1 − p)], each log clamped at −100 as PyTorch does: one fused op
// (ad::sum_binary_cross_entropy) whose gradient (p − x)/max(p(1 − p), 1e-12) reaches saturated outputs too.
template <class T>
TensorT<T> bce_loss(const TensorT<T>& p, const TensorT<T>& x, Reduction r) {
  same_shape("bce_loss", p, x);
  const TensorT<T> total = ad::sum_binary_cross_entropy(p, x);
  return r == Reduction::Mean ? ad::mul(total, T(1) / static_cast<T>(p.numel())) : total;
}

// −[x log σ(z) + (1 − x) log(1 − σ(z))] = softplus(z) − x z: reduce(sub(softplus(z), mul(x, z)), r) fused into one
// op (ad::sum_bce_with_logits).
template <class T>
TensorT<T> bce_with_logits_loss(const TensorT<T>& z, const TensorT<T>& x, Reduction r) {
  same_shape("bce_with_logits_loss", z, x);
  const TensorT<T> total = ad::sum_bce_with_logits(z, x);
  return r == Reduction::Mean ? ad::mul(total, T(1) / static_cast<T>(z.numel())) : total;
}

template <class T>
TensorT<T> cross_entropy_loss(const TensorT<T>& logits, const std::vector<std::size_t>& labels) {
  if (!logits.defined() || logits.dim() != 2)
    throw ad::Error("cross_entropy_loss: logits must be [N, classes], got " +
                    (logits.defined() ? ad::shape_str(logits.shape()) : std::string("undefined")));
  const std::size_t n = logits.size(0), k = logits.size(1);
  if (labels.size() != n)
    throw ad::Error("cross_entropy_loss: " + std::to_string(labels.size()) + " labels for logits " + ad::shape_str(logits.shape()));
  TensorT<T> one_hot = TensorT<T>::zeros({n, k});
  for (std::size_t i = 0; i < n; ++i) {
    if (labels[i] >= k)
      throw ad::Error("cross_entropy_loss: label " + std::to_string(labels[i]) + " at row " + std::to_string(i) +
                      " is not below " + std::to_string(k) + " classes");
    one_hot.data()[i * k + labels[i]] = T(1);
  }
  return ad::mul(ad::sum(ad::masked_mul(ad::log_softmax(logits, 1), one_hot)), T(-1) / static_cast<T>(n));
}

template <class T>
TensorT<T> kl_normal(const TensorT<T>& mu, const TensorT<T>& logvar, Reduction r) {
  same_shape("kl_normal", mu, logvar);
  // BEGIN EXERCISE vae_reparam_kl
  // −½ Σ (1 + log σ² − μ² − σ²)
  const TensorT<T> terms = ad::sub(ad::sub(ad::add(logvar, T(1)), ad::square(mu)), ad::exp(logvar));
  TensorT<T> total = ad::mul(ad::sum(terms), T(-0.5));
  if (r == Reduction::Mean) total = ad::mul(total, T(1) / static_cast<T>(mu.size(0)));
  return total;
  // END EXERCISE vae_reparam_kl
}

template <class T>
TensorT<T> kl_sparsity(const TensorT<T>& hidden, double rho_d) {
  if (!hidden.defined() || hidden.dim() != 2)
    throw ad::Error("kl_sparsity: hidden activations must be [N, units]");
  if (!(rho_d > 0.0 && rho_d < 1.0)) {
    std::ostringstream os;
    os << "kl_sparsity: target activation rho=" << rho_d << " must lie strictly between 0 and 1";
    throw ad::Error(os.str());
  }
  // BEGIN EXERCISE sparse_kl
  const T rho = static_cast<T>(rho_d);
  const T eps = std::is_same_v<T, float> ? T(1e-6) : T(1e-12);
  const TensorT<T> rho_hat = ad::clamp(ad::mean(hidden, {0}), eps, T(1) - eps);  // ρ̂_j
  // ρ log(ρ/ρ̂) + (1 − ρ) log((1 − ρ)/(1 − ρ̂))
  const TensorT<T> kl = ad::add(ad::mul(ad::neg(ad::log(rho_hat)), rho), ad::mul(ad::neg(ad::log(ad::rsub(T(1), rho_hat))), T(1) - rho));
  const T constant = rho * std::log(rho) + (T(1) - rho) * std::log(T(1) - rho);
  return ad::add(ad::sum(kl), constant * static_cast<T>(hidden.size(1)));
  // END EXERCISE sparse_kl
}

template <class T>
TensorT<T> l1_activity(const TensorT<T>& hidden) {
  if (!hidden.defined() || hidden.dim() < 1) throw ad::Error("l1_activity: hidden activations must be [N, ...]");
  return ad::mul(ad::sum(ad::abs(hidden)), T(1) / static_cast<T>(hidden.size(0)));
}

#define NN_LOSSES(T)                                                                              \
  template TensorT<T> mse_loss(const TensorT<T>&, const TensorT<T>&, Reduction);                  \
  template TensorT<T> bce_loss(const TensorT<T>&, const TensorT<T>&, Reduction);                  \
  template TensorT<T> bce_with_logits_loss(const TensorT<T>&, const TensorT<T>&, Reduction);      \
  template TensorT<T> cross_entropy_loss(const TensorT<T>&, const std::vector<std::size_t>&);     \
  template TensorT<T> kl_normal(const TensorT<T>&, const TensorT<T>&, Reduction);                 \
  template TensorT<T> kl_sparsity(const TensorT<T>&, double);                                     \
  template TensorT<T> l1_activity(const TensorT<T>&);
NN_LOSSES(float)
NN_LOSSES(double)

}  // namespace nn
