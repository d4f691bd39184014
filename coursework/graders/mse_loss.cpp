// Grader of exercise mse_loss (coursework/exercises/mse_loss.md): ad::sum_squared_error, Σ (a − b)² fused into one
// op with its gradient 2(a − b), and nn::mse_loss, its mean over every element (the loss of lessons 01 to 07).
#include <cmath>

#include "autodiff/ops.hpp"
#include "coursework/grader.hpp"
#include "nn/losses.hpp"

using ad::Tensor;
using ad::Tensor64;
using V = std::vector<Tensor64>;

namespace {
Tensor64 vec(std::vector<double> v, ad::Shape shape = {}) {
  if (shape.empty()) shape = {v.size()};
  return Tensor64::from_vector(std::move(v), shape);
}
Tensor64 leaf(const Tensor64& t) {
  Tensor64 l = t.detach();
  l.set_requires_grad(true);
  return l;
}
}  // namespace

int main() {
  grader::Grader g("mse_loss");

  g.check("sum_squared_error on a worked example: (1-0)^2 + (2-2)^2 + (3-5)^2 = 5", 2, [](grader::Check& c) {
    c.near(ad::sum_squared_error(vec({1, 2, 3}), vec({0, 2, 5})).item(), 5.0, 1e-12, "sum_squared_error([1,2,3], [0,2,5])");
  });

  g.check("mse_loss on a worked [2, 3] example: Mean divides by all 6 entries, Sum does not", 2, [](grader::Check& c) {
    const Tensor64 p = vec({1, 0, 0, 0, 2, 0}, {2, 3}), x = vec({0, 0, 0, 0, 0, 3}, {2, 3});  // errors 1, 2, −3: Σ = 14
    c.near(nn::mse_loss(p, x, nn::Reduction::Sum).item(), 14.0, 1e-12, "mse_loss(..., Sum)");
    c.near(nn::mse_loss(p, x).item(), 14.0 / 6.0, 1e-12, "mse_loss(..., Mean): (1/n) sum over the n = 6 entries");
  });

  g.check("gradient on the worked example: d/da = 2(a - b), d/db = -2(a - b)", 2, [](grader::Check& c) {
    const Tensor64 a = leaf(vec({1, 2, 3})), b = leaf(vec({0, 2, 5}));
    ad::sum_squared_error(a, b).backward();
    c.all_near(a.grad(), vec({2, 0, -4}), 1e-12, 0.0, "d sum_squared_error / da");
    c.all_near(b.grad(), vec({-2, 0, 4}), 1e-12, 0.0, "d sum_squared_error / db");
  });

  g.check("gradcheck against central differences (float64): sum_squared_error and mse_loss Mean, both inputs", 2,
          [](grader::Check& c) {
            ad::Generator gen(21);
            const Tensor64 a = ad::randn<double>({5, 7}, gen), b = ad::rand_uniform<double>({5, 7}, gen);
            c.gradcheck([](const V& v) { return ad::sum_squared_error(v[0], v[1]); }, {a, b}, "sum_squared_error");
            c.gradcheck([](const V& v) { return nn::mse_loss(v[0], v[1]); }, {a, b}, "mse_loss (Mean)");
          });

  g.check("second derivatives: gradgradcheck of sum_squared_error (backward with create_graph)", 1, [](grader::Check& c) {
    ad::Generator gen(22);
    const auto r = ad::gradgradcheck([](const V& v) { return ad::sum_squared_error(v[0], v[1]); },
                                     {ad::randn<double>({3, 4}, gen), ad::randn<double>({3, 4}, gen)});
    c.expect(r.ok && r.checked > 0, r.message);
  });

  g.check("milestone: lesson 01 --quick trains: test MSE at M = 128 below 0.09 and below M = 2's", 1, [](grader::Check& c) {
    auto m = grader::run_lesson("01_undercomplete");
    const double m128 = m["ae_test_mse_M128"], m2 = m["ae_test_mse_M2"];
    c.expect(m.count("ae_test_mse_M128") && m128 > 0 && m128 < 0.09,
             "ae_test_mse_M128 is " + grader::Check::str(m128) + ", not below 0.09 (predicting the mean image gives about 0.067)");
    c.expect(m128 < m2, "ae_test_mse_M128 " + grader::Check::str(m128) + " is not below ae_test_mse_M2 " + grader::Check::str(m2));
  });
  return g.finish();
}
