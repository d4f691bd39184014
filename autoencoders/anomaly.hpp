// Anomaly detection with an autoencoder: train on normal data only; an input the model reconstructs badly is an
// anomaly.
//   score(x) = (1/N) Σ_j (x_j − x'_j)²,  x' = dec(enc(x));   anomaly ⇔ score(x) > τ       — slides 001 "Anomaly
//   detection with AEs"; 000, 002, 004 (applications)
// How well a score separates anomalies from normal data, over every threshold at once:
//   AUROC = P(score(anomaly) > score(normal)) + ½ P(tie) = U / (n₊ n₋)   (Mann–Whitney U, tied ranks averaged)
#pragma once

#include <vector>

#include "autodiff/ops.hpp"

namespace ae {

// score(x) for each row: the mean squared error between a row of `data` and its reconstruction, in double.
std::vector<double> squared_error_per_row(const ad::Tensor& data, const ad::Tensor& reconstructions);

// The threshold τ as a quantile of scores: the q-quantile of `values` (0 ≤ q ≤ 1), linear between the sorted
// values at positions ⌊q(n−1)⌋ and ⌈q(n−1)⌉ (numpy's and torch.quantile's default). Throws when there are no
// values, a value is NaN, or q is outside [0, 1].
double quantile(std::vector<double> values, double q);

// AUROC of a score meant to be higher for `positives` (anomalies) than for `negatives` (normal data):
// U / (n₊ n₋) with U = Σ rank(positive) − n₊(n₊+1)/2 over the pooled scores ranked from 1, tied scores sharing the
// mean of their ranks: exactly the area under the empirical ROC curve, a tie counted as ½.
double auroc(const std::vector<double>& positives, const std::vector<double>& negatives);

// The ROC curve: (false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1).
struct Roc {
  std::vector<double> fpr, tpr;
};
Roc roc_curve(const std::vector<double>& positives, const std::vector<double>& negatives);

}  // namespace ae
