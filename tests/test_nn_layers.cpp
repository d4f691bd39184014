// nn: modules, layers (gradchecked in float64, input and each parameter), initializers, losses, optimizers.
#define BOOST_TEST_MODULE nn_layers
#include "helpers.hpp"
#include "autodiff/denormals.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"

using namespace test;
using V = std::vector<Tensor64>;

namespace {
// gradcheck a layer w.r.t. its input and each listed parameter: the parameters are swapped for
// gradcheck's own leaves inside the function, and restored afterwards.
template <class Layer>
void check_layer(Layer& layer, const Tensor64& x, std::vector<Tensor64*> params) {
  std::vector<Tensor64> saved;
  V inputs{x};
  for (auto* p : params) {
    saved.push_back(*p);
    inputs.push_back(p->detach());
  }
  auto f = [&](const V& in) {
    for (std::size_t i = 0; i < params.size(); ++i) *params[i] = in[i + 1];
    return layer(in[0]);
  };
  const auto r = ad::gradcheck(f, inputs);
  BOOST_CHECK_MESSAGE(r.ok, layer.type_name() << ": " << r.message);
  for (std::size_t i = 0; i < params.size(); ++i) *params[i] = saved[i];
}
}  // namespace

BOOST_AUTO_TEST_CASE(gradcheck_every_layer) {
  ad::Generator gen(1);
  nn::LinearT<double> linear(5, 3, gen);
  check_layer(linear, uniform({4, 5}, 2), {&linear.weight, &linear.bias});
  auto tied = nn::LinearT<double>::tied_to(linear);
  check_layer(*tied, uniform({4, 3}, 3), {&tied->weight, &tied->bias});
  nn::Conv2dT<double> conv(2, 3, 3, gen, nn::ConvOptions().stride(2).padding(1));
  check_layer(conv, uniform({2, 2, 5, 5}, 4), {&conv.weight, &conv.bias});
  nn::ConvTranspose2dT<double> convt(3, 2, 3, gen, nn::ConvOptions().stride(2).padding(1).output_padding(1));
  check_layer(convt, uniform({2, 3, 3, 3}, 5), {&convt.weight, &convt.bias});
  nn::BatchNorm1dT<double> bn1(4);
  nn::init::uniform_(bn1.weight, 0.5, 1.5, gen);
  nn::init::uniform_(bn1.bias, -0.5, 0.5, gen);
  check_layer(bn1, uniform({6, 4}, 6), {&bn1.weight, &bn1.bias});
  nn::BatchNorm2dT<double> bn2(3);
  nn::init::uniform_(bn2.weight, 0.5, 1.5, gen);
  check_layer(bn2, uniform({2, 3, 3, 3}, 7), {&bn2.weight, &bn2.bias});
  bn2.eval();
  check_layer(bn2, uniform({2, 3, 3, 3}, 8), {&bn2.weight, &bn2.bias});
  nn::ReLUT<double> relu;
  check_layer(relu, away_from_zero({3, 4}, 9), {});
  nn::LeakyReLUT<double> leaky(0.2);
  check_layer(leaky, away_from_zero({3, 4}, 10), {});
  nn::SigmoidT<double> sig;
  check_layer(sig, uniform({3, 4}, 11), {});
  nn::TanhT<double> tanh_layer;
  check_layer(tanh_layer, uniform({3, 4}, 12), {});
  nn::SoftplusT<double> softplus;
  check_layer(softplus, uniform({3, 4}, 13), {});
  nn::IdentityT<double> id;
  check_layer(id, uniform({3, 4}, 14), {});
  nn::FlattenT<double> flat;
  check_layer(flat, uniform({2, 3, 2, 2}, 15), {});
  nn::UnflattenT<double> unflat({3, 2, 2});
  check_layer(unflat, uniform({2, 12}, 16), {});
  // Dropout: the same mask on every call (reseeded), so central differences see one function.
  auto g = std::make_shared<ad::Generator>(17);
  nn::DropoutT<double> drop(0.4, g);
  Tensor64 dx = uniform({4, 6}, 18);
  const auto r = ad::gradcheck([&](const V& in) { g->seed(99); return drop(in[0]); }, {dx});
  BOOST_CHECK_MESSAGE(r.ok, r.message);
  // Sequential of several layers, checked end to end through its input
  nn::SequentialT<double> seq({std::make_shared<nn::LinearT<double>>(6, 4, gen), std::make_shared<nn::TanhT<double>>(),
                               std::make_shared<nn::LinearT<double>>(4, 2, gen)});
  check_layer(seq, uniform({3, 6}, 19), {});
}

