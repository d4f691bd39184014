// Grader of the exercise precision_at_k (coursework/exercises/precision_at_k.md): how lesson 12 scores the images
// it retrieves, ae::precision_at_k in autoencoders/knn.cpp,
//   precision@k = (1/|Q|) Σ_q |{ the first k retrieved images with the label of q }| / k,   k = 1 … 50
//                                                     — slides 003 "Recuperação de Imagens"; 002 "Image search"
// Each case retrieves neighbours as lesson 12 does (ae::nearest_neighbours over the table) and scores them.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "autoencoders/knn.hpp"
#include "coursework/grader.hpp"

namespace {

using ad::Tensor;
constexpr std::size_t kMaxK = 50;  // lesson 12 scores k = 1 … 50

struct Retrieval {
  std::vector<double> precision;  // precision@k for k = 1 … kMaxK
};

const auto identity = [](const Tensor& x) { return x; };

template <class Encode>
Retrieval retrieve(const std::string&, const Tensor& database, const Tensor& queries, Encode encode,
                   const std::vector<std::size_t>& database_labels, const std::vector<std::size_t>& query_labels) {
  Retrieval r;
  r.precision = ae::precision_at_k(ae::nearest_neighbours(database, encode(queries), kMaxK), database_labels,
                                   query_labels, kMaxK);
  return r;
}

// precision@k for k = 1 … 50 by brute force: every distance in double, sorted (ties: the lower row first).
std::vector<double> brute_force(const Tensor& db, const std::vector<std::size_t>& db_labels, const Tensor& queries,
                                const std::vector<std::size_t>& query_labels) {
  const std::size_t n = db.size(0), d = db.size(1), k_max = 50;
  std::vector<double> sum(k_max, 0.0);
  for (std::size_t q = 0; q < queries.size(0); ++q) {
    std::vector<double> dist(n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        const double e = static_cast<double>(db.data()[i * d + j]) - queries.data()[q * d + j];
        dist[i] += e * e;
      }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return dist[a] < dist[b]; });
    std::size_t same = 0;
    for (std::size_t k = 0; k < k_max; ++k) {
      same += db_labels[order[k]] == query_labels[q];
      sum[k] += static_cast<double>(same) / static_cast<double>(k + 1);
    }
  }
  for (double& s : sum) s /= static_cast<double>(queries.size(0));
  return sum;
}

void expect_precision(grader::Check& c, const Retrieval& r, std::size_t k, double want) {
  if (r.precision.size() != kMaxK) {
    c.expect(false, "precision_at_k gave " + std::to_string(r.precision.size()) + " precision values, expected one per k = 1 … " +
                        std::to_string(kMaxK));
    return;
  }
  c.near(r.precision[k - 1], want, 1e-9, "precision@" + std::to_string(k), 1e-12);
}

}  // namespace

