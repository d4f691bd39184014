// Missing value imputation — slides 002 "Applications of Autoencoders: ... Missing value imputation".
// A mask m ∈ {0, 1}^D marks the observed pixels (1) and the hidden ones (0). Every method keeps what it observed
// and fills only the holes:
//   x̂ = m ⊙ x + (1 − m) ⊙ f(x)
//   mean:         f = μ, the per-pixel mean of the training images
//   PCA:          x⁽⁰⁾ = m⊙x + (1−m)⊙μ,  x⁽ᵗ⁺¹⁾ = m⊙x + (1−m)⊙(μ + (x⁽ᵗ⁾ − μ) V_kᵀ S V_k),  until the hidden pixels
//                 stop moving; V_k the top k principal axes of the training digits (rows), S = diag(1 − σ²/λ_i) with
//                 σ² the mean of the other eigenvalues (probabilistic PCA's noise; Tipping & Bishop 1999). This is
//                 regularised iterative PCA (Josse & Husson 2012); its fixed point is the conditional mean
//                 E[x_h | x_o] of the Gaussian N(μ, V_kᵀ(Λ_k − σ²I)V_k + σ²I). Without the shrinkage (S = I) the fixed
//                 point is the code fitted by least squares to the observed pixels alone, which overshoots into
//                 large holes (a block, a half) where the observed pixels barely constrain some components.
//   autoencoder:  x⁽⁰⁾ = m⊙x (hidden pixels set to 0, as masking noise does),  x⁽ᵗ⁺¹⁾ = m⊙x + (1−m)⊙g(f(x⁽ᵗ⁾))
// Judged on the hidden pixels only:  RMSE = sqrt( Σ (1−m)⊙(x̂ − x)² / Σ (1−m) )
// The masks here are the lesson's three patterns, and their random family for training (mixed_masks).
#pragma once

#include <string>

#include "autoencoders/model.hpp"
#include "autoencoders/pca.hpp"

namespace ae {

// Which pixels are hidden, for [n, side·side] images (1 = observed, 0 = hidden):
//   RandomHalf:  exactly half the pixels of each image, drawn independently per image from the generator
//   CentreBlock: the centre (side/2)×(side/2) square (a quarter of the pixels, the same for every image)
//   LowerHalf:   the bottom side/2 rows
enum class MaskPattern { RandomHalf, CentreBlock, LowerHalf };
std::string mask_name(MaskPattern p);  // "random_half", "centre_block", "lower_half"
Tensor make_mask(MaskPattern p, std::size_t n, ad::Generator& gen, std::size_t side = 28);

// The masking noise the imputing autoencoder trains with: each image draws one hole at random from a family that
// contains the three patterns (its hidden pixels are set to 0 by hide()):
//   half of the images: pixel masking, ν uniform in [0.25, 0.75];
//   a quarter: a square block of side/4 to 3·side/4 pixels at a random position;
//   a quarter: one part of the image (top, bottom, left or right), cut at a random row or column in [side/3, 2·side/3].
Tensor mixed_masks(std::size_t n, ad::Generator& gen, std::size_t side = 28);

// m ⊙ x + (1 − m) ⊙ fill: the observed pixels with the hidden ones set to `fill` (a number, [D] or [n, D]).
Tensor keep_observed(const Tensor& x, const Tensor& mask, const Tensor& fill);
Tensor hide(const Tensor& x, const Tensor& mask, float value = 0.0f);  // hidden pixels set to `value`

Tensor pixel_means(const Tensor& train);                                  // μ [D], per pixel over the rows
Tensor impute_mean(const Tensor& x, const Tensor& mask, const Tensor& means);

struct PcaImputation {
  Tensor filled;             // [n, D]
  std::size_t iterations;    // until the RMS change of the hidden pixels fell below the tolerance (or the cap)
  double last_change;        // that RMS change at the last iteration
};
struct PcaImputationOptions {
  AE_ARG(std::size_t, components) = 32;
  AE_ARG(bool, regularised) = true;        // S = diag(1 − σ²/λ_i); false: the plain projection, S = I
  AE_ARG(double, tolerance) = 1e-4;        // RMS change of the hidden pixels between two iterations
  AE_ARG(std::size_t, max_iterations) = 500;
};
PcaImputation impute_pca(const Tensor& x, const Tensor& mask, const PCA& pca, const PcaImputationOptions& options = {});

// Fills the hidden pixels with the autoencoder's reconstruction of the masked image, `iterations` times (eval mode).
Tensor impute_autoencoder(AutoencoderModel& model, const Tensor& x, const Tensor& mask, std::size_t iterations = 1,
                          float hole = 0.0f);

double hidden_rmse(const Tensor& filled, const Tensor& truth, const Tensor& mask);  // RMSE over the hidden pixels
double hidden_fraction(const Tensor& mask);                                        // Σ (1−m) / (n·D)

}  // namespace ae