BOOST_AUTO_TEST_CASE(linear_and_conv_by_hand) {
  ad::Generator gen(2);
  nn::LinearT<double> lin(2, 2, gen);
  lin.weight.value() = xt::xarray<double>{{1, 2}, {3, 4}};  // [out, in]
  lin.bias.value() = xt::xarray<double>{10, 20};
  const Tensor64 y = lin(Tensor64::from_vector({1, 1, 2, -1}, {2, 2}));
  BOOST_TEST(y.value()(0, 0) == 13.0);  // 1·1 + 2·1 + 10
  BOOST_TEST(y.value()(0, 1) == 27.0);  // 3 + 4 + 20
  BOOST_TEST(y.value()(1, 1) == 22.0);  // 3·2 − 4 + 20
  auto tied = nn::LinearT<double>::tied_to(lin, false);  // 2 -> 2 with Wᵀ
  const Tensor64 z = (*tied)(Tensor64::from_vector({1, 0}, {1, 2}));
  BOOST_TEST(z.value()(0, 0) == 1.0);
  BOOST_TEST(z.value()(0, 1) == 2.0);
  BOOST_TEST(tied->named_parameters().empty());

  nn::Conv2dT<double> conv(1, 1, 2, gen);
  conv.weight.value() = xt::xarray<double>({1, 1, 2, 2}, 1.0);  // box filter
  conv.bias.value().fill(0.5);
  const Tensor64 c = conv(Tensor64::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}));
  BOOST_TEST(c.shape() == (Shape{1, 1, 2, 2}));
  BOOST_TEST(c.value()(0, 0, 0, 0) == 12.5);  // 1+2+4+5 + 0.5
  BOOST_TEST(c.value()(0, 0, 1, 1) == 28.5);  // 5+6+8+9 + 0.5
}

BOOST_AUTO_TEST_CASE(conv_transpose_layer_is_the_adjoint_of_conv_layer) {
  ad::Generator gen(3);
  nn::Conv2dT<double> conv(3, 5, 3, gen, nn::ConvOptions().stride(2).padding(1).bias(false));
  nn::ConvTranspose2dT<double> convt(5, 3, 3, gen, nn::ConvOptions().stride(2).padding(1).output_padding(1).bias(false));
  convt.weight.value() = conv.weight.value();  // same [5,3,3,3] array: conv's [out,in] is convT's [in,out]
  const Tensor64 x = uniform({2, 3, 8, 8}, 4);
  const Tensor64 y = uniform({2, 5, 4, 4}, 5);
  const double lhs = ad::sum(ad::mul(conv(x), y)).item();
  const Tensor64 xt_ = convt(y);
  BOOST_TEST(xt_.shape() == x.shape());
  const double rhs = ad::sum(ad::mul(x, xt_)).item();
  BOOST_TEST(std::abs(lhs - rhs) < 1e-10 * std::abs(lhs));
}

BOOST_AUTO_TEST_CASE(batchnorm_train_and_eval) {
  nn::BatchNorm1dT<double> bn(2, 1e-5, 0.1);
  const Tensor64 x = Tensor64::from_vector({1, 10, 2, 20, 3, 30, 6, 40}, {4, 2});
  const Tensor64 y = bn(x);
  // training: each column normalised with its batch statistics
  for (std::size_t c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    for (std::size_t i = 0; i < 4; ++i) m += y.value()(i, c) / 4;
    for (std::size_t i = 0; i < 4; ++i) v += (y.value()(i, c) - m) * (y.value()(i, c) - m) / 4;
    BOOST_TEST(std::abs(m) < 1e-12);
    BOOST_TEST(std::abs(v - 1.0) < 1e-4);
  }
  // running statistics, PyTorch's convention: column 0 has mean 3, unbiased variance 14/3
  BOOST_TEST(std::abs(bn.running_mean.value()(0) - 0.3) < 1e-12);
  BOOST_TEST(std::abs(bn.running_var.value()(0) - (0.9 + 0.1 * 14.0 / 3.0)) < 1e-12);
  // eval: uses the running statistics, and does not change them
  bn.eval();
  const Tensor64 e = bn(Tensor64::from_vector({0.3, 2.5}, {1, 2}));
  BOOST_TEST(std::abs(e.value()(0, 0)) < 1e-12);
  BOOST_TEST(std::abs(bn.running_mean.value()(0) - 0.3) < 1e-12);
  BOOST_TEST(bn.named_buffers().size() == 3u);  // running_mean, running_var, num_batches_tracked (PyTorch's)
  const double batches_seen = bn.num_batches_tracked.item();
  BOOST_TEST(batches_seen >= 1.0);
  BOOST_TEST(bn.named_parameters().size() == 2u);
  bn.train();
  bn(Tensor64::from_vector({1, 2, 3, 5}, {2, 2}));
  BOOST_TEST(bn.num_batches_tracked.item() == batches_seen + 1);  // training batches counted, eval ones not
  CHECK_THROWS_WITH(bn(Tensor64::from_vector({1, 2}, {1, 2})), "BatchNorm1d", "more than one value");
  CHECK_THROWS_WITH(bn(Tensor64::zeros({4, 3})), "BatchNorm1d", "[4,3]");
}

