// Grader of exercise relu_sigmoid_backward (coursework/exercises/relu_sigmoid_backward.md): the fused activation
// gradients ad::relu_grad (g ⊙ [x > 0]) and ad::sigmoid_grad (g ⊙ s(1 − s)), which the backward of ad::relu and
// ad::sigmoid (nn::ReLU, nn::Sigmoid, every lesson's model) call.
#include <cmath>

#include "autodiff/ops.hpp"
#include "coursework/grader.hpp"
#include "nn/layers.hpp"

using ad::Tensor;
using ad::Tensor64;
using V = std::vector<Tensor64>;

namespace {
// d sum(w ⊙ f(x)) / dx: f's backward with the upstream gradient w
template <class T, class F>
ad::TensorT<T> input_grad(F f, const ad::TensorT<T>& x, const ad::TensorT<T>& w) {
  ad::TensorT<T> xg = x.detach();
  xg.set_requires_grad(true);
  ad::sum(ad::mul(f(xg), w)).backward();
  return xg.grad();
}

Tensor64 vec(std::vector<double> v) {
  const std::size_t n = v.size();
  return Tensor64::from_vector(std::move(v), {n});
}

Tensor64 away_from_zero(const ad::Shape& shape, std::uint64_t seed) {  // |x| in [0.2, 1.2), random signs
  ad::Generator gen(seed);
  Tensor64 t = ad::rand_uniform<double>(shape, gen, 0.2, 1.2);
  for (std::size_t i = 0; i < t.numel(); ++i)
    if (gen.uniform() < 0.5) t.data()[i] = -t.data()[i];
  return t;
}
}  // namespace

int main() {
  grader::Grader g("relu_sigmoid_backward");

  g.check("sigmoid backward on a worked example: s(1 - s) at s = 1/2, 3/4, 1/4", 2, [](grader::Check& c) {
    // σ(0) = 1/2, σ(ln 3) = 3/4, σ(−ln 3) = 1/4: σ' = 1/4, 3/16, 3/16; upstream gradient 1, 2, −4
    const Tensor64 dx = input_grad([](const Tensor64& x) { return ad::sigmoid(x); }, vec({0.0, std::log(3.0), -std::log(3.0)}),
                                   vec({1.0, 2.0, -4.0}));
    c.all_near(dx, vec({0.25, 0.375, -0.75}), 1e-12, 1e-15, "d sum(w * sigmoid(x)) / dx");
  });

  g.check("relu backward on a worked example: the mask [x > 0], and 0 at x = 0 (as PyTorch)", 2, [](grader::Check& c) {
    const Tensor64 dx = input_grad([](const Tensor64& x) { return ad::relu(x); }, vec({-2.0, -0.5, 0.0, 0.5, 3.0}),
                                   vec({1.0, 2.0, 3.0, 4.0, -5.0}));
    c.all_near(dx, vec({0.0, 0.0, 0.0, 4.0, -5.0}), 0.0, 0.0, "d sum(w * relu(x)) / dx");
  });

  g.check("sigmoid_grad(g, s) and relu_grad(g, x) called directly", 1, [](grader::Check& c) {
    const Tensor64 gr = vec({2.0, -1.0, 0.5}), s = vec({0.1, 0.5, 0.9}), x = vec({-1.0, 2.0, 1e-300});
    c.all_near(ad::sigmoid_grad(gr, s), vec({2.0 * 0.1 * 0.9, -0.25, 0.5 * 0.9 * 0.1}), 1e-12, 1e-15, "sigmoid_grad(g, s)");
    c.all_near(ad::relu_grad(gr, x), vec({0.0, -1.0, 0.5}), 0.0, 0.0, "relu_grad(g, x)");
  });

  g.check("sigmoid and relu: gradcheck against central differences (float64, [4, 5], random upstream)", 2, [](grader::Check& c) {
    ad::Generator gen(7);
    c.gradcheck([](const V& v) { return ad::sigmoid(v[0]); }, {ad::rand_uniform<double>({4, 5}, gen, -4.0, 4.0)}, "sigmoid");
    c.gradcheck([](const V& v) { return ad::relu(v[0]); }, {away_from_zero({4, 5}, 8)}, "relu");
  });

  g.check("second derivatives: gradgradcheck of sigmoid and relu (the backward of the backward)", 1, [](grader::Check& c) {
    ad::Generator gen(9);
    const auto s = ad::gradgradcheck([](const V& v) { return ad::sigmoid(v[0]); }, {ad::rand_uniform<double>({3, 4}, gen, -3.0, 3.0)});
    c.expect(s.ok && s.checked > 0, "sigmoid: " + s.message);
    const auto r = ad::gradgradcheck([](const V& v) { return ad::relu(v[0]); }, {away_from_zero({3, 4}, 10)});
    c.expect(r.ok && r.checked > 0, "relu: " + r.message);
  });

  g.check("float32 layers nn::Sigmoid and nn::ReLU agree with float64 on a [64, 100] batch", 1, [](grader::Check& c) {
    ad::Generator gen(11);
    const Tensor64 x = ad::rand_uniform<double>({64, 100}, gen, -5.0, 5.0), w = ad::randn<double>({64, 100}, gen);
    nn::Sigmoid sigmoid;
    nn::ReLU relu;
    const Tensor dxs = input_grad([&](const Tensor& t) { return sigmoid(t); }, ad::cast<float>(x), ad::cast<float>(w));
    c.all_near(ad::cast<double>(dxs), input_grad([](const Tensor64& t) { return ad::sigmoid(t); }, x, w), 1e-5, 1e-6,
               "nn::Sigmoid backward in float32");
    const Tensor dxr = input_grad([&](const Tensor& t) { return relu(t); }, ad::cast<float>(x), ad::cast<float>(w));
    c.all_near(ad::cast<double>(dxr), input_grad([](const Tensor64& t) { return ad::relu(t); }, x, w), 1e-6, 1e-6,
               "nn::ReLU backward in float32");
  });

  g.check("milestone: lesson 00 --quick (sigmoid autoencoder): gradcheck <= 1e-6, double backward <= 1e-8, loss falls", 1,
          [](grader::Check& c) {
            auto m = grader::run_lesson("00_autodiff");
            c.expect(m.count("max_gradcheck_rel_error") && m["max_gradcheck_rel_error"] <= 1e-6,
                     "max_gradcheck_rel_error is " + grader::Check::str(m["max_gradcheck_rel_error"]) + ", above 1e-6");
            c.expect(m["double_backward_rel_error"] <= 1e-8,
                     "double_backward_rel_error is " + grader::Check::str(m["double_backward_rel_error"]) + ", above 1e-8");
            c.expect(m["final_loss"] < m["initial_loss"], "the loss did not fall: final_loss " + grader::Check::str(m["final_loss"]) +
                                                              ", initial_loss " + grader::Check::str(m["initial_loss"]));
          });
  return g.finish();
}
