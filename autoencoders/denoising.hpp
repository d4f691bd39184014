// Denoising autoencoder: corrupt ξ into ξ' by a stochastic map R(ξ'|ξ), encode h = f(ξ'), decode x' = g(h),
// and minimise the error between x' and the clean ξ.
//   — slides 004 "DENOISING AUTOENCODERS"; 003 "Denoising autoencoder" ("a perda é computada levando em
//   consideração o input original não o input ruidoso"); 002 "Corrupted image / Predicted image"
// Corruption is applied only in training; eval reconstructs what it is given.
#pragma once

#include <memory>

#include "autoencoders/autoencoder.hpp"

namespace ae {

enum class Corruption { Gaussian, Masking, SaltAndPepper };

// R(ξ'|ξ):
//   Gaussian:        ξ' = clip(ξ + σ ε, 0, 1),  ε ~ N(0, I)      (level = σ)
//   Masking:         each pixel set to 0 with probability ν       (level = ν)
//   SaltAndPepper:   each pixel set to 0 or 1 (half each) with probability p   (level = p)
Tensor corrupt(const Tensor& x, Corruption kind, double level, ad::Generator& gen);
Corruption parse_corruption(const std::string& name);  // "gaussian", "masking", "salt_and_pepper"

struct DenoisingConfig {
  AutoencoderConfig architecture{{784, 128}};
  Corruption corruption = Corruption::Gaussian;
  double level = 0.5;
};

class DenoisingAutoencoder : public Autoencoder {
 public:
  DenoisingAutoencoder(DenoisingConfig config, std::shared_ptr<ad::Generator> gen);
  Loss loss(const Tensor& x) override;  // L(g(f(ξ')), ξ) with ξ' drawn from R(ξ'|ξ) in training
  Loss loss_on(const Tensor& corrupted, const Tensor& clean);  // L(g(f(ξ')), ξ) for a given ξ' 
  std::string type_name() const override { return "DenoisingAutoencoder"; }
  const DenoisingConfig& denoising_config() const { return denoising_; }

 private:
  DenoisingConfig denoising_;
  std::shared_ptr<ad::Generator> gen_;
};

}  // namespace ae
