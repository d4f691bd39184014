// Grader of the exercise greedy_step (coursework/exercises/greedy_step.md): one greedy layer-wise step of a stacked
// autoencoder, StackedAutoencoder::layer_loss and StackedAutoencoder::pretrain_layer (autoencoders/stacked.cpp):
//   h_{i} = f(W_i h̃_{i−1} + b_i),  h'_{i−1} = g(W'_i h_i + b'_i),  L_i = ‖h_{i−1} − h'_{i−1}‖²  (mean over entries)
//   with h_{i−1} the codes of the frozen layers below (no gradient reaches them)     — slides 004 "AUTOENCODERS PROFUNDOS"
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/stacked.hpp"
#include "coursework/grader.hpp"
#include "nn/losses.hpp"

namespace {

using ae::StackedAutoencoder;
using ae::StackedOptions;
using ad::Tensor;

// A 6-4-3 stack: sigmoid hidden code, linear top code, sigmoid output (the lesson's activations, smaller).
StackedOptions small() { return StackedOptions().sizes({6, 4, 3}); }

Tensor batch(std::uint64_t seed, std::size_t n = 8) {
  ad::Generator gen(seed);
  return ad::rand_uniform<float>({n, 6}, gen);
}

Tensor lin(const nn::Linear& l, const Tensor& x) { return ad::linear(x, l.weight, l.bias); }

bool has_gradient(const Tensor& t) {
  if (!t.grad().defined()) return false;
  for (std::size_t i = 0; i < t.numel(); ++i)
    if (t.grad().data()[i] != 0.0f) return true;
  return false;
}

}  // namespace

