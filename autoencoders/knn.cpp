#include "autoencoders/knn.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace ae {

std::vector<std::vector<std::size_t>> nearest_neighbours(const ad::Tensor& database, const ad::Tensor& queries,
                                                         std::size_t k) {
  if (database.dim() != 2 || queries.dim() != 2 || database.size(1) != queries.size(1))
    throw ad::Error("nearest_neighbours: database " + ad::shape_str(database.shape()) + " and queries " +
                    ad::shape_str(queries.shape()) + " should be [N, features] with the same features");
  const std::size_t n = database.size(0), d = database.size(1);
  if (k == 0 || k > n) throw ad::Error("nearest_neighbours: k=" + std::to_string(k) + " for " + std::to_string(n) + " rows");
  ad::NoGradGuard no_grad;
  std::vector<float> db_norm(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = database.data() + i * d;
    db_norm[i] = std::inner_product(row, row + d, row, 0.0f);
  }
  std::vector<std::vector<std::size_t>> result(queries.size(0));
  constexpr std::size_t kBlock = 512;  // queries per product: [512, n] distances at a time
  std::vector<std::size_t> order(n);
  for (std::size_t start = 0; start < queries.size(0); start += kBlock) {
    const std::size_t end = std::min(queries.size(0), start + kBlock);
    const ad::Tensor dots = ad::matmul(ad::slice(queries, 0, start, end), database, false, true);  // q·d
    for (std::size_t q = start; q < end; ++q) {
      const float* dq = dots.data() + (q - start) * n;
      // ‖q‖² is the same for every candidate: rank by ‖d‖² − 2 q·d
      std::iota(order.begin(), order.end(), 0);
      auto closer = [&](std::size_t a, std::size_t b) {
        const float da = db_norm[a] - 2 * dq[a], db = db_norm[b] - 2 * dq[b];
        return da < db || (da == db && a < b);
      };
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), closer);
      result[q].assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
  return result;
}

double knn_accuracy(const ad::Tensor& train_codes, const std::vector<std::size_t>& train_labels, const ad::Tensor& test_codes,
                    const std::vector<std::size_t>& test_labels, std::size_t k) {
  if (train_labels.size() != train_codes.size(0) || test_labels.size() != test_codes.size(0))
    throw ad::Error("knn_accuracy: labels do not match the codes' rows");
  const auto neighbours = nearest_neighbours(train_codes, test_codes, k);
  std::size_t right = 0;
  for (std::size_t q = 0; q < neighbours.size(); ++q) {
    std::map<std::size_t, std::size_t> votes;
    for (auto i : neighbours[q]) ++votes[train_labels[i]];
    std::size_t best = train_labels[neighbours[q][0]], best_votes = votes[best];
    for (auto i : neighbours[q])  // nearest first: a tie keeps the label seen first
      if (votes[train_labels[i]] > best_votes) best = train_labels[i], best_votes = votes[best];
    right += best == test_labels[q];
  }
  return test_labels.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(test_labels.size());
}

}  // namespace ae