BOOST_AUTO_TEST_CASE(dropout_train_and_eval) {
  auto g = std::make_shared<ad::Generator>(4);
  nn::Dropout drop(0.25, g);
  const ad::Tensor x = ad::Tensor::ones({200, 100});
  const ad::Tensor y = drop(x);
  double kept = 0;
  for (std::size_t i = 0; i < y.numel(); ++i) {
    const float v = y.data()[i];
    BOOST_TEST((v == 0.0f || std::abs(v - 1.0f / 0.75f) < 1e-6));
    kept += v != 0.0f;
  }
  BOOST_TEST(std::abs(kept / y.numel() - 0.75) < 0.01);
  drop.eval();
  BOOST_TEST(drop(x).node() == x.node());
  CHECK_THROWS_WITH(nn::Dropout(1.5, g), "Dropout", "1.5");
}

BOOST_AUTO_TEST_CASE(module_tree_names_train_eval_summary) {
  ad::Generator gen(5);
  struct AE : nn::Module {
    std::shared_ptr<nn::Sequential> encoder, decoder;
    AE(ad::Generator& gen) {
      auto enc_linear = std::make_shared<nn::Linear>(784, 32, gen);
      encoder = register_module("encoder", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                               enc_linear, std::make_shared<nn::BatchNorm1d>(32), std::make_shared<nn::ReLU>()}));
      decoder = register_module("decoder", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                               nn::Linear::tied_to(*enc_linear), std::make_shared<nn::Sigmoid>()}));
    }
    ad::Tensor forward(const ad::Tensor& x) override { return (*decoder)((*encoder)(x)); }
    std::string type_name() const override { return "AE"; }
  } model(gen);
  std::vector<std::string> names;
  for (auto& [n, p] : model.named_parameters()) names.push_back(n);
  const std::vector<std::string> expected{"encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias",
                                          "decoder.0.bias"};
  BOOST_TEST(names == expected, boost::test_tools::per_element());
  BOOST_TEST(model.named_buffers()[0].first == "encoder.1.running_mean");
  BOOST_TEST(model.parameter_count() == 784u * 32 + 32 + 32 + 32 + 784);
  model.eval();
  BOOST_TEST(!model.encoder->is_training());
  BOOST_TEST(!(*model.encoder)[1]->is_training());
  model.train();
  BOOST_TEST((*model.encoder)[1]->is_training());
  const std::string s = model.summary({1, 784});
  BOOST_TEST_MESSAGE(s);
  BOOST_TEST(s.find("encoder.0") != std::string::npos);
  BOOST_TEST(s.find("Linear(784 -> 32)") != std::string::npos);
  BOOST_TEST(s.find("[1,32]") != std::string::npos);
  BOOST_TEST(s.find("decoder.1") != std::string::npos);
  BOOST_TEST(s.find("[1,784]") != std::string::npos);
  BOOST_TEST(s.find("total parameters: " + std::to_string(model.parameter_count())) != std::string::npos);
  BOOST_TEST(model.is_training());  // summary restores the mode
  // zero_grad clears every parameter's gradient
  nn::mse_loss(model(ad::Tensor::ones({4, 784})), ad::Tensor::zeros({4, 784})).backward();
  BOOST_TEST(model.encoder->named_parameters()[0].second.grad().defined());
  model.zero_grad();
  for (auto& p : model.parameters()) BOOST_TEST(!p.grad().defined());
  CHECK_THROWS_WITH(model(ad::Tensor::zeros({4, 100})), "Linear(784 -> 32)", "[4,100]");
}

