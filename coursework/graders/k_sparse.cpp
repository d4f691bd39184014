// Grader of the exercise k_sparse (coursework/exercises/k_sparse.md): the k-sparse autoencoder's top-k selection,
// ad::topk_mask (autodiff/topk.cpp), and the α·k units kept when encoding (KSparseAutoencoder::active_units,
// autoencoders/k_sparse.cpp). Slides 004 "SPARSE AUTOENCODERS": "conservando las k mayores activaciones en módulo".
#include <algorithm>
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/k_sparse.hpp"
#include "coursework/grader.hpp"

namespace {

// The number of non-zero entries in each row of a [rows, cols] tensor.
std::vector<std::size_t> nonzeros_per_row(const ad::Tensor& t) {
  std::vector<std::size_t> out(t.size(0), 0);
  for (std::size_t r = 0; r < t.size(0); ++r)
    for (std::size_t c = 0; c < t.size(1); ++c) out[r] += t.data()[r * t.size(1) + c] != 0.0f;
  return out;
}

}  // namespace

int main() {
  grader::Grader g("k_sparse");

  g.check("keeps the k entries of largest magnitude in each row (2 x 5 by hand, k = 2)", 3, [](grader::Check& c) {
    // row 0: |values| 0.5 2 1 0.1 0.3 -> keep -2 and 1 (a negative entry of large modulus is kept)
    // row 1: |values| 3 1 4 2 0.5   -> keep 3 and -4
    const ad::Tensor z = ad::Tensor::from_vector({0.5f, -2.0f, 1.0f, 0.1f, -0.3f, 3.0f, -1.0f, -4.0f, 2.0f, 0.5f}, {2, 5});
    const ad::Tensor want = ad::Tensor::from_vector({0, -2, 1, 0, 0, 3, 0, -4, 0, 0}, {2, 5});
    const ad::Tensor got = ad::topk_mask(z, 2);
    c.expect(got.shape() == z.shape(), "topk_mask changed the shape to " + ad::shape_str(got.shape()));
    c.all_near(got, want, 0, 0, "topk_mask(z, 2)");
    // k = 1 keeps only the largest modulus
    c.all_near(ad::topk_mask(z, 1), ad::Tensor::from_vector({0, -2, 0, 0, 0, 0, 0, -4, 0, 0}, {2, 5}), 0, 0,
               "topk_mask(z, 1)");
  });

  g.check("k = all units keeps everything; equal moduli go to the lower index", 1, [](grader::Check& c) {
    const ad::Tensor z = ad::Tensor::from_vector({0.5f, -2.0f, 1.0f, 0.1f}, {1, 4});
    c.all_near(ad::topk_mask(z, 4), z, 0, 0, "topk_mask(z, 4) of 4 units");
    // |1| = |-1| = |1|: k = 2 keeps indices 0 and 1 (ties by index, so the result is deterministic)
    const ad::Tensor ties = ad::Tensor::from_vector({1.0f, -1.0f, 1.0f, 0.5f}, {1, 4});
    c.all_near(ad::topk_mask(ties, 2), ad::Tensor::from_vector({1, -1, 0, 0}, {1, 4}), 0, 0,
               "topk_mask([1, -1, 1, 0.5], 2)");
  });

  g.check("the gradient flows through the kept units only (float64, central differences)", 2, [](grader::Check& c) {
    // distinct moduli, well apart, so a small step never changes which units are kept
    ad::Generator gen(7);
    std::vector<double> v(4 * 9);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = (0.2 + 0.05 * static_cast<double>(i)) * (i % 3 == 0 ? -1.0 : 1.0);
    gen.shuffle(v.begin(), v.end());
    const ad::Tensor64 z = ad::Tensor64::from_vector(v, {4, 9});
    c.gradcheck([](const std::vector<ad::Tensor64>& in) { return ad::topk_mask(in[0], 3); }, {z}, "topk_mask(z, 3)");
    // and exactly: d Σ topk(z) / dz is 1 on the kept units, 0 elsewhere
    ad::Tensor64 leaf = z.detach().set_requires_grad(true);
    const ad::Tensor64 kept = ad::topk_mask(leaf, 3);
    ad::sum(kept).backward();
    for (std::size_t i = 0; i < kept.numel(); ++i) {
      const double want = kept.data()[i] != 0.0 ? 1.0 : 0.0;
      if (leaf.grad().data()[i] != want) {
        c.expect(false, "d sum(topk_mask(z, 3))/dz at entry " + std::to_string(i) + " is " +
                            grader::Check::str(leaf.grad().data()[i]) + ", expected " + grader::Check::str(want));
        break;
      }
    }
  });

  g.check("k units in training, round(alpha k) (at most all units) when encoding", 2, [](grader::Check& c) {
    ad::Generator gen(1);
    ae::KSparseAutoencoder model(ae::KSparseOptions().input(12).hidden(20).k(4).alpha(3.0), gen);
    model.train();
    c.expect(model.active_units() == 4, "active_units() in training is " + std::to_string(model.active_units()) + ", expected k = 4");
    model.eval();
    c.expect(model.active_units() == 12, "active_units() when encoding (eval) is " + std::to_string(model.active_units()) +
                                             ", expected round(3 x 4) = 12");
    ad::Generator data_gen(2);
    const ad::Tensor x = ad::rand_uniform<float>({6, 12}, data_gen);
    for (std::size_t n : nonzeros_per_row(model.encode(x)))
      c.expect(n == 12, "encode() in eval mode left " + std::to_string(n) + " non-zero units in a row, expected 12");
    model.train();
    for (std::size_t n : nonzeros_per_row(model.encode(x)))
      c.expect(n == 4, "encode() in training left " + std::to_string(n) + " non-zero units in a row, expected 4");
    // α k beyond the layer: every unit
    ae::KSparseAutoencoder wide(ae::KSparseOptions().input(12).hidden(20).k(4).alpha(10.0), gen);
    wide.eval();
    c.expect(wide.active_units() == 20, "active_units() with alpha 10, k 4 and 20 units is " +
                                            std::to_string(wide.active_units()) + ", expected all 20");
    ae::KSparseAutoencoder half(ae::KSparseOptions().input(12).hidden(20).k(5).alpha(1.5), gen);
    half.eval();
    c.expect(half.active_units() == 8, "active_units() with alpha 1.5 and k 5 is " + std::to_string(half.active_units()) +
                                           ", expected round(7.5) = 8");
  });

  g.check("milestone: lesson 04 --quick keeps exactly k units in training and alpha k when encoding", 2, [](grader::Check& c) {
    auto m = grader::run_lesson("04_sparse");
    if (!grader::has_metrics(c, m, "04",
                             {"ksparse_k", "ksparse_alpha_k", "ksparse_nonzeros_training_min",
                              "ksparse_nonzeros_training_max", "ksparse_nonzeros_encoding_min",
                              "ksparse_nonzeros_encoding_max", "classifier_test_error_ksparse"}))
      return;
    c.near(m["ksparse_nonzeros_training_min"], m["ksparse_k"], 0, "fewest non-zero units of a training code");
    c.near(m["ksparse_nonzeros_training_max"], m["ksparse_k"], 0, "most non-zero units of a training code");
    c.near(m["ksparse_nonzeros_encoding_min"], m["ksparse_alpha_k"], 0, "fewest non-zero units of an encoding");
    c.near(m["ksparse_nonzeros_encoding_max"], m["ksparse_alpha_k"], 0, "most non-zero units of an encoding");
    // the k-sparse code still carries the class: a softmax on it beats chance (0.9 error) by far (the solution: 0.41)
    c.expect(m["classifier_test_error_ksparse"] < 0.6,
             "the softmax on the k-sparse codes has test error " + grader::Check::str(m["classifier_test_error_ksparse"]) +
                 ", expected below 0.6 (the solution: 0.41; chance: 0.9)");
  });

  return g.finish();
}
