// Grader of the exercise pca_imputation_step (coursework/exercises/pca_imputation_step.md): one step of iterative
// (regularised) PCA imputation inside ae::impute_pca (autoencoders/imputation.cpp):
//   x⁽ᵗ⁺¹⁾ = m ⊙ x + (1 − m) ⊙ (μ + (x⁽ᵗ⁾ − μ) V_kᵀ S V_k),   S = diag(1 − σ²/λ_i)  (S = I unregularised)
// and the RMS change of the hidden entries that decides when to stop.          — slides 002 "Missing value imputation"
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/imputation.hpp"
#include "coursework/grader.hpp"

namespace {

using ad::Tensor;

// Four points in the plane: variance 16/3 along (1, 1)/√2 and 4/3 along (1, −1)/√2, mean 0. With k = 1 component,
// σ² = 4/3 (the other eigenvalue) and S = 1 − (4/3)/(16/3) = 3/4.
ae::PCA plane() {
  ae::PCA pca;
  pca.fit(Tensor::from_vector({2, 2, -2, -2, 1, -1, -1, 1}, {4, 2}));
  return pca;
}

ae::PcaImputationOptions steps(std::size_t n) {
  return ae::PcaImputationOptions().components(1).max_iterations(n).tolerance(0.0);  // exactly n steps
}

}  // namespace