BOOST_AUTO_TEST_CASE(initializers_have_the_right_spread) {
  ad::Generator gen(6);
  ad::Tensor w = ad::Tensor::zeros({400, 600});
  nn::init::xavier_uniform_(w, gen);
  const double bound = std::sqrt(6.0 / 1000.0);
  BOOST_TEST(ad::max(ad::abs(w)).item() <= bound);
  BOOST_TEST(ad::max(ad::abs(w)).item() > 0.99 * bound);
  nn::init::kaiming_normal_(w, gen);
  const double sd = std::sqrt(ad::mean(ad::square(w)).item());
  BOOST_TEST(std::abs(sd - std::sqrt(2.0 / 600.0)) < 0.01 * std::sqrt(2.0 / 600.0) * 3);
  nn::init::xavier_normal_(w, gen);
  BOOST_TEST(std::abs(std::sqrt(ad::mean(ad::square(w)).item()) - std::sqrt(2.0 / 1000.0)) < 0.002);
  ad::Tensor c = ad::Tensor::zeros({16, 8, 3, 3});
  BOOST_TEST(nn::init::fans(c.shape()).first == 72u);
  nn::init::kaiming_uniform_(c, gen);
  BOOST_TEST(ad::max(ad::abs(c)).item() <= std::sqrt(6.0 / 72.0));
  // layer defaults: U(±1/√in)
  nn::Linear lin(100, 10, gen);
  BOOST_TEST(ad::max(ad::abs(lin.weight)).item() <= 0.1);
  BOOST_TEST(ad::max(ad::abs(lin.weight)).item() > 0.09);
  // ConvTranspose2d: PyTorch takes fan_in from weight.size(1)·k·k = out_channels·k·k: U(±1/√(16·9)) = ±1/12
  nn::ConvTranspose2d convt(32, 16, 3, gen);
  BOOST_TEST(ad::max(ad::abs(convt.weight)).item() <= 1.0 / 12);
  BOOST_TEST(ad::max(ad::abs(convt.weight)).item() > 0.95 / 12);
  // same seed, same weights
  ad::Generator g1(7), g2(7);
  BOOST_TEST(max_abs_diff(ad::cast<double>(nn::Linear(30, 20, g1).weight), ad::cast<double>(nn::Linear(30, 20, g2).weight)) == 0.0);
}

