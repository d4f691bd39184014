// Sparse autoencoder: L(x, x') + R(h), where R penalises many hidden units active at once
//   KL:  R = β Σ_j KL(ρ ‖ ρ'_j) = β Σ_j ρ log(ρ/ρ'_j) + (1−ρ) log((1−ρ)/(1−ρ'_j)),  ρ'_j = mean activation of unit j
//   L1:  R = λ Σ_i |h_i|
//   — slides 004 "SPARSE AUTOENCODERS"; 002 "Sparse autoencoders incorporate a sparsity constraint during training"
// (k-sparse, the third option on the slide, is in k_sparse.hpp.)
// Departures from the slide:
//   - ρ'_j is the mean activation over the batch, not over the whole training set (the usual mini-batch
//     estimate; Ng's notes compute it over all data with full-batch training).
//   - λ Σ|h_i| is averaged over the samples of the batch, like the reconstruction term it is added to.
#pragma once

#include "autoencoders/autoencoder.hpp"

namespace ae {

enum class SparsityPenalty { L1, KL };

struct SparsityOptions {
  AE_ARG(SparsityPenalty, penalty) = SparsityPenalty::KL;
  AE_ARG(double, lambda) = 1e-3;  // L1 weight λ
  AE_ARG(double, rho) = 0.05;     // KL target activation ρ
  AE_ARG(double, beta) = 3.0;     // KL weight β
};

class SparseAutoencoder : public Autoencoder {
 public:
  // The KL penalty needs code units in (0, 1): the architecture's code activation must be a sigmoid.
  SparseAutoencoder(AutoencoderOptions architecture, SparsityOptions sparsity, ad::Generator& gen);
  std::string type_name() const override { return "SparseAutoencoder"; }
  Tensor penalty(const Tensor& h) const;  // R(h), weighted
  const SparsityOptions& sparsity() const { return sparsity_; }

 protected:
  void add_penalties(Loss& loss, const Tensor& input, const Tensor& h) override;  // + "sparsity": R(h)

 private:
  SparsityOptions sparsity_;
};

}  // namespace ae