int main() {
  grader::Grader g("precision_at_k");

  // The case worked by hand: the points 0, 1, …, 59 on a line form the database; label 7 at 0, 1, 2, 5 and 8, label 3
  // elsewhere. Query A at −0.25, label 7: its neighbours are 0, 1, 2, 3, …; same label among the first k:
  //   k = 1 2 3 4 5 6 7 8 9 10 … 50  →  1 2 3 3 3 4 4 4 5 5 … 5
  // Query B at 59.25, label 3: its 50 neighbours are 59, 58, …, 10, all label 3: precision 1 at every k.
  const auto on_a_line = [] {
    Tensor db = Tensor::zeros({60, 1});
    std::vector<std::size_t> labels(60, 3);
    for (std::size_t i = 0; i < 60; ++i) db.data()[i] = static_cast<float>(i);
    for (std::size_t i : {0, 1, 2, 5, 8}) labels[i] = 7;
    return retrieve("line", db, Tensor::from_vector({-0.25f, 59.25f}, {2, 1}), identity, labels, {7, 3});
  };

  g.check("a case worked by hand, k = 1: the nearest neighbour's label", 1, [&](grader::Check& c) {
    expect_precision(c, on_a_line(), 1, 1.0);  // (1 + 1) / 2
  });

  g.check("a case worked by hand, k = 3 ... 50: the first k neighbours' labels, divided by k", 3, [&](grader::Check& c) {
    const Retrieval r = on_a_line();
    expect_precision(c, r, 3, 1.0);                  // (3/3 + 1) / 2
    expect_precision(c, r, 4, (3.0 / 4 + 1) / 2);    // 0.875
    expect_precision(c, r, 5, (3.0 / 5 + 1) / 2);    // 0.8
    expect_precision(c, r, 6, (4.0 / 6 + 1) / 2);    // 0.8333…
    expect_precision(c, r, 10, (5.0 / 10 + 1) / 2);  // 0.75
    expect_precision(c, r, 50, (5.0 / 50 + 1) / 2);  // 0.55
  });

  g.check("every neighbour with the query's label gives 1, none gives 0", 1, [](grader::Check& c) {
    ad::Generator gen(3);
    const Tensor db = ad::rand_uniform<float>({64, 2}, gen);
    const Tensor queries = ad::rand_uniform<float>({3, 2}, gen);
    const Retrieval all = retrieve("same", db, queries, identity, std::vector<std::size_t>(64, 4), {4, 4, 4});
    const Retrieval none = retrieve("other", db, queries, identity, std::vector<std::size_t>(64, 4), {1, 2, 3});
    for (std::size_t k : {1, 2, 17, 50}) {
      expect_precision(c, all, k, 1.0);
      expect_precision(c, none, k, 0.0);
    }
  });

  g.check("equals a brute-force count on 300 random points, 4 labels, 25 queries (every k = 1 ... 50)", 2, [](grader::Check& c) {
    ad::Generator gen(4);
    const Tensor db = ad::rand_uniform<float>({300, 3}, gen);
    const Tensor queries = ad::rand_uniform<float>({25, 3}, gen);
    std::vector<std::size_t> db_labels(300), query_labels(25);
    // labels that depend on the position (the first coordinate's quarter), so that precision is far from chance
    for (std::size_t i = 0; i < 300; ++i) db_labels[i] = std::min<std::size_t>(3, static_cast<std::size_t>(4 * db.data()[3 * i]));
    for (std::size_t q = 0; q < 25; ++q) query_labels[q] = std::min<std::size_t>(3, static_cast<std::size_t>(4 * queries.data()[3 * q]));
    const Retrieval r = retrieve("random", db, queries, identity, db_labels, query_labels);
    const std::vector<double> want = brute_force(db, db_labels, queries, query_labels);
    for (std::size_t k = 1; k <= kMaxK && !c.failed(); ++k) expect_precision(c, r, k, want[k - 1]);
  });

  // Pixel space needs no training: 2,000 database images and 500 queries give these numbers whatever the seed
  // (tests/test_lessons.cpp checks the same two).
  std::map<std::string, double> m;
  std::string lesson_error;
  try {
    m = grader::run_lesson("12_image_retrieval");
  } catch (const std::exception& e) {
    lesson_error = e.what();
  }
  const auto has = [&](grader::Check& c, std::initializer_list<std::string> keys) {
    if (!lesson_error.empty()) throw std::runtime_error(lesson_error);
    return grader::has_metrics(c, m, "12", keys);
  };
  g.check("milestone: lesson 12 --quick, precision@1 in pixel space = 0.862 (the 1-NN accuracy)", 1, [&](grader::Check& c) {
    if (has(c, {"precision_at_1_pixels"})) c.near(m["precision_at_1_pixels"], 0.862, 1e-3, "lesson 12's precision@1 in pixel space");
  });
  g.check("milestone: lesson 12 --quick, precision@10 in pixel space = 0.7744, code space's above 0.3", 2, [&](grader::Check& c) {
    if (!has(c, {"precision_at_10_pixels", "precision_at_10_code", "precision_at_1_code", "precision_at_50_code"})) return;
    c.near(m["precision_at_10_pixels"], 0.7744, 1e-3, "lesson 12's precision@10 in pixel space");
    c.expect(m["precision_at_10_code"] > 0.3, "precision@10 in code space is " + grader::Check::str(m["precision_at_10_code"]) +
                                                  ", not above 0.3 (chance is about 0.1)");
    c.expect(m["precision_at_50_code"] <= m["precision_at_1_code"], "precision@50 in code space is above precision@1");
  });

  return g.finish();
}
