// Losses and penalties, each a few autodiff ops with its formula beside it.
#pragma once

#include <vector>

#include "autodiff/ops.hpp"

namespace nn {

using ad::TensorT;

enum class Reduction { Mean, Sum };

// MSE: (1/n) Σ (x' − x)²  (slides 003 "Arquitetura"), or the sum.
template <class T> TensorT<T> mse_loss(const TensorT<T>& prediction, const TensorT<T>& target, Reduction r = Reduction::Mean);

// BCE on probabilities p ∈ [0, 1]: −[x log p + (1 − x) log(1 − p)], as PyTorch's binary_cross_entropy: each log
// clamped at −100 (finite at 0 and 1) and the gradient (p − x)/max(p(1 − p), 1e-12). Prefer bce_with_logits_loss
// where the logits exist: after a sigmoid, p rounds to 0 or 1 in float for |logit| ≳ 17 and 88.
template <class T> TensorT<T> bce_loss(const TensorT<T>& probability, const TensorT<T>& target, Reduction r = Reduction::Mean);

// BCE on logits z, stable for any z: softplus(z) − x z  (= −[x log σ(z) + (1 − x) log(1 − σ(z))]).
template <class T> TensorT<T> bce_with_logits_loss(const TensorT<T>& logits, const TensorT<T>& target, Reduction r = Reduction::Mean);

// Cross-entropy of class logits [N, K] against labels: −(1/N) Σ_n log softmax(z_n)[y_n].
template <class T> TensorT<T> cross_entropy_loss(const TensorT<T>& logits, const std::vector<std::size_t>& labels);

// KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²), closed form (slides 003 "Variational Autoencoder").
// Sum: over the whole batch; Mean: per sample (sum / N).
template <class T> TensorT<T> kl_normal(const TensorT<T>& mu, const TensorT<T>& logvar, Reduction r = Reduction::Sum);

// Sparsity: Σ_j KL(ρ ‖ ρ̂_j) = Σ_j ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j)), with ρ̂_j the mean activation of
// unit j over the batch (slides 004 "SPARSE AUTOENCODERS"). h [N, M] must lie in (0, 1) (sigmoid units).
template <class T> TensorT<T> kl_sparsity(const TensorT<T>& hidden, double rho);

// L1 activity: (1/N) Σ_n Σ_j |h_nj|  (slides 004: R(h) = λ Σ |h_i|; λ is applied by the caller).
template <class T> TensorT<T> l1_activity(const TensorT<T>& hidden);

}  // namespace nn