BOOST_AUTO_TEST_CASE(losses_by_hand) {
  const Tensor64 p = Tensor64::from_vector({0.8, 0.1}, {1, 2}), x = Tensor64::from_vector({1.0, 0.0}, {1, 2});
  BOOST_TEST(std::abs(nn::mse_loss(p, x).item() - (0.04 + 0.01) / 2) < 1e-12);
  BOOST_TEST(std::abs(nn::mse_loss(p, x, nn::Reduction::Sum).item() - 0.05) < 1e-12);
  const double bce = -(std::log(0.8) + std::log(0.9)) / 2;
  BOOST_TEST(std::abs(nn::bce_loss(p, x).item() - bce) < 1e-12);
  const Tensor64 z = Tensor64::from_vector({std::log(4.0), std::log(1.0 / 9.0)}, {1, 2});  // σ(z) = 0.8, 0.1
  BOOST_TEST(std::abs(nn::bce_with_logits_loss(z, x).item() - bce) < 1e-12);
  // saturated probabilities and huge logits stay finite
  BOOST_TEST(std::isfinite(nn::bce_loss(Tensor64::from_vector({0.0, 1.0}, {2}), Tensor64::from_vector({1.0, 0.0}, {2})).item()));
  BOOST_TEST(std::isfinite(nn::bce_with_logits_loss(Tensor64::from_vector({1e4, -1e4}, {2}), Tensor64::from_vector({0.0, 1.0}, {2})).item()));
  // cross-entropy: logits (0, ln 3) -> softmax (1/4, 3/4)
  const Tensor64 logits = Tensor64::from_vector({0.0, std::log(3.0), 0.0, std::log(3.0)}, {2, 2});
  BOOST_TEST(std::abs(nn::cross_entropy_loss(logits, {1, 0}).item() - (-(std::log(0.75) + std::log(0.25)) / 2)) < 1e-12);
  // KL(N(μ, σ²) ‖ N(0,1)) = ½(σ² + μ² − 1 − ln σ²)
  const Tensor64 mu = Tensor64::from_vector({1.0, 0.0}, {1, 2}), logvar = Tensor64::from_vector({0.0, std::log(4.0)}, {1, 2});
  BOOST_TEST(std::abs(nn::kl_normal(mu, logvar).item() - (0.5 * 1.0 + 0.5 * (4.0 - 1.0 - std::log(4.0)))) < 1e-12);
  // Mean is per sample: the sum over a batch of two identical rows, divided by 2 (not by the 4 elements)
  const Tensor64 mu2 = ad::concat<double>({mu, mu}, 0), logvar2 = ad::concat<double>({logvar, logvar}, 0);
  BOOST_TEST(std::abs(nn::kl_normal(mu2, logvar2, nn::Reduction::Mean).item() - nn::kl_normal(mu, logvar).item()) < 1e-12);
  // sparsity KL: mean activations (0.2, 0.5) against ρ = 0.1
  const Tensor64 h = Tensor64::from_vector({0.1, 0.4, 0.3, 0.6}, {2, 2});
  auto kl = [](double r, double q) { return r * std::log(r / q) + (1 - r) * std::log((1 - r) / (1 - q)); };
  BOOST_TEST(std::abs(nn::kl_sparsity(h, 0.1).item() - (kl(0.1, 0.2) + kl(0.1, 0.5))) < 1e-12);
  BOOST_TEST(std::abs(nn::kl_sparsity(Tensor64::full({3, 2}, 0.1), 0.1).item()) < 1e-12);  // zero at ρ̂ = ρ
  BOOST_TEST(std::abs(nn::l1_activity(Tensor64::from_vector({-1, 2, 3, -4}, {2, 2})).item() - 5.0) < 1e-12);
  CHECK_THROWS_WITH(nn::mse_loss(p, Tensor64::zeros({2, 1})), "mse_loss", "[1,2]", "[2,1]");
  CHECK_THROWS_WITH(nn::cross_entropy_loss(logits, {0, 5}), "cross_entropy_loss", "label 5");
  CHECK_THROWS_WITH(nn::kl_sparsity(h, 1.5), "kl_sparsity", "rho=1.5");
}

// BCE on probabilities as PyTorch computes it: each log term clamped at −100, and a gradient that reaches the
// logits of saturated wrong outputs (σ then BCE in float32, where p(1 − p) is tiny but not zero).
BOOST_AUTO_TEST_CASE(bce_keeps_the_gradient_of_saturated_wrong_outputs) {
  // float64: p = 0 against target 1 costs 100 (the clamp), p = 1e-30 costs 69.08
  const Tensor64 p = Tensor64::from_vector({0.0, 1e-30, 1.0}, {3}), x = Tensor64::from_vector({1.0, 1.0, 1.0}, {3});
  BOOST_TEST(std::abs(nn::bce_loss(p, x, nn::Reduction::Sum).item() - (100.0 - std::log(1e-30) + 0.0)) < 1e-9);
  Tensor64 pg = p.detach().set_requires_grad(true);
  nn::bce_loss(pg, x, nn::Reduction::Sum).backward();
  // (p − x)/max(p(1 − p), 1e-12): −1e12 at 0, −1e12 at 1e-30 (clamped), 0 at a correct 1
  BOOST_TEST(std::abs(pg.grad().value()(0) / -1e12 - 1) < 1e-6);
  BOOST_TEST(std::abs(pg.grad().value()(1) / -1e12 - 1) < 1e-6);
  BOOST_TEST(pg.grad().value()(2) == 0.0);
  // float32 through a sigmoid: logits −20, −17 with target 1 and 16 with target 0 are wrong and saturated;
  // the gradient is g·(σ(z) − x) as from the logits, about ∓0.7 for an upstream 0.7 (the clamp at 1e-7 gave 0).
  // From 17 up σ(z) rounds to 1 in float and no BCE on probabilities has a gradient (PyTorch's neither): that is
  // why a model with a sigmoid output takes its BCE from the logits (ae::decoder_loss).
  ad::Tensor z = ad::Tensor::from_vector({-20.0f, -17.0f, 16.0f, 2.0f}, {4}, true);
  const ad::Tensor t = ad::Tensor::from_vector({1.0f, 1.0f, 0.0f, 1.0f}, {4});
  const ad::Tensor loss = nn::bce_loss(ad::sigmoid(z), t, nn::Reduction::Sum);
  ad::mul(loss, 0.7f).backward();
  for (std::size_t i = 0; i < 4; ++i) {
    const double s = 1 / (1 + std::exp(-static_cast<double>(z.value()(i)))), expected = 0.7 * (s - t.value()(i));
    BOOST_TEST_CONTEXT("logit " << z.value()(i)) { BOOST_TEST(std::abs(z.grad().value()(i) - expected) < 1e-3 * std::abs(expected)); }
  }
  // the loss itself: −log σ(−20) ≈ 20, as bce_with_logits computes it
  const ad::Tensor zl = ad::Tensor::from_vector({-20.0f}, {1}), one = ad::Tensor::ones({1});
  BOOST_TEST(std::abs(nn::bce_loss(ad::sigmoid(zl), one).item() - nn::bce_with_logits_loss(zl, one).item()) < 1e-4);
  CHECK_THROWS_WITH(nn::bce_loss(Tensor64::from_vector({1.5}, {1}), Tensor64::ones({1})), "binary_cross_entropy", "1.5",
                    "outside [0, 1]");
}

