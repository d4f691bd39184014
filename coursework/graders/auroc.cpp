// Grader of the exercise auroc (coursework/exercises/auroc.md): ae::auroc (autoencoders/anomaly.cpp), the area
// under the ROC curve of an anomaly score,
//   AUROC = P(score(anomaly) > score(normal)) + ½ P(tie) = U / (n₊ n₋)              — lesson 11; slides 001
//   "Anomaly detection with AEs"
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/anomaly.hpp"
#include "coursework/grader.hpp"

namespace {

// The definition itself, pair by pair: O(n₊ n₋), no sorting.
double by_pairs(const std::vector<double>& pos, const std::vector<double>& neg) {
  double wins = 0;
  for (double p : pos)
    for (double n : neg) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
  return wins / (static_cast<double>(pos.size()) * static_cast<double>(neg.size()));
}

}  // namespace

int main() {
  grader::Grader g("auroc");

  g.check("perfect separation gives 1, reversed gives 0", 1, [](grader::Check& c) {
    c.near(ae::auroc({3, 4}, {1, 2}), 1.0, 0, "auroc({3, 4}, {1, 2})", 1e-12);
    c.near(ae::auroc({1, 2}, {3, 4}), 0.0, 0, "auroc({1, 2}, {3, 4})", 1e-12);
  });

  g.check("a case worked by hand without ties: 9 of 12 pairs ordered = 0.75", 2, [](grader::Check& c) {
    // 0.9 beats all 4 normals, 0.4 beats 0.1 and 0.3, 0.7 beats 0.5, 0.1 and 0.3: 4 + 2 + 3 = 9 of 3 × 4 pairs
    c.near(ae::auroc({0.9, 0.4, 0.7}, {0.5, 0.1, 0.8, 0.3}), 0.75, 1e-12, "auroc({0.9, 0.4, 0.7}, {0.5, 0.1, 0.8, 0.3})");
    // and the other way round: the complement
    c.near(ae::auroc({0.5, 0.1, 0.8, 0.3}, {0.9, 0.4, 0.7}), 0.25, 1e-12, "auroc({0.5, 0.1, 0.8, 0.3}, {0.9, 0.4, 0.7})");
  });

  g.check("ties count half: cases worked by hand", 3, [](grader::Check& c) {
    // positive 1 against normals 1, 1, 0: ½ + ½ + 1; positive 2: 1 + 1 + 1; total 5 of 6 pairs
    c.near(ae::auroc({1, 2}, {1, 1, 0}), 5.0 / 6.0, 1e-12, "auroc({1, 2}, {1, 1, 0})");
    // every score equal: a coin toss, 0.5
    c.near(ae::auroc({7, 7, 7}, {7, 7}), 0.5, 1e-12, "auroc({7, 7, 7}, {7, 7})");
    // one positive tied with the only negative, one above it: (½ + 1) / 2
    c.near(ae::auroc({0.3, 0.6}, {0.3}), 0.75, 1e-12, "auroc({0.3, 0.6}, {0.3})");
  });

  g.check("equals the pairwise definition on 300 scores with many ties", 2, [](grader::Check& c) {
    ad::Generator gen(5);
    std::vector<double> pos, neg;
    // scores rounded to one decimal: ties within and between the groups; the groups of unequal size
    for (int i = 0; i < 120; ++i) pos.push_back(std::round(10 * (0.3 + gen.uniform())) / 10);
    for (int i = 0; i < 180; ++i) neg.push_back(std::round(10 * gen.uniform()) / 10);
    c.near(ae::auroc(pos, neg), by_pairs(pos, neg), 1e-12, "auroc of 120 anomalies against 180 normals");
    c.near(ae::auroc(pos, neg) + ae::auroc(neg, pos), 1.0, 1e-12, "auroc(pos, neg) + auroc(neg, pos)");
    // input order does not matter
    std::vector<double> shuffled = pos;
    gen.shuffle(shuffled.begin(), shuffled.end());
    c.near(ae::auroc(shuffled, neg), by_pairs(pos, neg), 1e-12, "auroc of the same anomalies shuffled");
  });

  g.check("milestone: lesson 11 --quick, Fashion-MNIST items told from digits (AUROC > 0.75)", 2, [](grader::Check& c) {
    auto m = grader::run_lesson("11_anomaly_detection");
    if (!grader::has_metrics(c, m, "11", {"auroc_fashion", "auroc_heldout_digit", "auroc_heldout_digit_seen"})) return;
    c.expect(m["auroc_fashion"] > 0.75, "AUROC of Fashion-MNIST against MNIST test digits is " +
                                            grader::Check::str(m["auroc_fashion"]) + ", expected above 0.75");
    // a digit the autoencoder never saw is more anomalous than the same digit after training on it
    c.expect(m["auroc_heldout_digit"] > m["auroc_heldout_digit_seen"],
             "held-out digit's AUROC " + grader::Check::str(m["auroc_heldout_digit"]) + " is not above the seen digit's " +
                 grader::Check::str(m["auroc_heldout_digit_seen"]));
  });

  return g.finish();
}
