// k nearest neighbours by Euclidean distance, over an encodings table: "the encoder makes a table of codes; a
// query image is encoded and its nearest codes are looked up" (slides 003 "Recuperação de Imagens"; 002 "Image
// search"). Used to score a code space (kNN accuracy) and to retrieve images.
// Distances through matrix products: ‖q − d‖² = ‖q‖² − 2 q·d + ‖d‖², and ‖q‖² is the same for every candidate, so
// the rows are ranked by ‖d‖² − 2 q·d.
#pragma once

#include <vector>

#include "autodiff/ops.hpp"

namespace ae {

// The encodings table of the slide, made ready to search: the rows and their squared norms ‖d_i‖².
// nearest(queries, k) gives each query's k nearest rows, nearest first (equal distances: the lower row first).
// (How it is fast, a tile of products at a time with a bounded heap per query: docs/PERFORMANCE.md.)
class EncodingsTable {
 public:
  explicit EncodingsTable(const ad::Tensor& table);
  std::vector<std::vector<std::size_t>> nearest(const ad::Tensor& queries, std::size_t k) const;
  const ad::Tensor& table() const { return table_; }

 private:
  ad::Tensor table_;
  std::vector<float> norm_;       // ‖d_i‖²
  std::vector<ad::Tensor> tiles_;  // the rows, 4096 at a time
};

// For each query row, the indices of its k nearest database rows, nearest first (ties: the lower index):
// EncodingsTable(database).nearest(queries, k).
std::vector<std::vector<std::size_t>> nearest_neighbours(const ad::Tensor& database, const ad::Tensor& queries,
                                                         std::size_t k);

// precision@k = (1/|Q|) Σ_q |{ the first k retrieved rows with the label of q }| / k, for k = 1 … k_max: how the
// image search scores its answers (labels only score, never train). neighbours[q] lists query q's retrieved
// database rows, nearest first (at least k_max of them).
std::vector<double> precision_at_k(const std::vector<std::vector<std::size_t>>& neighbours,
                                   const std::vector<std::size_t>& database_labels,
                                   const std::vector<std::size_t>& query_labels, std::size_t k_max);

// The fraction of test rows whose label is the majority among their k nearest training rows (a tie goes to the
// label of the nearest of the tied labels).
double knn_accuracy(const ad::Tensor& train_codes, const std::vector<std::size_t>& train_labels, const ad::Tensor& test_codes,
                    const std::vector<std::size_t>& test_labels, std::size_t k = 5);

}  // namespace ae
