#include "autoencoders/probe.hpp"

#include <cmath>

#include "autodiff/parallel.hpp"
#include "nn/losses.hpp"

namespace ae {

double classification_error(const Tensor& logits, const std::vector<std::size_t>& labels) {
  if (logits.dim() != 2 || logits.size(0) != labels.size())
    throw ad::Error("classification_error: logits " + ad::shape_str(logits.shape()) + " for " + std::to_string(labels.size()) +
                    " labels");
  const std::size_t n = logits.size(0), k = logits.size(1);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * k;
    std::size_t best = 0;
    for (std::size_t c = 1; c < k; ++c) best = row[c] > row[best] ? c : best;
    wrong += best != labels[i];
  }
  return n ? static_cast<double>(wrong) / static_cast<double>(n) : 0.0;
}

ProbeResult linear_probe(const Tensor& train_codes, const std::vector<std::size_t>& train_labels, const Tensor& test_codes,
                         const std::vector<std::size_t>& test_labels, const ProbeOptions& options) {
  if (train_codes.dim() != 2 || test_codes.dim() != 2 || train_codes.size(1) != test_codes.size(1))
    throw ad::Error("linear_probe: codes " + ad::shape_str(train_codes.shape()) + " and " + ad::shape_str(test_codes.shape()) +
                    " should be [N, features] with the same features");
  const std::size_t d = train_codes.size(1);
  // standardise with the training codes' statistics: z_j = (h_j − μ_j) / (σ_j + σ̄/10), where σ̄ is the mean
  // spread over the features; the σ̄/10 keeps a feature that barely moves in training (a border pixel, a dead
  // unit) from blowing up on the test set
  const std::size_t n = train_codes.size(0);
  std::vector<double> mean(d, 0.0), scale(d, 1.0);  // μ_j and σ_j + σ̄/10, in double
  if (options.standardize() && n > 0) {
    const float* x = train_codes.data();
    std::vector<double> var(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) mean[j] += x[i * d + j];
    for (double& m : mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) var[j] += (x[i * d + j] - mean[j]) * (x[i * d + j] - mean[j]);
    double mean_sd = 0;  // σ̄
    for (std::size_t j = 0; j < d; ++j) {
      scale[j] = std::sqrt(var[j] / static_cast<double>(n));
      mean_sd += scale[j] / static_cast<double>(d);
    }
    for (double& s : scale) s += 0.1 * mean_sd + 1e-12;
  }
  auto standardised = [&](const Tensor& codes) {
    Tensor z = Tensor::zeros(codes.shape());
    const float* x = codes.data();
    float* out = z.data();
    ad::parallel_for(codes.size(0), 256, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t i = r0; i < r1; ++i)
        for (std::size_t j = 0; j < d; ++j) out[i * d + j] = static_cast<float>((x[i * d + j] - mean[j]) / scale[j]);
    });
    return z;
  };
  const Tensor train_x = standardised(train_codes), test_x = standardised(test_codes);
  ad::Generator gen(options.seed());
  nn::Linear head(d, options.classes(), gen);
  nn::DataLoader loader(train_x, train_labels, options.batch(), gen);
  nn::Adam adam(head.named_parameters(), options.lr(), 0.9, 0.999, 1e-8, options.weight_decay());
  ProbeResult result;
  result.history = fit(head, loader, adam, options.epochs(), [&head](const nn::Batch& b) {
    Loss l;
    l.add("cross_entropy", nn::cross_entropy_loss(head(b.x), b.labels));
    return l;
  });
  head.eval();
  result.train_error = classification_error(map_batches(train_x, [&](const Tensor& x) { return head(x); }), train_labels);
  result.test_error = classification_error(map_batches(test_x, [&](const Tensor& x) { return head(x); }), test_labels);
  return result;
}

}  // namespace ae
