// Denoising autoencoder: corrupt ξ into ξ' by a stochastic map R(ξ'|ξ), encode h = f(ξ'), decode x' = g(h),
// and minimise the error between x' and the clean ξ.
//   — slides 004 "DENOISING AUTOENCODERS"; 003 "Denoising autoencoder" ("a perda é computada levando em
//   consideração o input original não o input ruidoso"); 002 "Corrupted image / Predicted image"
// It is the basic autoencoder with its corruption step switched on (corruption.hpp has R); any other variant
// switches it on the same way, e.g. a sparse denoising autoencoder.
// Departures from the slide: corruption is applied only in training (eval reconstructs what it is given); the
// Gaussian noise is clipped to the pixels' range [0, 1].
#pragma once

#include "autoencoders/autoencoder.hpp"

namespace ae {

struct DenoisingOptions {
  AE_ARG(Corruption, corruption) = Corruption::Gaussian;
  AE_ARG(double, level) = 0.5;
};

class DenoisingAutoencoder : public Autoencoder {
 public:
  DenoisingAutoencoder(AutoencoderOptions architecture, DenoisingOptions denoising, ad::Generator& gen);
  std::string type_name() const override { return "DenoisingAutoencoder"; }
};

}  // namespace ae
