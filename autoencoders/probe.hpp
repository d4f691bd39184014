// A linear probe: how much a code says about the class. A softmax classifier (one Linear layer, cross-entropy,
// Adam, through the shared fit) is trained on the codes of the training set and scored on the test codes.
//   — "test error of a softmax classifier trained on each code" (the lessons on sparse and contractive codes;
//   004 "AUTOENCODERS PROFUNDOS": the encoder's features feed a supervised layer)
// The features are standardised with the training codes' mean and spread first (see probe.cpp), so that codes of
// any scale (sigmoid units, ReLU units, raw pixels) train with the same learning rate.
#pragma once

#include "autoencoders/trainer.hpp"

namespace ae {

struct ProbeOptions {
  AE_ARG(std::size_t, classes) = 10;
  AE_ARG(std::size_t, epochs) = 10;
  AE_ARG(std::size_t, batch) = 128;
  AE_ARG(double, lr) = 1e-3;
  AE_ARG(double, weight_decay) = 0.0;
  AE_ARG(std::uint64_t, seed) = 1;
  AE_ARG(bool, standardize) = true;
};

struct ProbeResult {
  double train_error = 0, test_error = 0;  // fractions of misclassified samples
  std::vector<EpochStats> history;         // the classifier's training ("loss" = "cross_entropy")
};

ProbeResult linear_probe(const Tensor& train_codes, const std::vector<std::size_t>& train_labels, const Tensor& test_codes,
                         const std::vector<std::size_t>& test_labels, const ProbeOptions& options = {});

// The fraction of rows whose largest logit is not their label.
double classification_error(const Tensor& logits, const std::vector<std::size_t>& labels);

}  // namespace ae