BOOST_AUTO_TEST_CASE(gradcheck_losses) {
  const Tensor64 p = uniform({3, 4}, 20, 0.1, 0.9), t = uniform({3, 4}, 21, 0.0, 1.0), z = uniform({3, 4}, 22, -3, 3);
  CHECK_GRADCHECK([](const V& x) { return nn::mse_loss(x[0], x[1]); }, p, t);
  CHECK_GRADCHECK([](const V& x) { return nn::mse_loss(x[0], x[1], nn::Reduction::Sum); }, p, t);
  CHECK_GRADCHECK([](const V& x) { return nn::bce_loss(x[0], x[1]); }, p, t);
  CHECK_GRADCHECK([](const V& x) { return nn::bce_with_logits_loss(x[0], x[1]); }, z, t);
  CHECK_GRADCHECK([](const V& x) { return nn::cross_entropy_loss(x[0], {1, 3, 0}); }, z);
  CHECK_GRADCHECK([](const V& x) { return nn::kl_normal(x[0], x[1]); }, z, uniform({3, 4}, 23));
  CHECK_GRADCHECK([](const V& x) { return nn::kl_normal(x[0], x[1], nn::Reduction::Mean); }, z, uniform({3, 4}, 24));
  CHECK_GRADCHECK([](const V& x) { return nn::kl_sparsity(x[0], 0.05); }, p);
  CHECK_GRADCHECK([](const V& x) { return nn::l1_activity(x[0]); }, away_from_zero({3, 4}, 25));
}

BOOST_AUTO_TEST_CASE(sgd_and_adam_steps_by_hand) {
  // SGD with momentum 0.9 and weight decay 0.1 on p = 1, constant gradient 2:
  // d = 2 + 0.1 = 2.1, v1 = 2.1, p1 = 1 − 0.1·2.1 = 0.79; d2 = 2 + 0.079 = 2.079, v2 = 0.9·2.1 + 2.079 = 3.969
  Tensor64 p = Tensor64::from_vector({1.0}, {1}, true);
  nn::SGDT<double> sgd({{"p", p}}, 0.1, 0.9, 0.1);
  p.set_grad(Tensor64::from_vector({2.0}, {1}));
  sgd.step();
  BOOST_TEST(std::abs(p.item() - 0.79) < 1e-12);
  sgd.step();
  BOOST_TEST(std::abs(p.item() - (0.79 - 0.1 * 3.969)) < 1e-12);
  sgd.zero_grad();
  BOOST_TEST(!p.grad().defined());
  sgd.step();  // no gradient: no change
  BOOST_TEST(std::abs(p.item() - (0.79 - 0.1 * 3.969)) < 1e-12);

  // Adam's first step moves each parameter by lr·g/(|g| + ε) ≈ lr·sign(g), whatever the scale of g
  Tensor64 q = Tensor64::from_vector({1.0, 1.0}, {2}, true);
  nn::AdamT<double> adam({{"q", q}}, 0.01);
  q.set_grad(Tensor64::from_vector({1000.0, -0.001}, {2}));
  adam.step();
  BOOST_TEST(std::abs(q.value()(0) - 0.99) < 1e-8);
  BOOST_TEST(std::abs(q.value()(1) - 1.01) < 1e-4);
  // second step with the same gradient: m̂ = g, v̂ = g²: the same move again
  adam.step();
  BOOST_TEST(std::abs(q.value()(0) - 0.98) < 1e-8);
  BOOST_TEST(adam.steps() == 2);

  nn::StepLRT<double> schedule(adam, 2, 0.5);
  schedule.step();
  BOOST_TEST(adam.lr() == 0.01);
  schedule.step();
  BOOST_TEST(adam.lr() == 0.005);
  schedule.step();
  schedule.step();
  BOOST_TEST(adam.lr() == 0.0025);
}

