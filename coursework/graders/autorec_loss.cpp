// Grader of the exercise autorec_loss (coursework/exercises/autorec_loss.md): I-AutoRec's objective on the observed
// ratings only, ae::masked_squared_error and AutoRec::loss(input, target, mask) (autoencoders/autorec.cpp):
//   (1/N) Σ_i ‖(r_i − h(r_i)) ⊙ m_i‖²  +  (λ/2)(‖W‖²_F + ‖V‖²_F)
//                         — slides 003 "Sistemas de Recomendação"; Sedhain et al. (2015), "AutoRec", eq. (2)
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/autorec.hpp"
#include "coursework/grader.hpp"

namespace {

using ad::Tensor;
using ad::Tensor64;

double sum_of_squares(const Tensor& t) {
  double s = 0;
  for (std::size_t i = 0; i < t.numel(); ++i) s += static_cast<double>(t.data()[i]) * t.data()[i];
  return s;
}

}  // namespace

int main() {
  grader::Grader g("autorec_loss");

  g.check("masked squared error on a case worked by hand (2 items x 3 users)", 3, [](grader::Check& c) {
    // item 1: users 1 and 2 rated it: (2 − 1)² + (2 − 2)² = 1; user 3's entry is missing (its 3 is not an error)
    // item 2: users 1 and 3 rated it: (1 − 0)² + (5 − 0)² = 26
    // (1 + 26) / 2 items = 13.5
    const Tensor64 prediction = Tensor64::from_vector({1, 2, 3, 0, 0, 0}, {2, 3});
    const Tensor64 target = Tensor64::from_vector({2, 2, 0, 1, 0, 5}, {2, 3});
    const Tensor64 mask = Tensor64::from_vector({1, 1, 0, 1, 0, 1}, {2, 3});
    c.near(ae::masked_squared_error(prediction, target, mask).item(), 13.5, 1e-12, "masked squared error");
    // one item alone: a sum over its observed entries, divided by 1
    c.near(ae::masked_squared_error(ad::slice(prediction, 0, 1, 2), ad::slice(target, 0, 1, 2), ad::slice(mask, 0, 1, 2)).item(),
           26.0, 1e-12, "masked squared error of item 2 alone");
  });

  g.check("a missing entry adds nothing, whatever its target, and gets no gradient (float64 gradcheck)", 2, [](grader::Check& c) {
    ad::Generator gen(2);
    Tensor64 prediction = ad::rand_uniform<double>({3, 5}, gen, 1.0, 5.0);
    Tensor64 target = ad::rand_uniform<double>({3, 5}, gen, 1.0, 5.0);
    const Tensor64 mask = ad::bernoulli<double>({3, 5}, 0.5, gen);
    const double before = ae::masked_squared_error(prediction, target, mask).item();
    for (std::size_t i = 0; i < mask.numel(); ++i)
      if (mask.data()[i] == 0.0) target.data()[i] = 1e6;  // a huge "rating" where nobody rated
    c.near(ae::masked_squared_error(prediction, target, mask).item(), before, 1e-12, "the error after changing unobserved targets");
    c.gradcheck([&](const std::vector<Tensor64>& in) { return ae::masked_squared_error(in[0], target, mask); }, {prediction},
                "d error / d prediction");
    Tensor64 leaf = prediction.detach().set_requires_grad(true);
    ae::masked_squared_error(leaf, target, mask).backward();
    for (std::size_t i = 0; i < mask.numel(); ++i)
      if (mask.data()[i] == 0.0 && (!leaf.grad().defined() || leaf.grad().data()[i] != 0.0)) {
        c.expect(false, "an unobserved entry (index " + std::to_string(i) + ") received a gradient");
        break;
      }
  });

  g.check("AutoRec::loss: the terms \"reconstruction\" and \"l2\" = ||W||^2 + ||V||^2, total = reconstruction + lambda/2 l2",
          3, [](grader::Check& c) {
            ad::Generator gen(3);
            ae::AutoRec model(ae::AutoRecOptions().input(6).hidden(4).lambda(0.3), gen);
            const Tensor ratings = Tensor::from_vector({5, 0, 3, 0, 0, 1,  //
                                                        0, 4, 0, 0, 2, 0,  //
                                                        1, 1, 0, 5, 0, 0},
                                                       {3, 6});
            const Tensor mask = ae::observed(ratings);
            const ae::Loss l = model.loss(ratings, ratings, mask);
            const double rec = ae::masked_squared_error(model.reconstruct(ratings), ratings, mask).item();
            const double l2 = sum_of_squares(model.encoder->weight) + sum_of_squares(model.decoder->weight);
            if (!l.terms.has("reconstruction") || !l.terms.has("l2")) {
              c.expect(false, "the loss needs the terms \"reconstruction\" and \"l2\"");
              return;
            }
            c.near(l.terms["reconstruction"], rec, 1e-5, "term \"reconstruction\"");
            c.near(l.terms["l2"], l2, 1e-5, "term \"l2\" (the weights V and W, not the biases)");
            c.near(l.total.item(), rec + 0.15 * l2, 1e-5, "total with lambda = 0.3");
            // the total is differentiable in the parameters
            l.total.backward();
            c.expect(model.encoder->weight.grad().defined() && model.decoder->weight.grad().defined(),
                     "no gradient reached V or W from the loss");
          });

  g.check("milestone: lesson 13 --quick, AutoRec's held-out RMSE below the item-mean baseline's", 2, [](grader::Check& c) {
    auto m = grader::run_lesson("13_recommender");
    if (!grader::has_metrics(c, m, "13", {"test_rmse", "baseline_rmse_item_mean", "train_rmse"})) return;
    c.expect(m["test_rmse"] < m["baseline_rmse_item_mean"], "AutoRec's test RMSE " + grader::Check::str(m["test_rmse"]) +
                                                                " is not below predicting each item's mean, " +
                                                                grader::Check::str(m["baseline_rmse_item_mean"]));
    c.expect(m["train_rmse"] < m["test_rmse"], "the training RMSE " + grader::Check::str(m["train_rmse"]) +
                                                   " is not below the held-out one");
  });

  return g.finish();
}