int main() {
  grader::Grader g("greedy_step");

  g.check("layer 0's loss: the first shallow autoencoder reconstructs x (mean squared error)", 2, [](grader::Check& c) {
    ad::Generator gen(1);
    StackedAutoencoder stack(small(), gen);
    const Tensor x = batch(2);
    const auto& e = stack.encoders();
    const auto& d = stack.decoders();
    // h_1 = σ(W_1 x + b_1), x' = σ(W'_1 h_1 + b'_1), L_0 = mean (x − x')²
    const Tensor h1 = ad::sigmoid(lin(*e[0], x));
    const double want = nn::mse_loss(ad::sigmoid(lin(*d[0], h1)), x).item();
    const ae::Loss l = stack.layer_loss(0, x);
    c.near(l.total.item(), want, 1e-5, "layer_loss(0, x).total");
    c.expect(l.terms.has("reconstruction"), "layer_loss names no \"reconstruction\" term");
  });

  g.check("layer 1's loss: the second autoencoder reconstructs the codes of layer 0, not x", 3, [](grader::Check& c) {
    ad::Generator gen(3);
    StackedAutoencoder stack(small(), gen);
    const Tensor x = batch(4);
    const auto& e = stack.encoders();
    const auto& d = stack.decoders();
    // h_1 = σ(W_1 x + b_1) (the input of layer 1 and its target), h_2 = W_2 h_1 + b_2 (linear code),
    // h'_1 = σ(W'_2 h_2 + b'_2), L_1 = mean (h_1 − h'_1)²
    const Tensor h1 = ad::sigmoid(lin(*e[0], x));
    const double want = nn::mse_loss(ad::sigmoid(lin(*d[1], lin(*e[1], h1))), h1).item();
    c.near(stack.layer_loss(1, x).total.item(), want, 1e-5, "layer_loss(1, x).total");
  });

  g.check("the layers below are frozen: layer 1's loss sends no gradient to layer 0", 3, [](grader::Check& c) {
    ad::Generator gen(5);
    StackedAutoencoder stack(small(), gen);
    stack.layer_loss(1, batch(6)).total.backward();
    const auto& e = stack.encoders();
    const auto& d = stack.decoders();
    c.expect(!has_gradient(e[0]->weight) && !has_gradient(e[0]->bias),
             "layer 0's encoder received a gradient from layer 1's loss: compute the codes below without a graph "
             "(ad::NoGradGuard)");
    c.expect(!has_gradient(d[0]->weight), "layer 0's decoder received a gradient from layer 1's loss");
    c.expect(has_gradient(e[1]->weight) && has_gradient(d[1]->weight) && has_gradient(e[1]->bias) && has_gradient(d[1]->bias),
             "layer 1's encoder and decoder weights and biases should all receive a gradient");
  });

  g.check("layer 1's gradient in its encoder weights against central differences", 2, [](grader::Check& c) {
    ad::Generator gen(7);
    StackedAutoencoder stack(small(), gen);
    const Tensor x = batch(8);
    Tensor& w = stack.encoders()[1]->weight;
    stack.layer_loss(1, x).total.backward();
    if (!w.grad().defined()) {
      c.expect(false, "layer 1's encoder weight received no gradient");
      return;
    }
    const Tensor analytic = w.grad().detach();
    for (std::size_t i = 0; i < w.numel(); ++i) {
      // float32 central differences with a step of 1e-2 (the loss is smooth): accurate to about 1e-4 relative
      const float saved = w.data()[i], h = 1e-2f;
      w.data()[i] = saved + h;
      const double up = stack.layer_loss(1, x).total.item();
      w.data()[i] = saved - h;
      const double down = stack.layer_loss(1, x).total.item();
      w.data()[i] = saved;
      const double numeric = (up - down) / (2.0 * h);
      c.near(analytic.data()[i], numeric, 2e-2, "dL_1/dW_2 entry " + std::to_string(i), 2e-5);
    }
  });

  g.check("denoising layers: the input is masked, the target stays the clean code (mask noise 1 in training)", 1,
          [](grader::Check& c) {
            ad::Generator gen(9);
            StackedAutoencoder stack(small().mask_noise(1.0), gen);  // noise level 1: every input entry set to 0
            const Tensor x = batch(10);
            const auto& e = stack.encoders();
            const auto& d = stack.decoders();
            const Tensor h1 = ad::sigmoid(lin(*e[0], x));
            const Tensor zero = Tensor::zeros(h1.shape());
            const double want = nn::mse_loss(ad::sigmoid(lin(*d[1], lin(*e[1], zero))), h1).item();
            stack.train();
            c.near(stack.layer_loss(1, x).total.item(), want, 1e-5, "training loss of layer 1 with every input masked");
            stack.eval();  // no noise when evaluating
            const double clean = nn::mse_loss(ad::sigmoid(lin(*d[1], lin(*e[1], h1))), h1).item();
            c.near(stack.layer_loss(1, x).total.item(), clean, 1e-5, "layer 1's loss in eval mode (no noise)");
          });

  g.check("pretrain_layer(1) trains layer 1 only, and lowers its loss", 2, [](grader::Check& c) {
    ad::Generator gen(11);
    StackedAutoencoder stack(small(), gen);
    const Tensor data = batch(12, 256);
    nn::DataLoader loader(data, {}, 32, gen);
    std::vector<std::vector<float>> before;
    for (auto& [name, t] : stack.named_parameters()) before.emplace_back(t.data(), t.data() + t.numel());
    stack.eval();
    const double loss_before = stack.layer_loss(1, data).total.item();
    stack.train();
    const auto stats = stack.pretrain_layer(1, loader, ae::PhaseOptions().epochs(3).lr(1e-2));
    c.expect(stats.size() == 3, "pretrain_layer returned " + std::to_string(stats.size()) + " epochs of statistics, expected 3");
    std::size_t k = 0;
    for (auto& [name, t] : stack.named_parameters()) {
      const bool layer1 = name.rfind("encoder1.", 0) == 0 || name.rfind("decoder1.", 0) == 0;
      const bool changed = !std::equal(before[k].begin(), before[k].end(), t.data());
      if (layer1 && !changed) c.expect(false, name + " did not change: pretrain_layer(1) should train layer 1");
      if (!layer1 && changed) c.expect(false, name + " changed: pretrain_layer(1) must train layer 1's parameters only");
      ++k;
    }
    stack.eval();
    const double loss_after = stack.layer_loss(1, data).total.item();
    c.expect(loss_after < 0.9 * loss_before, "layer 1's loss went from " + grader::Check::str(loss_before) + " to " +
                                                 grader::Check::str(loss_after) + " in 3 epochs; expected at least 10 % lower");
  });

  g.check("milestone: lesson 07 --quick, pretraining then fine-tuning lowers the unrolled stack's test error", 2,
          [](grader::Check& c) {
            auto m = grader::run_lesson("07_stacked");
            if (!grader::has_metrics(c, m, "07",
                                     {"unrolled_test_mse_fine_tuned", "unrolled_test_mse_greedy", "greedy_layer1_loss",
                                      "greedy_layer2_loss", "test_error_pretrained_100"}))
              return;
            c.expect(m["greedy_layer1_loss"] > 0 && m["greedy_layer2_loss"] > 0, "a greedy layer's loss is not positive");
            // the greedy stack, unrolled, already reconstructs the test digits better than a constant mid-grey image
            c.expect(m["unrolled_test_mse_greedy"] < 0.25, "the greedy stack's unrolled test MSE is " +
                                                              grader::Check::str(m["unrolled_test_mse_greedy"]) +
                                                              ", no better than predicting 0.5 everywhere (< 0.25)");
            c.expect(m["unrolled_test_mse_fine_tuned"] < m["unrolled_test_mse_greedy"],
                     "fine-tuning did not lower the unrolled test MSE: " + grader::Check::str(m["unrolled_test_mse_fine_tuned"]) +
                         " against " + grader::Check::str(m["unrolled_test_mse_greedy"]) + " after the greedy phase");
            c.expect(m["test_error_pretrained_100"] < 90.0, "test error with 100 labels after pretraining is " +
                                                                grader::Check::str(m["test_error_pretrained_100"]) +
                                                                " %, not better than chance");
          });

  return g.finish();
}