// Warm-up then decay, by hand: warmup 4, total 20, final fraction 0.01.
BOOST_AUTO_TEST_CASE(warmup_decay_schedule_by_hand) {
  Tensor64 p = Tensor64::from_vector({1.0}, {1}, true);
  nn::SGDT<double> sgd({{"p", p}}, 0.5);
  nn::WarmupDecayLRT<double> schedule(sgd, 4, 20, 0.01);
  BOOST_TEST(std::abs(sgd.lr() - 0.5 / 5) < 1e-15);  // step 0: (0 + 1)/(4 + 1) of the base
  const std::vector<std::pair<std::size_t, double>> expected{
      {3, 0.8}, {4, 1.0}, {9, 1.0}, {10, 1.0}, {15, 0.1}, {20, 0.01}, {30, 0.01}};  // 0.01^((s − 10)/10) after half
  for (auto [step, factor] : expected) BOOST_TEST(std::abs(schedule.factor(step) - factor) < 1e-12);
  for (int s = 0; s < 15; ++s) schedule.step();
  BOOST_TEST(std::abs(sgd.lr() - 0.5 * 0.1) < 1e-12);
}

// Adam's moments decay by β per step where the gradient stays 0; in the subnormal range the update flushes them to
// 0 (ad::FlushDenormals), and the calling thread's floating-point mode is the same afterwards.
BOOST_AUTO_TEST_CASE(adam_flushes_subnormal_moments_and_restores_the_mode) {
  volatile float tiny = 1e-30f;
  BOOST_TEST(tiny * 1e-10f > 0.0f);  // subnormal arithmetic as IEEE says, outside the guard
  {
    const ad::FlushDenormals ftz;
    BOOST_TEST(tiny * 1e-10f == 0.0f);
  }
  BOOST_TEST(tiny * 1e-10f > 0.0f);

  Tensor w = Tensor::from_vector({1.0f}, {1}, true);
  nn::Adam adam({{"w", w}}, 1e-3);
  w.set_grad(Tensor::from_vector({1e-3f}, {1}));
  adam.step();  // m = 1e-4, v = 1e-7
  w.set_grad(Tensor::from_vector({0.0f}, {1}));
  const nn::Named<float> state0 = adam.state();
  float m = state0[0].second.item(), last_normal = m;
  for (int k = 0; k < 1000 && m != 0.0f; ++k) {
    adam.step();  // m ← 0.9 m: normal down to 1.2e-38, then 0 instead of subnormal
    m = adam.state()[0].second.item();
    BOOST_TEST((m == 0.0f || m >= std::numeric_limits<float>::min()));
    if (m != 0.0f) last_normal = m;
  }
  BOOST_TEST(m == 0.0f);
  BOOST_TEST(last_normal < 1.4e-38f);
  BOOST_TEST(tiny * 1e-10f > 0.0f);  // the step restored the mode
}

BOOST_AUTO_TEST_CASE(adam_minimises_a_quadratic) {
  ad::Generator gen(8);
  Tensor64 w = ad::randn<double>({10}, gen).set_requires_grad(true);
  const Tensor64 target = ad::randn<double>({10}, gen);
  nn::AdamT<double> adam({{"w", w}}, 0.05);
  for (int i = 0; i < 500; ++i) {
    adam.zero_grad();
    nn::mse_loss(w, target).backward();
    adam.step();
  }
  BOOST_TEST(max_abs_diff(w, target) < 1e-3);
}
