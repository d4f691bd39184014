// Grader of the exercise contractive (coursework/exercises/contractive.md): the contractive penalty's closed form
// for a one-layer sigmoid encoder, ae::contractive_penalty_from_code (autoencoders/contractive.cpp), called through
// ae::contractive_penalty_closed_form(x, W, b), which computes h and hands it over:
//   (1/N) Σ_n Σ_j (h_nj(1 − h_nj))² Σ_i W_ji²,   h = σ(x Wᵀ + b)      — slides 004 "AUTOENCODERS CONTRACTIVOS"
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/contractive.hpp"
#include "coursework/grader.hpp"

namespace {

// The same sum written with plain loops, in double: the reference the closed form must match.
double loops(const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& b, std::size_t n,
             std::size_t d, std::size_t m) {
  double total = 0;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t j = 0; j < m; ++j) {
      double a = b[j], row = 0;
      for (std::size_t i = 0; i < d; ++i) {
        a += w[j * d + i] * x[s * d + i];
        row += w[j * d + i] * w[j * d + i];
      }
      const double h = 1 / (1 + std::exp(-a));
      total += (h * (1 - h)) * (h * (1 - h)) * row;
    }
  return total / static_cast<double>(n);
}

}  // namespace

int main() {
  grader::Grader g("contractive");

  g.check("value on a case worked by hand (h = 1/2: (1/4)^2 x sum of W^2)", 2, [](grader::Check& c) {
    // x = [1, 1], W = [[1, -1], [2, -2]], b = 0: W x + b = 0, so h = 1/2 and h(1 − h) = 1/4 for both units;
    // Σ_i W_ji² = 2 and 8, so ‖J‖²_F = (1/16)(2 + 8) = 0.625
    const auto x = ad::Tensor64::from_vector({1, 1}, {1, 2});
    const auto w = ad::Tensor64::from_vector({1, -1, 2, -2}, {2, 2});
    const auto b = ad::Tensor64::zeros({2});
    c.near(ae::contractive_penalty_closed_form(x, w, b).item(), 0.625, 1e-12, "penalty for x = [1, 1]");
    // the same sample twice is the same average (the penalty is a mean over the batch, not a sum)
    const auto x2 = ad::Tensor64::from_vector({1, 1, 1, 1}, {2, 2});
    c.near(ae::contractive_penalty_closed_form(x2, w, b).item(), 0.625, 1e-12, "penalty for the batch [x, x] (a mean over samples)");
  });

  g.check("matches the sum written with loops on a random batch (float64)", 2, [](grader::Check& c) {
    ad::Generator gen(11);
    const std::size_t n = 5, d = 7, m = 4;
    const auto xv = grader::uniform(n * d, gen, 0, 1), wv = grader::uniform(m * d, gen, -1, 1), bv = grader::uniform(m, gen, -0.5, 0.5);
    const double got = ae::contractive_penalty_closed_form(ad::Tensor64::from_vector(xv, {n, d}), ad::Tensor64::from_vector(wv, {m, d}),
                                                           ad::Tensor64::from_vector(bv, {m}))
                           .item();
    c.near(got, loops(xv, wv, bv, n, d, m), 1e-10, "penalty of a 5 x 7 batch, 4 sigmoid units");
  });

  g.check("equals the exact squared Frobenius norm of the encoder's Jacobian (double backward)", 2, [](grader::Check& c) {
    ad::Generator gen(12);
    const std::size_t n = 3, d = 6, m = 5;
    const auto x = ad::Tensor64::from_vector(grader::uniform(n * d, gen, 0, 1), {n, d});
    const auto w = ad::Tensor64::from_vector(grader::uniform(m * d, gen, -1.5, 1.5), {m, d});
    const auto b = ad::Tensor64::from_vector(grader::uniform(m, gen, -0.5, 0.5), {m});
    const auto encoder = [&](const ad::Tensor64& in) { return ad::sigmoid(ad::add(ad::matmul(in, w, false, true), b)); };
    const double exact = ae::jacobian_penalty<double>(encoder, x, ae::JacobianMode::Exact).item();
    c.near(ae::contractive_penalty_closed_form(x, w, b).item(), exact, 1e-10, "closed form against (1/N) sum ||J_f(x_n)||_F^2");
  });

  g.check("its gradient in x, W and b against central differences (float64)", 2, [](grader::Check& c) {
    ad::Generator gen(13);
    const auto x = ad::Tensor64::from_vector(grader::uniform(4 * 5, gen, 0, 1), {4, 5});
    const auto w = ad::Tensor64::from_vector(grader::uniform(3 * 5, gen, -1, 1), {3, 5});
    const auto b = ad::Tensor64::from_vector(grader::uniform(3, gen, -0.5, 0.5), {3});
    c.gradcheck([](const std::vector<ad::Tensor64>& in) { return ae::contractive_penalty_closed_form(in[0], in[1], in[2]); },
                {x, w, b}, "d penalty / d(x, W, b)");
  });

  g.check("milestone: lesson 06 --quick, closed form = double backward, and the CAE is the flattest", 2, [](grader::Check& c) {
    auto m = grader::run_lesson("06_contractive");
    if (!grader::has_metrics(c, m, "06",
                             {"closed_form_vs_autodiff_rel_error", "jacobian_norm_cae", "jacobian_norm_ae"}))
      return;
    c.expect(m["closed_form_vs_autodiff_rel_error"] <= 1e-5,
             "the closed form and the exact (double backward) penalty differ by " +
                 grader::Check::str(m["closed_form_vs_autodiff_rel_error"]) + " relative, expected at most 1e-5");
    c.expect(m["jacobian_norm_cae"] < m["jacobian_norm_ae"],
             "the contractive AE's mean ||J||_F " + grader::Check::str(m["jacobian_norm_cae"]) +
                 " is not below the plain AE's " + grader::Check::str(m["jacobian_norm_ae"]));
  });

  return g.finish();
}
