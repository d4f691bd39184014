#include "autoencoders/anomaly.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "autodiff/parallel.hpp"

namespace ae {

namespace {
// The scores of both groups together, each marked positive or not; refuses empty groups and non-finite scores.
std::vector<std::pair<double, bool>> pool(const char* op, const std::vector<double>& positives, const std::vector<double>& negatives) {
  if (positives.empty() || negatives.empty())
    throw ad::Error(std::string(op) + ": needs at least one positive and one negative (got " + std::to_string(positives.size()) +
                    " and " + std::to_string(negatives.size()) + ")");
  std::vector<std::pair<double, bool>> pooled;
  for (double s : positives) pooled.push_back({s, true});
  for (double s : negatives) pooled.push_back({s, false});
  for (const auto& p : pooled)
    if (!std::isfinite(p.first)) throw ad::Error(std::string(op) + ": a score is not finite");
  return pooled;
}
}  // namespace

double quantile(std::vector<double> values, double q) {
  if (values.empty()) throw ad::Error("quantile: no values");
  if (!(q >= 0.0 && q <= 1.0)) throw ad::Error("quantile: q = " + std::to_string(q) + " is outside [0, 1]");
  for (double v : values)
    if (!std::isfinite(v)) throw ad::Error("quantile: a value is not finite");
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const std::size_t below = static_cast<std::size_t>(position), above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

std::vector<double> squared_error_per_row(const ad::Tensor& data, const ad::Tensor& reconstructions) {
  if (data.dim() != 2 || data.shape() != reconstructions.shape())
    throw ad::Error("squared_error_per_row: data " + ad::shape_str(data.shape()) + " and reconstructions " +
                    ad::shape_str(reconstructions.shape()) + " must be the same [N, D]");
  const std::size_t n = data.size(0), d = data.size(1);
  const float *x = data.data(), *r = reconstructions.data();
  std::vector<double> out(n);
  ad::parallel_for(n, 64, [&](std::size_t first, std::size_t last) {  // rows apart: each row's sum in one order
    for (std::size_t i = first; i < last; ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double e = static_cast<double>(x[i * d + j]) - static_cast<double>(r[i * d + j]);
        sum += e * e;
      }
      out[i] = sum / static_cast<double>(d);
    }
  });
  return out;
}

double auroc(const std::vector<double>& positives, const std::vector<double>& negatives) {
  auto pooled = pool("auroc", positives, negatives);
  // BEGIN EXERCISE auroc
  std::sort(pooled.begin(), pooled.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  double rank_sum = 0;  // of the positives
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1 … j
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum += mean_rank;
    i = j;
  }
  const double np = static_cast<double>(positives.size()), nn = static_cast<double>(negatives.size());
  return (rank_sum - np * (np + 1) / 2) / (np * nn);
  // END EXERCISE auroc
}

Roc roc_curve(const std::vector<double>& positives, const std::vector<double>& negatives) {
  auto pooled = pool("roc_curve", positives, negatives);
  std::sort(pooled.begin(), pooled.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  Roc roc{{0.0}, {0.0}};
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < pooled.size();) {  // lower the threshold past each distinct score
    std::size_t j = i;
    for (; j < pooled.size() && pooled[j].first == pooled[i].first; ++j) (pooled[j].second ? tp : fp) += 1;
    roc.fpr.push_back(fp / static_cast<double>(negatives.size()));
    roc.tpr.push_back(tp / static_cast<double>(positives.size()));
    i = j;
  }
  return roc;
}

}  // namespace ae
