#include "autoencoders/imputation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autoencoders/trainer.hpp"

namespace ae {

namespace {

void check_pair(const Tensor& x, const Tensor& mask, const char* op) {
  if (x.dim() != 2 || x.shape() != mask.shape())
    throw ad::Error(std::string(op) + ": images " + ad::shape_str(x.shape()) + " and mask " + ad::shape_str(mask.shape()) +
                    " must both be [n, D]");
}

// Hides the rectangle rows [r0, r1) × columns [c0, c1) of one image's mask.
void hide_rectangle(float* m, std::size_t side, std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
  for (std::size_t r = r0; r < r1; ++r)
    for (std::size_t c = c0; c < c1; ++c) m[r * side + c] = 0.0f;
}

void hide_random_fraction(float* m, std::size_t d, std::size_t hidden, ad::Generator& gen) {
  std::vector<std::size_t> order(d);
  std::iota(order.begin(), order.end(), 0);
  gen.shuffle(order.begin(), order.end());
  for (std::size_t i = 0; i < hidden; ++i) m[order[i]] = 0.0f;
}

}  // namespace

std::string mask_name(MaskPattern p) {
  switch (p) {
    case MaskPattern::RandomHalf: return "random_half";
    case MaskPattern::CentreBlock: return "centre_block";
    case MaskPattern::LowerHalf: return "lower_half";
  }
  return "?";
}

Tensor make_mask(MaskPattern p, std::size_t n, ad::Generator& gen, std::size_t side) {
  const std::size_t d = side * side, half = side / 2, quarter = side / 4;
  Tensor mask = Tensor::ones({n, d});
  for (std::size_t i = 0; i < n; ++i) {
    float* m = mask.data() + i * d;
    switch (p) {
      case MaskPattern::RandomHalf: hide_random_fraction(m, d, d / 2, gen); break;
      case MaskPattern::CentreBlock: hide_rectangle(m, side, quarter, quarter + half, quarter, quarter + half); break;
      case MaskPattern::LowerHalf: hide_rectangle(m, side, side - half, side, 0, side); break;
    }
  }
  return mask;
}

Tensor mixed_masks(std::size_t n, ad::Generator& gen, std::size_t side) {
  const std::size_t d = side * side;
  Tensor mask = Tensor::ones({n, d});
  for (std::size_t i = 0; i < n; ++i) {
    float* m = mask.data() + i * d;
    switch (gen.randint(4)) {
      case 0:
      case 1:  // pixel masking, ν ∈ [0.25, 0.75]
        hide_random_fraction(m, d, static_cast<std::size_t>((0.25 + 0.5 * gen.uniform()) * static_cast<double>(d)), gen);
        break;
      case 2: {  // a square block anywhere
        const std::size_t s = side / 4 + gen.randint(side / 2 + 1);
        const std::size_t r = gen.randint(side - s + 1), c = gen.randint(side - s + 1);
        hide_rectangle(m, side, r, r + s, c, c + s);
        break;
      }
      default: {  // one half, cut between a third and two thirds
        const std::size_t cut = side / 3 + gen.randint(side / 3 + 1);
        switch (gen.randint(4)) {
          case 0: hide_rectangle(m, side, 0, cut, 0, side); break;     // top
          case 1: hide_rectangle(m, side, cut, side, 0, side); break;  // bottom
          case 2: hide_rectangle(m, side, 0, side, 0, cut); break;     // left
          default: hide_rectangle(m, side, 0, side, cut, side); break; // right
        }
      }
    }
  }
  return mask;
}

Tensor keep_observed(const Tensor& x, const Tensor& mask, const Tensor& fill) {
  check_pair(x, mask, "keep_observed");
  ad::NoGradGuard no_grad;
  // m ⊙ x + (1 − m) ⊙ fill
  return ad::add(ad::mul(mask, x.detach()), ad::mul(ad::sub(Tensor::scalar(1.0f), mask), fill.detach()));
}

Tensor hide(const Tensor& x, const Tensor& mask, float value) { return keep_observed(x, mask, Tensor::scalar(value)); }

Tensor pixel_means(const Tensor& train) {
  if (train.dim() != 2 || train.size(0) == 0) throw ad::Error("pixel_means: data must be [N ≥ 1, D], got " + ad::shape_str(train.shape()));
  const std::size_t n = train.size(0), d = train.size(1);
  std::vector<double> sum(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) sum[j] += train.data()[i * d + j];
  Tensor mu = Tensor::zeros({d});
  for (std::size_t j = 0; j < d; ++j) mu.data()[j] = static_cast<float>(sum[j] / static_cast<double>(n));
  return mu;
}

Tensor impute_mean(const Tensor& x, const Tensor& mask, const Tensor& means) { return keep_observed(x, mask, means); }

PcaImputation impute_pca(const Tensor& x, const Tensor& mask, const PCA& pca, const PcaImputationOptions& options) {
  check_pair(x, mask, "impute_pca");
  const std::size_t k = options.components();
  // S = diag(1 − σ²/λ_i), σ² = the mean variance of the discarded axes (or no shrinkage)
  const std::vector<double>& lambda = pca.explained_variance();
  if (k == 0 || k >= lambda.size()) throw ad::Error("impute_pca: components must be in [1, " + std::to_string(lambda.size()) + ")");
  const double sigma2 = std::accumulate(lambda.begin() + static_cast<std::ptrdiff_t>(k), lambda.end(), 0.0) /
                        static_cast<double>(lambda.size() - k);
  Tensor shrink = Tensor::ones({k});
  if (options.regularised())
    for (std::size_t i = 0; i < k; ++i) shrink.data()[i] = static_cast<float>(std::max(0.0, 1.0 - sigma2 / lambda[i]));
  const double hidden = std::max(1.0, hidden_fraction(mask) * static_cast<double>(mask.numel()));
  PcaImputation out{keep_observed(x, mask, pca.mean()), 0, 0.0};  // x⁽⁰⁾: the means in the holes
  float* filled = out.filled.data();
  const float* observed = mask.data();
  const std::size_t size = x.numel();
  while (out.iterations < options.max_iterations()) {
    // BEGIN EXERCISE pca_imputation_step
    const Tensor projection = pca.inverse_transform(ad::mul(pca.transform(out.filled, k), shrink));  // μ + (x − μ)VᵀSV
    const float* projected = projection.data();
    double change = 0;
    for (std::size_t i = 0; i < size; ++i) {  // the observed pixels stay (m = 1), the holes take the projection
      const float step = (1.0f - observed[i]) * (projected[i] - filled[i]);
      change += static_cast<double>(step) * step;
      filled[i] += step;
    }
    out.last_change = std::sqrt(change / hidden);
    // END EXERCISE pca_imputation_step
    ++out.iterations;
    if (out.last_change < options.tolerance()) break;
  }
  return out;
}

Tensor impute_autoencoder(AutoencoderModel& model, const Tensor& x, const Tensor& mask, std::size_t iterations, float hole) {
  check_pair(x, mask, "impute_autoencoder");
  const bool was_training = model.is_training();
  model.eval();
  ad::NoGradGuard no_grad;
  Tensor filled = hide(x, mask, hole);  // x⁽⁰⁾: the holes set to `hole`, as the masking noise of training
  for (std::size_t t = 0; t < iterations; ++t)
    filled = keep_observed(x, mask, map_batches(filled, [&](const Tensor& b) { return model.reconstruct(b); }));
  model.train(was_training);
  return filled;
}

double hidden_rmse(const Tensor& filled, const Tensor& truth, const Tensor& mask) {
  check_pair(filled, mask, "hidden_rmse");
  if (truth.shape() != mask.shape()) throw ad::Error("hidden_rmse: truth " + ad::shape_str(truth.shape()) + " and mask differ");
  const float *m = mask.data(), *a = filled.data(), *b = truth.data();
  double sum = 0, count = 0;
  for (std::size_t i = 0; i < mask.numel(); ++i)
    if (m[i] == 0.0f) {
      const double diff = static_cast<double>(a[i]) - b[i];
      sum += diff * diff;
      count += 1;
    }
  if (count == 0) throw ad::Error("hidden_rmse: the mask hides no pixel");
  return std::sqrt(sum / count);
}

double hidden_fraction(const Tensor& mask) {
  const float* m = mask.data();
  double hidden = 0;
  for (std::size_t i = 0; i < mask.numel(); ++i) hidden += m[i] == 0.0f;
  return hidden / static_cast<double>(mask.numel());
}

}  // namespace ae
