// Ratings: who rated what, how much. A recommender's data is a users × items matrix with most entries missing
// (slides 003 "Sistemas de Recomendação"). Read from the MovieLens files, or made from a seed:
//   u.data       (MovieLens 100K)  user<TAB>item<TAB>rating<TAB>timestamp
//   ratings.dat  (MovieLens 1M)    user::item::rating::timestamp
//   ratings.csv  (MovieLens latest) a header userId,movieId,rating,timestamp, then user,item,rating,timestamp
// The format is detected from the file's first line. Ids are non-negative integers, remapped to dense indices
// 0..users−1 and 0..items−1 in increasing order of id; ratings are positive numbers (0 marks "not rated" in the
// matrices below). A malformed line, a repeated (user, item) pair or an empty file is refused with an ad::Error
// that names the file and the line.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/arg.hpp"
#include "autodiff/ops.hpp"

namespace nn {

struct Rating {
  std::size_t user = 0, item = 0;  // dense indices
  float value = 0;
};

struct Ratings {
  std::string source;                        // the file read, or how the synthetic matrix was made
  std::size_t users = 0, items = 0;          // the matrix's size
  std::vector<Rating> entries;               // the observed entries, in the file's order
  std::vector<std::uint64_t> user_ids, item_ids;  // the file's ids, by dense index
  std::size_t size() const { return entries.size(); }
  double density() const;                    // observed fraction of the users × items entries
};

enum class RatingsFormat { Tab, DoubleColon, Csv };  // u.data, ratings.dat, ratings.csv
RatingsFormat detect_ratings_format(const std::string& first_line);  // throws on none of the three
std::string format_name(RatingsFormat f);

// Reads a MovieLens ratings file (any of the three formats).
Ratings read_ratings(const std::string& path);

// A low-rank ratings matrix made from a seed, MovieLens-100K-sized by default (943 × 1682, 100,000 ratings):
//   S_ui = μ + b_u + c_i + p_u · q_i      (a noise-free score: rank ≤ rank + 2, the biases add two)
//   r_ui = clip(round(S_ui + ε_ui), 1, 5),  ε ~ N(0, noise²)
// with b_u ~ N(0, user_bias²), c_i ~ N(0, item_bias²), p_u, q_i ~ N(0, I) scaled so p_u · q_i has standard
// deviation `interaction`. Which entries are observed is drawn without replacement with weights a_u · w_i
// (log-normal user activity and item popularity, as in MovieLens: a few items are rated by many, most by few),
// exactly round(density · users · items) of them.
struct SyntheticRatingsOptions {
  AE_ARG(std::size_t, users) = 943;
  AE_ARG(std::size_t, items) = 1682;
  AE_ARG(std::size_t, rank) = 10;       // of the user-item interaction p_u · q_i
  AE_ARG(double, density) = 100000.0 / (943.0 * 1682.0);  // observed fraction (6.3 %): MovieLens 100K's
  AE_ARG(double, mean) = 3.55;          // μ
  AE_ARG(double, user_bias) = 0.35;     // standard deviations
  AE_ARG(double, item_bias) = 0.45;
  AE_ARG(double, interaction) = 0.7;
  AE_ARG(double, noise) = 0.5;
  AE_ARG(double, activity_spread) = 0.8;    // σ of log a_u
  AE_ARG(double, popularity_spread) = 1.2;  // σ of log w_i
};

struct SyntheticRatings {
  Ratings ratings;             // the observed, rounded ratings
  std::vector<double> scores;  // S, every entry, [users × items] row-major (user u, item i at u · items + i)
};
SyntheticRatings synthetic_ratings(const SyntheticRatingsOptions& options, std::uint64_t seed);

// The observed entries split at random (from the seed) into train and test; both keep the full matrix size and ids.
struct RatingsSplit {
  Ratings train, test;
};
RatingsSplit split_ratings(const Ratings& ratings, double test_fraction, std::uint64_t seed);

// The matrix with items as rows: row i holds item i's ratings by every user, 0 where not rated: [items, users].
// (I-AutoRec's inputs r_i.) user_vectors is the transpose, [users, items] (U-AutoRec's).
ad::Tensor item_vectors(const Ratings& ratings);
ad::Tensor user_vectors(const Ratings& ratings);

// The two baselines: the mean training rating, and each item's mean training rating (the global mean for an item
// without training ratings).
double global_mean(const Ratings& train);
std::vector<double> item_means(const Ratings& train);
// √(mean over `test` of (prediction(user, item) − rating)²)
template <class F>
double rmse(const Ratings& test, F prediction) {
  double sum = 0;
  for (const Rating& r : test.entries) {
    const double e = prediction(r.user, r.item) - r.value;
    sum += e * e;
  }
  return test.entries.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(test.entries.size()));
}

}  // namespace nn
