// Sparse autoencoder: L(x, x') + R(h), where R penalises many hidden units active at once
//   KL:  R = β Σ_j KL(ρ ‖ ρ'_j) = β Σ_j ρ log(ρ/ρ'_j) + (1−ρ) log((1−ρ)/(1−ρ'_j)),  ρ'_j = mean activation of unit j
//   L1:  R = λ Σ_i |h_i|
//   — slides 004 "SPARSE AUTOENCODERS"; 002 "Sparse autoencoders incorporate a sparsity constraint during training"
// (k-sparse, the third option on the slide, is in k_sparse.hpp.)
#pragma once

#include "autoencoders/autoencoder.hpp"

namespace ae {

enum class SparsityPenalty { L1, KL };

struct SparseConfig {
  AutoencoderConfig architecture{{784, 196}};  // code activation sigmoid: the KL needs units in (0, 1)
  SparsityPenalty penalty = SparsityPenalty::KL;
  double lambda = 1e-3;  // L1 weight λ
  double rho = 0.05;     // KL target activation ρ
  double beta = 3.0;     // KL weight β
};

class SparseAutoencoder : public Autoencoder {
 public:
  SparseAutoencoder(SparseConfig config, ad::Generator& gen);
  Loss loss(const Tensor& x) override;
  std::string type_name() const override { return "SparseAutoencoder"; }
  Tensor penalty(const Tensor& h) const;  // R(h), weighted
  const SparseConfig& sparse_config() const { return sparse_; }

 private:
  SparseConfig sparse_;
};

}  // namespace ae
