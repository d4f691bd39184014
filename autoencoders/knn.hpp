// k nearest neighbours by Euclidean distance, over an encodings table: "the encoder makes a table of codes; a
// query image is encoded and its nearest codes are looked up" (slides 003 "Recuperação de Imagens"; 002 "Image
// search"). Used to score a code space (kNN accuracy) and to retrieve images.
// Distances through one matrix product per block of queries: ‖q − d‖² = ‖q‖² − 2 q·d + ‖d‖².
#pragma once

#include <vector>

#include "autodiff/ops.hpp"

namespace ae {

// For each query row, the indices of its k nearest database rows, nearest first (ties: the lower index).
std::vector<std::vector<std::size_t>> nearest_neighbours(const ad::Tensor& database, const ad::Tensor& queries,
                                                         std::size_t k);

// The fraction of test rows whose label is the majority among their k nearest training rows (a tie goes to the
// label of the nearest of the tied labels).
double knn_accuracy(const ad::Tensor& train_codes, const std::vector<std::size_t>& train_labels, const ad::Tensor& test_codes,
                    const std::vector<std::size_t>& test_labels, std::size_t k = 5);

}  // namespace ae
