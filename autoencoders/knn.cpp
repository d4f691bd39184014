#include "autoencoders/knn.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

#include "autodiff/multiversion.hpp"
#include "autodiff/parallel.hpp"

namespace ae {

namespace {

constexpr std::size_t kTileRows = 4096, kQueryBlock = 128;  // a [128, 4096] tile of products stays in cache
constexpr std::size_t kScan = 32;  // rows tested together against a query's k-th nearest

// distance[j] = norm[j] − 2·dot[j] for a block of kScan rows; whether any is below `farthest`.
AE_MULTIVERSION bool block_distances(const float* __restrict norm, const float* __restrict dot, float farthest,
                                     float* __restrict distance) {
  int closer = 0;
  for (std::size_t j = 0; j < kScan; ++j) {
    distance[j] = norm[j] - 2 * dot[j];
    closer += distance[j] < farthest;
  }
  return closer > 0;
}

// The k nearest rows seen so far for one query: a max-heap of (distance, row), the farthest on top. Rows are
// offered in increasing order and must be strictly closer to get in, so among equal distances the lower row stays.
class KNearest {
 public:
  explicit KNearest(std::size_t k) : k_(k) {}
  float farthest() const { return heap_.size() < k_ ? std::numeric_limits<float>::infinity() : heap_.front().first; }
  void offer(float distance, std::size_t row) {
    if (heap_.size() == k_) {
      if (!(distance < heap_.front().first)) return;
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
    }
    heap_.emplace_back(distance, row);
    std::push_heap(heap_.begin(), heap_.end());
  }
  std::vector<std::size_t> rows() {  // nearest first; equal distances by row
    std::sort(heap_.begin(), heap_.end());
    std::vector<std::size_t> out;
    for (const auto& entry : heap_) out.push_back(entry.second);
    return out;
  }

 private:
  std::size_t k_;
  std::vector<std::pair<float, std::size_t>> heap_;
};

}  // namespace

EncodingsTable::EncodingsTable(const ad::Tensor& table) : table_(table) {
  if (table.dim() != 2) throw ad::Error("EncodingsTable: expected [rows, features], got " + ad::shape_str(table.shape()));
  ad::NoGradGuard no_grad;
  const std::size_t n = table.size(0), d = table.size(1);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = table.data() + i * d;
    norm_.push_back(std::inner_product(row, row + d, row, 0.0f));
  }
  for (std::size_t first = 0; first < n; first += kTileRows) tiles_.push_back(ad::slice(table, 0, first, std::min(n, first + kTileRows)));
}

std::vector<std::vector<std::size_t>> EncodingsTable::nearest(const ad::Tensor& queries, std::size_t k) const {
  if (queries.dim() != 2 || queries.size(1) != table_.size(1))
    throw ad::Error("nearest_neighbours: database " + ad::shape_str(table_.shape()) + " and queries " +
                    ad::shape_str(queries.shape()) + " should be [N, features] with the same features");
  if (k == 0 || k > table_.size(0))
    throw ad::Error("nearest_neighbours: k=" + std::to_string(k) + " for " + std::to_string(table_.size(0)) + " rows");
  ad::NoGradGuard no_grad;
  std::vector<std::vector<std::size_t>> result;
  for (std::size_t start = 0; start < queries.size(0); start += kQueryBlock) {
    const ad::Tensor block = ad::slice(queries, 0, start, std::min(queries.size(0), start + kQueryBlock));
    std::vector<KNearest> best(block.size(0), KNearest(k));
    for (std::size_t t = 0; t < tiles_.size(); ++t) {
      const ad::Tensor dots = ad::matmul(block, tiles_[t], false, true);  // q·d
      const std::size_t rows = tiles_[t].size(0), offset = t * kTileRows;
      ad::parallel_for(block.size(0), 1, [&](std::size_t first, std::size_t last) {
        for (std::size_t q = first; q < last; ++q) {
          const float* dot = dots.data() + q * rows;
          const float* norm = norm_.data() + offset;
          float farthest = best[q].farthest();
          for (std::size_t i0 = 0; i0 < rows; i0 += kScan) {
            // a block of rows at a time: most blocks hold none closer than the k-th so far, a test that vectorises
            const std::size_t len = std::min(kScan, rows - i0);
            float distance[kScan];  // ‖q − d‖² − ‖q‖²
            if (len < kScan)  // the last rows of a tile: each is offered below
              for (std::size_t j = 0; j < len; ++j) distance[j] = norm[i0 + j] - 2 * dot[i0 + j];
            else if (!block_distances(norm + i0, dot + i0, farthest, distance))
              continue;
            for (std::size_t j = 0; j < len; ++j)
              if (distance[j] < farthest) {
                best[q].offer(distance[j], offset + i0 + j);
                farthest = best[q].farthest();
              }
          }
        }
      });
    }
    for (auto& b : best) result.push_back(b.rows());
  }
  return result;
}

std::vector<std::vector<std::size_t>> nearest_neighbours(const ad::Tensor& database, const ad::Tensor& queries,
                                                         std::size_t k) {
  if (database.dim() != 2 || queries.dim() != 2 || database.size(1) != queries.size(1))
    throw ad::Error("nearest_neighbours: database " + ad::shape_str(database.shape()) + " and queries " +
                    ad::shape_str(queries.shape()) + " should be [N, features] with the same features");
  return EncodingsTable(database).nearest(queries, k);
}

std::vector<double> precision_at_k(const std::vector<std::vector<std::size_t>>& neighbours,
                                   const std::vector<std::size_t>& database_labels,
                                   const std::vector<std::size_t>& query_labels, std::size_t k_max) {
  if (neighbours.empty() || neighbours.size() != query_labels.size())
    throw ad::Error("precision_at_k: " + std::to_string(neighbours.size()) + " neighbour lists for " +
                    std::to_string(query_labels.size()) + " query labels");
  for (const auto& row : neighbours) {
    if (row.size() < k_max)
      throw ad::Error("precision_at_k: a query has " + std::to_string(row.size()) + " neighbours, k_max is " +
                      std::to_string(k_max));
    for (std::size_t i = 0; i < k_max; ++i)
      if (row[i] >= database_labels.size())
        throw ad::Error("precision_at_k: neighbour row " + std::to_string(row[i]) + " has no label (" +
                        std::to_string(database_labels.size()) + " database labels)");
  }
  std::vector<double> precision;
  // BEGIN EXERCISE precision_at_k
  std::vector<double> sum(k_max, 0.0);
  for (std::size_t q = 0; q < neighbours.size(); ++q) {
    std::size_t same = 0;  // neighbours with the query's label among the first k
    for (std::size_t k = 0; k < k_max; ++k) {
      same += database_labels[neighbours[q][k]] == query_labels[q];
      sum[k] += static_cast<double>(same) / static_cast<double>(k + 1);
    }
  }
  for (double s : sum) precision.push_back(s / static_cast<double>(neighbours.size()));
  // END EXERCISE precision_at_k
  return precision;
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