int main() {
  grader::Grader g("pca_imputation_step");

  // Row 1: (1, ?) with its second entry hidden; row 2: (?, −1) with its first hidden. The holes start at the mean, 0.
  // Step 1, row 1: (1, 0)·v = 1/√2, × 3/4, back along v: (3/8, 3/8): the hole takes 3/8, the observed 1 stays.
  // Step 2, row 1: (1, 3/8)·v = (11/8)/√2, × 3/4 → (33/64, 33/64): the hole takes 33/64 = 0.515625.
  // Fixed point: y = (3/4)(1 + y)/2, y = 3/5. Row 2 is row 1 mirrored: −3/8, −33/64, −3/5.
  const Tensor x = Tensor::from_vector({1.0f, 0.5f, -0.8f, -1.0f}, {2, 2});  // the hidden entries' truth is never read
  const Tensor mask = Tensor::from_vector({1, 0, 0, 1}, {2, 2});

  g.check("one and two regularised steps on a case worked by hand (S = 3/4)", 3, [&](grader::Check& c) {
    const ae::PCA pca = plane();
    c.all_near(ae::impute_pca(x, mask, pca, steps(1)).filled, Tensor::from_vector({1, 0.375f, -0.375f, -1}, {2, 2}), 1e-5, 1e-6,
               "after one step");
    c.all_near(ae::impute_pca(x, mask, pca, steps(2)).filled, Tensor::from_vector({1, 0.515625f, -0.515625f, -1}, {2, 2}), 1e-5,
               1e-6, "after two steps");
    const auto converged = ae::impute_pca(x, mask, pca, ae::PcaImputationOptions().components(1).tolerance(1e-7));
    c.all_near(converged.filled, Tensor::from_vector({1, 0.6f, -0.6f, -1}, {2, 2}), 1e-4, 1e-5, "the fixed point 3/5");
  });

  g.check("unregularised (S = I): the holes take the plain projection", 1, [&](grader::Check& c) {
    const ae::PCA pca = plane();
    // (1, 0) projected on v: (1/2, 1/2); then (1, 1/2): (3/4, 3/4)
    c.all_near(ae::impute_pca(x, mask, pca, steps(1).regularised(false)).filled, Tensor::from_vector({1, 0.5f, -0.5f, -1}, {2, 2}),
               1e-5, 1e-6, "after one unregularised step");
    c.all_near(ae::impute_pca(x, mask, pca, steps(2).regularised(false)).filled, Tensor::from_vector({1, 0.75f, -0.75f, -1}, {2, 2}),
               1e-5, 1e-6, "after two unregularised steps");
  });

  g.check("counts its steps and reports the RMS change of the hidden entries", 1, [&](grader::Check& c) {
    const ae::PCA pca = plane();
    const auto one = ae::impute_pca(x, mask, pca, steps(1));
    c.expect(one.iterations == 1, "iterations after one step: " + std::to_string(one.iterations));
    c.near(one.last_change, 0.375, 1e-5, "RMS change of the 2 holes in step 1 (0 to ±3/8)");
    const auto two = ae::impute_pca(x, mask, pca, steps(2));
    c.expect(two.iterations == 2, "iterations after two steps: " + std::to_string(two.iterations));
    c.near(two.last_change, 0.515625 - 0.375, 1e-4, "RMS change of the 2 holes in step 2");
  });

  g.check("3 steps on random data against the formula; observed entries untouched", 2, [](grader::Check& c) {
    ad::Generator gen(4);
    const std::size_t n = 6, d = 8, k = 3;
    ae::PCA pca;
    pca.fit(ad::rand_uniform<float>({40, d}, gen));
    const Tensor x = ad::rand_uniform<float>({n, d}, gen);
    const Tensor mask = ad::bernoulli<float>({n, d}, 0.6f, gen);
    const auto got = ae::impute_pca(x, mask, pca, ae::PcaImputationOptions().components(k).max_iterations(3).tolerance(0.0));
    // the same three steps in double, from the PCA's mean, axes and eigenvalues
    const auto& lambda = pca.explained_variance();
    double sigma2 = 0;
    for (std::size_t i = k; i < d; ++i) sigma2 += lambda[i];
    sigma2 /= static_cast<double>(d - k);
    const Tensor mu = pca.mean(), axes = pca.components(k);  // [d], [k, d]
    std::vector<double> cur(n * d);
    for (std::size_t i = 0; i < n * d; ++i) cur[i] = mask.data()[i] == 1.0f ? x.data()[i] : mu.data()[i % d];
    for (int t = 0; t < 3; ++t) {
      std::vector<double> next = cur;
      for (std::size_t r = 0; r < n; ++r) {
        std::vector<double> proj(d, 0.0);
        for (std::size_t a = 0; a < k; ++a) {
          double coef = 0;
          for (std::size_t j = 0; j < d; ++j) coef += (cur[r * d + j] - mu.data()[j]) * axes.data()[a * d + j];
          coef *= std::max(0.0, 1 - sigma2 / lambda[a]);
          for (std::size_t j = 0; j < d; ++j) proj[j] += coef * axes.data()[a * d + j];
        }
        for (std::size_t j = 0; j < d; ++j)
          if (mask.data()[r * d + j] == 0.0f) next[r * d + j] = mu.data()[j] + proj[j];
      }
      cur = next;
    }
    Tensor want = Tensor::zeros({n, d});
    for (std::size_t i = 0; i < n * d; ++i) want.data()[i] = static_cast<float>(cur[i]);
    c.all_near(got.filled, want, 1e-4, 1e-5, "filled matrix after 3 steps");
    for (std::size_t i = 0; i < n * d; ++i)
      if (mask.data()[i] == 1.0f && got.filled.data()[i] != x.data()[i]) {
        c.expect(false, "observed entry " + std::to_string(i) + " changed from " + grader::Check::str(x.data()[i]) + " to " +
                            grader::Check::str(got.filled.data()[i]));
        break;
      }
  });

  g.check("milestone: lesson 14 --quick, PCA fills every hole pattern better than the pixel means", 3, [](grader::Check& c) {
    auto m = grader::run_lesson("14_imputation");
    for (std::string p : {"random_half", "centre_block", "lower_half"}) {
      if (!m.count("rmse_pca_" + p) || !m.count("rmse_mean_" + p)) {
        c.expect(false, "lesson 14 wrote no metric rmse_pca_" + p + " or rmse_mean_" + p);
        return;
      }
      c.expect(m["rmse_pca_" + p] < m["rmse_mean_" + p], "PCA's RMSE on the " + p + " holes, " +
                                                            grader::Check::str(m["rmse_pca_" + p]) +
                                                            ", is not below the means' " + grader::Check::str(m["rmse_mean_" + p]));
    }
  });

  return g.finish();
}
