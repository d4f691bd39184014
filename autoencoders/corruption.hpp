// Input corruption, the denoising step R(ξ'|ξ): "the loss is computed against the original input, not the noisy
// one" (slides 003 "Denoising autoencoder"; 004 "DENOISING AUTOENCODERS"). Any Autoencoder switches it on with
// AutoencoderOptions().corruption(...).noise_level(...); it is applied in training only.
#pragma once

#include <string>

#include "autodiff/ops.hpp"

namespace ae {

// R(ξ'|ξ):
//   Gaussian:        ξ' = clip(ξ + σ ε, 0, 1),  ε ~ N(0, I)      (level = σ; clipped to the pixels' range)
//   Masking:         each pixel set to 0 with probability ν       (level = ν)
//   SaltAndPepper:   each pixel set to 0 or 1 (half each) with probability p   (level = p)
enum class Corruption { None, Gaussian, Masking, SaltAndPepper };

ad::Tensor corrupt(const ad::Tensor& x, Corruption kind, double level, ad::Generator& gen);  // a constant (no graph)
Corruption parse_corruption(const std::string& name);  // "none", "gaussian", "masking", "salt_and_pepper"

}  // namespace ae
