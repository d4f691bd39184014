// Grader of exercise sparse_kl (coursework/exercises/sparse_kl.md): nn::kl_sparsity, the sparse autoencoder's
// penalty Σ_j KL(ρ ‖ ρ̂_j) with ρ̂_j the mean activation of unit j over the batch (lesson 04's KL model).
#include <cmath>

#include "autodiff/ops.hpp"
#include "coursework/grader.hpp"
#include "nn/losses.hpp"

using ad::Tensor64;
using V = std::vector<Tensor64>;

namespace {
double kl(double rho, double rho_hat) { return rho * std::log(rho / rho_hat) + (1 - rho) * std::log((1 - rho) / (1 - rho_hat)); }
}  // namespace

int main() {
  grader::Grader g("sparse_kl");

  g.check("value on a worked example: rho = 0.1, rho_hat = (0.2, 0.5), summed over the 2 units", 3, [](grader::Check& c) {
    // unit 0: activations 0.1 and 0.3 (mean 0.2); unit 1: 0.4 and 0.6 (mean 0.5)
    const Tensor64 h = Tensor64::from_vector({0.1, 0.4, 0.3, 0.6}, {2, 2});
    c.near(nn::kl_sparsity(h, 0.1).item(), kl(0.1, 0.2) + kl(0.1, 0.5), 1e-10,
           "kl_sparsity: KL(0.1||0.2) + KL(0.1||0.5) = 0.0323 + 0.3681");
  });

  g.check("zero when every unit's mean activation is rho (rho = 0.05, [4, 3])", 1, [](grader::Check& c) {
    const Tensor64 h = Tensor64::from_vector({0.02, 0.05, 0.08, 0.08, 0.05, 0.02, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05}, {4, 3});
    c.near(nn::kl_sparsity(h, 0.05).item(), 0.0, 0.0, "kl_sparsity at rho_hat = rho", 1e-12);
  });

  g.check("the gradient worked by hand: d/dh_nj = (1/N)(-rho/rho_hat_j + (1 - rho)/(1 - rho_hat_j))", 2, [](grader::Check& c) {
    Tensor64 h = Tensor64::from_vector({0.1, 0.4, 0.3, 0.6}, {2, 2});
    h.set_requires_grad(true);
    nn::kl_sparsity(h, 0.1).backward();
    const double d0 = 0.5 * (-0.1 / 0.2 + 0.9 / 0.8), d1 = 0.5 * (-0.1 / 0.5 + 0.9 / 0.5);
    c.all_near(h.grad(), Tensor64::from_vector({d0, d1, d0, d1}, {2, 2}), 1e-10, 0.0, "d kl_sparsity / dh");
  });

  g.check("gradcheck against central differences (float64, [6, 5], rho = 0.05)", 2, [](grader::Check& c) {
    ad::Generator gen(31);
    c.gradcheck([](const V& v) { return nn::kl_sparsity(v[0], 0.05); }, {ad::rand_uniform<double>({6, 5}, gen, 0.02, 0.9)},
                "kl_sparsity");
  });

  g.check("milestone: lesson 04 --quick: the KL model's mean activation within 25 % of rho", 2, [](grader::Check& c) {
    auto m = grader::run_lesson("04_sparse");
    c.expect(m.count("kl_mean_activation_rel_error") == 1, "lesson 04 wrote no kl_mean_activation_rel_error");
    c.expect(m["kl_mean_activation_rel_error"] <= 0.25,
             "mean activation " + grader::Check::str(m["mean_activation_kl"]) + " is " +
                 grader::Check::str(100 * m["kl_mean_activation_rel_error"]) + " % away from rho = " + grader::Check::str(m["kl_rho"]) +
                 " (at most 25 %)");
  });
  return g.finish();
}
