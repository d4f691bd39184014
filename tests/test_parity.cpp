// PyTorch parity: every public op, loss (each reduction), layer (train and eval), optimizer (each option) and
// autoencoder objective against the values PyTorch 1.13 computed for the same inputs, weights, noise and upstream
// gradients (tests/parity/golden.npz, written by tests/parity/make_golden.py; regenerating needs python3-torch,
// running this test does not).
//
// Tolerances: float64 cases (ops, losses, layers, optimizers) |ours − torch| ≤ 1e-9 (|torch| + 1e-3 max|torch|);
// float32 cases (the autoencoder objectives, as the models train) the same with 1e-5. Where the two frameworks
// differ on purpose, make_golden.py says so beside the case ("DIFFERS").
#define BOOST_TEST_MODULE parity
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "autoencoders/autoencoder.hpp"
#include "autoencoders/contractive.hpp"
#include "autoencoders/convolutional.hpp"
#include "autoencoders/denoising.hpp"
#include "autoencoders/k_sparse.hpp"
#include "autoencoders/sparse.hpp"
#include "autoencoders/stacked.hpp"
#include "autoencoders/variational.hpp"
#include "helpers.hpp"
#include "nn/checkpoint.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"

using namespace test;
using V = std::vector<Tensor64>;

namespace {
// The convolution geometry most cases use: stride 2, padding 1 (the conv autoencoder's).
const ad::Conv2dOptions kStride2Pad1 = ad::Conv2dOptions().stride(2).padding(1);

constexpr double kTol64 = 1e-9, kTol32 = 1e-5;
const std::string kDir = PARITY_DIR;

struct Golden {
  std::map<std::string, Tensor64> arrays;
  std::set<std::string> cases, checked;
  Golden() {
    for (auto& [key, t] : nn::load_npz<double>(kDir + "/golden.npz")) {
      arrays[key] = t;
      cases.insert(key.substr(0, key.find('/')));
    }
  }
  bool has(const std::string& c, const std::string& key) const { return arrays.count(c + "/" + key) > 0; }
  Tensor64 get(const std::string& c, const std::string& key) const {
    const auto it = arrays.find(c + "/" + key);
    if (it == arrays.end()) throw ad::Error("golden.npz has no '" + c + "/" + key + "' (regenerate with make_golden.py)");
    return it->second.detach();
  }
  // The arrays of a case under a prefix ("param/"), by the rest of their name.
  std::map<std::string, Tensor64> under(const std::string& c, const std::string& prefix) const {
    std::map<std::string, Tensor64> out;
    const std::string full = c + "/" + prefix;
    for (auto it = arrays.lower_bound(full); it != arrays.end() && it->first.compare(0, full.size(), full) == 0; ++it)
      out[it->first.substr(full.size())] = it->second.detach();
    return out;
  }
};

Golden& golden() {
  static Golden g;
  return g;
}

// |a − e| ≤ tol (|e| + floor) everywhere, floor = 1e-3 max|e| unless given; the first failure is reported.
template <class T>
void check_close(const std::string& what, const ad::TensorT<T>& actual_t, const Tensor64& expected, double tol,
                 double floor = -1) {
  const Tensor64 actual = ad::cast<double>(actual_t);
  if (actual.shape() != expected.shape()) {
    BOOST_ERROR(what << ": shape " << ad::shape_str(actual.shape()) << ", PyTorch's " << ad::shape_str(expected.shape()));
    return;
  }
  double scale = 0;
  for (std::size_t i = 0; i < expected.numel(); ++i)
    if (std::isfinite(expected.data()[i])) scale = std::max(scale, std::abs(expected.data()[i]));
  for (std::size_t i = 0; i < expected.numel(); ++i) {
    const double a = actual.data()[i], e = expected.data()[i];
    if (a == e) continue;  // infinities too
    if (!(std::abs(a - e) <= tol * (std::abs(e) + (floor >= 0 ? floor : 1e-3 * scale)))) {
      BOOST_ERROR(what << ": element " << i << " is " << a << ", PyTorch's " << e << " (relative error "
                       << std::abs(a - e) / std::max(std::abs(e), 1e-300) << ", tolerance " << tol << ")");
      return;
    }
  }
}

Tensor64 scalar_of(double v) { return Tensor64::scalar(v); }

// ---- ops and losses: out = f(inputs); the gradients of Σ out·gout; the double backward where stored ----------------
void op_case(const std::string& name, const std::function<Tensor64(const V&)>& f) {
  auto& G = golden();
  G.checked.insert(name);
  V in, wrt;
  std::vector<std::size_t> wrt_index;
  for (std::size_t i = 0; G.has(name, "in" + std::to_string(i)); ++i) {
    Tensor64 t = G.get(name, "in" + std::to_string(i));
    if (G.has(name, "grad" + std::to_string(i))) {
      t.set_requires_grad(true);
      wrt.push_back(t);
      wrt_index.push_back(i);
    }
    in.push_back(t);
  }
  const bool double_backward = G.has(name, "v" + std::to_string(wrt_index.front()));
  const Tensor64 out = f(in);
  check_close(name + " forward", out, G.get(name, "out"), kTol64);
  const V grads = ad::grad(out, wrt, G.get(name, "gout"), true, double_backward);
  for (std::size_t k = 0; k < wrt.size(); ++k)
    check_close(name + " gradient of input " + std::to_string(wrt_index[k]), grads[k],
                G.get(name, "grad" + std::to_string(wrt_index[k])), kTol64);
  if (!double_backward) return;
  Tensor64 s = Tensor64::scalar(0.0);
  for (std::size_t k = 0; k < wrt.size(); ++k)
    if (grads[k].requires_grad()) s = ad::add(s, ad::sum(ad::mul(grads[k], G.get(name, "v" + std::to_string(wrt_index[k])))));
  const V gg = s.requires_grad() ? ad::grad(s, wrt) : V(wrt.size());
  for (std::size_t k = 0; k < wrt.size(); ++k)
    check_close(name + " double backward, input " + std::to_string(wrt_index[k]),
                gg[k].defined() ? gg[k] : Tensor64::zeros(wrt[k].shape()), G.get(name, "gg" + std::to_string(wrt_index[k])),
                kTol64);
}

// Copies named arrays into a module's tensors of the same names; every name must exist on both sides.
template <class T>
void assign(const std::string& what, const nn::Named<T>& targets, const std::map<std::string, Tensor64>& values) {
  BOOST_TEST_REQUIRE(targets.size() == values.size(), what << ": the model has " << targets.size() << ", PyTorch's case "
                                                             << values.size());
  for (const auto& [n, t] : targets) {
    const auto it = values.find(n);
    BOOST_TEST_REQUIRE((it != values.end()), what << ": PyTorch's case has no '" << n << "'");
    BOOST_TEST_REQUIRE((it->second.shape() == t.shape()), what << " '" << n << "': shape " << ad::shape_str(t.shape())
                                                               << ", PyTorch's " << ad::shape_str(it->second.shape()));
    ad::TensorT<T> target = t;
    for (std::size_t i = 0; i < t.numel(); ++i) target.data()[i] = static_cast<T>(it->second.data()[i]);
  }
}

// ---- layers (float64): parameters and buffers from PyTorch, forward on each stored batch, gradients, buffers --------
void layer_case(const std::string& name, nn::ModuleT<double>& layer) {
  auto& G = golden();
  G.checked.insert(name);
  assign(name + " parameters", layer.named_parameters(), G.under(name, "param/"));
  assign(name + " buffers", layer.named_buffers(), G.under(name, "buffer_before/"));
  std::size_t batches = 0;
  while (G.has(name, "in" + std::to_string(batches))) ++batches;
  for (std::size_t k = 0; k + 1 < batches; ++k) {
    ad::NoGradGuard no_grad;
    layer(G.get(name, "in" + std::to_string(k)));
  }
  Tensor64 x = G.get(name, "in" + std::to_string(batches - 1)).set_requires_grad(true);
  const Tensor64 out = layer(x);
  check_close(name + " forward", out, G.get(name, "out"), kTol64);
  V wrt{x};
  const auto params = layer.named_parameters();
  for (auto& [n, p] : params) wrt.push_back(p);
  const V grads = ad::grad(out, wrt, G.get(name, "gout"));
  check_close(name + " input gradient", grads[0], G.get(name, "grad_input"), kTol64);
  for (std::size_t i = 0; i < params.size(); ++i)
    check_close(name + " gradient of " + params[i].first, grads[i + 1], G.get(name, "grad/" + params[i].first), kTol64);
  for (auto& [n, b] : layer.named_buffers()) check_close(name + " buffer " + n, b, G.get(name, "buffer/" + n), kTol64);
}

// ---- optimizers (float64): two parameters, four steps with PyTorch's gradients -------------------------------------
void optimizer_case(const std::string& name,
                    const std::function<std::unique_ptr<nn::OptimizerT<double>>(nn::Named<double>)>& make) {
  auto& G = golden();
  G.checked.insert(name);
  nn::Named<double> params;
  for (int i = 0; i < 2; ++i)
    params.emplace_back("p" + std::to_string(i), G.get(name, "p" + std::to_string(i) + "/0").set_requires_grad(true));
  auto opt = make(params);
  for (int s = 1; G.has(name, "g0/" + std::to_string(s)); ++s) {
    const std::string step = "/" + std::to_string(s);
    for (int i = 0; i < 2; ++i) params[i].second.set_grad(G.get(name, "g" + std::to_string(i) + step));
    opt->step();
    for (int i = 0; i < 2; ++i)
      check_close(name + " p" + std::to_string(i) + " after step " + std::to_string(s), params[i].second,
                  G.get(name, "p" + std::to_string(i) + step), kTol64);
  }
}

// ---- autoencoder objectives (float32): PyTorch's weights, the loss, every parameter's gradient -------------------
std::vector<ad::Tensor> objective_case(const std::string& name, ae::AutoencoderModel& model,
                                       const std::function<ad::Tensor(const std::vector<ad::Tensor>&)>& loss) {
  auto& G = golden();
  G.checked.insert(name);
  assign(name + " parameters", model.named_parameters(), G.under(name, "param/"));
  std::vector<ad::Tensor> in;
  for (std::size_t i = 0; G.has(name, "in" + std::to_string(i)); ++i) in.push_back(ad::cast<float>(G.get(name, "in" + std::to_string(i))));
  const ad::Tensor out = loss(in);
  check_close(name + " objective", out, G.get(name, "out"), kTol32);
  const auto params = model.named_parameters();
  std::vector<ad::Tensor> wrt;
  for (auto& [n, p] : params) wrt.push_back(p);
  const auto grads = ad::grad(out, wrt);
  // float32 gradients are compared with 10% of the case's largest gradient as a floor: a gradient that is zero
  // in exact arithmetic (a convolution's bias before BatchNorm) is rounding noise on both sides
  double largest = 0;
  for (auto& [n, g] : G.under(name, "grad/"))
    for (std::size_t i = 0; i < g.numel(); ++i) largest = std::max(largest, std::abs(g.data()[i]));
  for (std::size_t i = 0; i < params.size(); ++i)
    check_close(name + " gradient of " + params[i].first, grads[i], G.get(name, "grad/" + params[i].first), kTol32,
                0.1 * largest);
  return in;
}


using ae::Activation;
using nn::Reduction;

}  // namespace

// ================================================================================================================
BOOST_AUTO_TEST_CASE(ops_match_pytorch) {
  auto binary = [](auto f) { return [f](const V& x) { return f(x[0], x[1]); }; };
  for (std::string shape : {"3x1_1x4", "2x3x4_3x1", "scalar_2x3"}) {
    op_case("add_" + shape, binary([](auto a, auto b) { return ad::add(a, b); }));
    op_case("sub_" + shape, binary([](auto a, auto b) { return ad::sub(a, b); }));
    op_case("mul_" + shape, binary([](auto a, auto b) { return ad::mul(a, b); }));
  }
  op_case("div_3x1_1x4", binary([](auto a, auto b) { return ad::div(a, b); }));
  op_case("div_5x4_4", binary([](auto a, auto b) { return ad::div(a, b); }));
  op_case("add_scalar", [](const V& x) { return ad::add(x[0], 0.7); });
  op_case("mul_scalar", [](const V& x) { return ad::mul(x[0], -1.3); });
  op_case("rsub_scalar", [](const V& x) { return ad::rsub(2.0, x[0]); });
  op_case("neg", [](const V& x) { return ad::neg(x[0]); });
  op_case("pow_3", [](const V& x) { return ad::pow(x[0], 3.0); });
  op_case("pow_half", [](const V& x) { return ad::pow(x[0], 0.5); });
  op_case("pow_minus_1_5", [](const V& x) { return ad::pow(x[0], -1.5); });
  op_case("exp", [](const V& x) { return ad::exp(x[0]); });
  op_case("log", [](const V& x) { return ad::log(x[0]); });
  op_case("sqrt", [](const V& x) { return ad::sqrt(x[0]); });
  op_case("abs_with_zeros", [](const V& x) { return ad::abs(x[0]); });
  op_case("square", [](const V& x) { return ad::square(x[0]); });
  op_case("clamp_with_bounds", [](const V& x) { return ad::clamp(x[0], -0.5, 0.5); });
  op_case("sigmoid_extremes", [](const V& x) { return ad::sigmoid(x[0]); });
  op_case("tanh_extremes", [](const V& x) { return ad::tanh(x[0]); });
  op_case("softplus_extremes", [](const V& x) { return ad::softplus(x[0]); });
  op_case("relu_with_zeros", [](const V& x) { return ad::relu(x[0]); });
  op_case("leaky_relu_0_2_with_zeros", [](const V& x) { return ad::leaky_relu(x[0], 0.2); });
  op_case("masked_mul", binary([](auto a, auto m) { return ad::masked_mul(a, m); }));
  op_case("masked_mul_broadcast", binary([](auto a, auto m) { return ad::masked_mul(a, m); }));
  op_case("where", [](const V& x) { return ad::where(x[0], x[1], x[2]); });
}

BOOST_AUTO_TEST_CASE(products_and_shapes_match_pytorch) {
  op_case("matmul", [](const V& x) { return ad::matmul(x[0], x[1]); });
  op_case("matmul_ta", [](const V& x) { return ad::matmul(x[0], x[1], true, false); });
  op_case("matmul_tb", [](const V& x) { return ad::matmul(x[0], x[1], false, true); });
  op_case("matmul_ta_tb", [](const V& x) { return ad::matmul(x[0], x[1], true, true); });
  op_case("linear", [](const V& x) { return ad::linear(x[0], x[1], x[2]); });
  op_case("transpose", [](const V& x) { return ad::transpose(x[0]); });
  op_case("permute_2_0_1", [](const V& x) { return ad::permute(x[0], {2, 0, 1}); });
  op_case("reshape_6x4", [](const V& x) { return ad::reshape(x[0], {6, 4}); });
  op_case("flatten_1", [](const V& x) { return ad::flatten(x[0], 1); });
  op_case("broadcast_to_2x3x4", [](const V& x) { return ad::broadcast_to(x[0], {2, 3, 4}); });
  op_case("sum_to_3x1", [](const V& x) { return ad::sum_to(x[0], {3, 1}); });
  op_case("index_select_2_0_2_1", [](const V& x) { return ad::index_select(x[0], {2, 0, 2, 1}); });
  op_case("index_add_5x4", [](const V& x) { return ad::index_add({5, 4}, {4, 0, 4}, x[0]); });
  op_case("slice_axis1_1_3", [](const V& x) { return ad::slice(x[0], 1, 1, 3); });
  op_case("unslice_axis1_2", [](const V& x) { return ad::unslice(x[0], {3, 5}, 1, 2); });
  op_case("concat_axis1", [](const V& x) { return ad::concat<double>({x[0], x[1]}, 1); });
}

BOOST_AUTO_TEST_CASE(reductions_match_pytorch) {
  op_case("sum_all", [](const V& x) { return ad::sum(x[0]); });
  op_case("sum_axes_0_2", [](const V& x) { return ad::sum(x[0], {0, 2}); });
  op_case("sum_axes_0_2_keepdim", [](const V& x) { return ad::sum(x[0], {0, 2}, true); });
  op_case("mean_all", [](const V& x) { return ad::mean(x[0]); });
  op_case("mean_axis_1_keepdim", [](const V& x) { return ad::mean(x[0], {1}, true); });
  op_case("max_all_ties", [](const V& x) { return ad::max(x[0]); });
  op_case("max_axis_1_ties", [](const V& x) { return ad::max(x[0], {1}); });
  op_case("max_axis_0_keepdim", [](const V& x) { return ad::max(x[0], {0}, true); });
  op_case("log_softmax_axis1", [](const V& x) { return ad::log_softmax(x[0], 1); });
  op_case("softmax_axis0", [](const V& x) { return ad::softmax(x[0], 0); });
  // an empty list of axes is refused: numpy reduces over none, PyTorch over all
  const Tensor64 a = uniform({2, 3}, 1);
  CHECK_THROWS_WITH(ad::max(a, {}), "max", "empty list of axes", "[2,3]");
  CHECK_THROWS_WITH(ad::sum(a, {}), "sum", "empty list of axes");
  CHECK_THROWS_WITH(ad::mean(a, {}, true), "mean", "empty list of axes");
  BOOST_TEST(ad::max(Tensor64::scalar(2.5)).item() == 2.5);  // a 0-d tensor has no axes to name
}

BOOST_AUTO_TEST_CASE(fused_and_special_ops_match_pytorch) {
  op_case("relu_grad", [](const V& x) { return ad::relu_grad(x[0], x[1]); });
  op_case("leaky_relu_grad_0_2", [](const V& x) { return ad::leaky_relu_grad(x[0], x[1], 0.2); });
  op_case("sigmoid_grad", [](const V& x) { return ad::sigmoid_grad(x[0], x[1]); });
  op_case("tanh_grad", [](const V& x) { return ad::tanh_grad(x[0], x[1]); });
  op_case("sum_squared_error", [](const V& x) { return ad::sum_squared_error(x[0], x[1]); });
  op_case("sum_bce_with_logits", [](const V& x) { return ad::sum_bce_with_logits(x[0], x[1]); });
  op_case("sum_binary_cross_entropy", [](const V& x) { return ad::sum_binary_cross_entropy(x[0], x[1]); });
  op_case("batch_norm_2d", [](const V& x) { return ad::batch_norm(x[0], x[1], x[2], 1e-5); });
  op_case("batch_norm_4d", [](const V& x) { return ad::batch_norm(x[0], x[1], x[2], 1e-3); });
  op_case("topk_mask_3", [](const V& x) { return ad::topk_mask(x[0], 3); });
  op_case("conv2d_s2_p1_bias", [](const V& x) { return ad::conv2d(x[0], x[1], x[2], kStride2Pad1); });
  op_case("conv2d_s1_p0_2x3", [](const V& x) { return ad::conv2d(x[0], x[1]); });
  op_case("conv_transpose2d_s2_p1_op1_bias", [](const V& x) { return ad::conv_transpose2d(x[0], x[1], x[2], kStride2Pad1, 1); });
  op_case("conv_transpose2d_s2_op_1_0", [](const V& x) { return ad::conv_transpose2d(x[0], x[1], ad::Conv2dOptions().stride(2).padding(0), 1, 0); });
  op_case("conv2d_weight_grad_s2_p1", [](const V& x) { return ad::conv2d_weight_grad(x[0], x[1], 3, 3, kStride2Pad1); });
}

BOOST_AUTO_TEST_CASE(losses_match_pytorch_for_each_reduction) {
  op_case("mse_loss_mean", [](const V& x) { return nn::mse_loss(x[0], x[1]); });
  op_case("mse_loss_sum", [](const V& x) { return nn::mse_loss(x[0], x[1], Reduction::Sum); });
  op_case("bce_loss_mean_saturated", [](const V& x) { return nn::bce_loss(x[0], x[1]); });
  op_case("bce_loss_sum_saturated", [](const V& x) { return nn::bce_loss(x[0], x[1], Reduction::Sum); });
  op_case("bce_loss_mean", [](const V& x) { return nn::bce_loss(x[0], x[1]); });
  op_case("bce_with_logits_loss_mean", [](const V& x) { return nn::bce_with_logits_loss(x[0], x[1]); });
  op_case("bce_with_logits_loss_sum", [](const V& x) { return nn::bce_with_logits_loss(x[0], x[1], Reduction::Sum); });
  op_case("cross_entropy_loss", [](const V& x) { return nn::cross_entropy_loss(x[0], {2, 0, 3, 3, 1}); });
  op_case("kl_normal_sum", [](const V& x) { return nn::kl_normal(x[0], x[1], Reduction::Sum); });
  op_case("kl_normal_mean", [](const V& x) { return nn::kl_normal(x[0], x[1], Reduction::Mean); });
  op_case("kl_sparsity_0_05", [](const V& x) { return nn::kl_sparsity(x[0], 0.05); });
  op_case("l1_activity", [](const V& x) { return nn::l1_activity(x[0]); });
}

BOOST_AUTO_TEST_CASE(layers_match_pytorch_in_train_and_eval_mode) {
  ad::Generator gen(1);
  auto shared_gen = std::make_shared<ad::Generator>(2);
  nn::LinearT<double> linear(5, 3, gen);
  layer_case("Linear", linear);
  nn::LinearT<double> linear_no_bias(5, 3, gen, false);
  layer_case("Linear_no_bias", linear_no_bias);
  nn::Conv2dT<double> conv(2, 3, 3, gen, nn::ConvOptions().stride(2).padding(1));
  layer_case("Conv2d_s2_p1", conv);
  nn::ConvTranspose2dT<double> convt(3, 2, 3, gen, nn::ConvOptions().stride(2).padding(1).output_padding(1));
  layer_case("ConvTranspose2d_s2_p1_op1", convt);
  nn::BatchNorm1dT<double> bn1(4);
  layer_case("BatchNorm1d_train_3_batches", bn1);
  nn::BatchNorm2dT<double> bn2(3, 1e-5, 0.3);
  layer_case("BatchNorm2d_train_2_batches", bn2);
  nn::BatchNorm1dT<double> bn1_eval(4);
  bn1_eval.eval();
  layer_case("BatchNorm1d_eval", bn1_eval);
  nn::BatchNorm2dT<double> bn2_eval(3);
  bn2_eval.eval();
  layer_case("BatchNorm2d_eval", bn2_eval);
  nn::ReLUT<double> relu;
  layer_case("ReLU", relu);
  nn::LeakyReLUT<double> leaky(0.2);
  layer_case("LeakyReLU_0_2", leaky);
  nn::SigmoidT<double> sigmoid;
  layer_case("Sigmoid", sigmoid);
  nn::TanhT<double> tanh_layer;
  layer_case("Tanh", tanh_layer);
  nn::SoftplusT<double> softplus;
  layer_case("Softplus", softplus);
  nn::FlattenT<double> flatten;
  layer_case("Flatten", flatten);
  nn::UnflattenT<double> unflatten({3, 4});
  layer_case("Unflatten_3x4", unflatten);
  nn::DropoutT<double> dropout(0.5, shared_gen);
  dropout.eval();
  layer_case("Dropout_eval", dropout);
}

BOOST_AUTO_TEST_CASE(optimizers_match_pytorch_for_each_option) {
  using Opt = std::unique_ptr<nn::OptimizerT<double>>;
  optimizer_case("SGD_lr", [](nn::Named<double> p) -> Opt { return std::make_unique<nn::SGDT<double>>(p, 0.1); });
  optimizer_case("SGD_momentum", [](nn::Named<double> p) -> Opt { return std::make_unique<nn::SGDT<double>>(p, 0.1, 0.9); });
  optimizer_case("SGD_weight_decay",
                 [](nn::Named<double> p) -> Opt { return std::make_unique<nn::SGDT<double>>(p, 0.1, 0.0, 0.05); });
  optimizer_case("SGD_momentum_weight_decay",
                 [](nn::Named<double> p) -> Opt { return std::make_unique<nn::SGDT<double>>(p, 0.05, 0.5, 0.1); });
  optimizer_case("Adam_default", [](nn::Named<double> p) -> Opt { return std::make_unique<nn::AdamT<double>>(p); });
  optimizer_case("Adam_lr_betas_eps",
                 [](nn::Named<double> p) -> Opt { return std::make_unique<nn::AdamT<double>>(p, 0.01, 0.8, 0.99, 1e-3); });
  optimizer_case("Adam_weight_decay",
                 [](nn::Named<double> p) -> Opt { return std::make_unique<nn::AdamT<double>>(p, 0.01, 0.9, 0.999, 1e-8, 0.1); });
  // StepLR: lr = 0.2 · 0.5^⌊epoch/3⌋, read after each epoch's step
  auto& G = golden();
  G.checked.insert("StepLR_3_0_5");
  nn::SGDT<double> sgd({{"w", Tensor64::zeros({1}, true)}}, 0.2);
  nn::StepLRT<double> schedule(sgd, 3, 0.5);
  const Tensor64 expected = G.get("StepLR_3_0_5", "lr");
  Tensor64 lrs = Tensor64::zeros(expected.shape());
  for (std::size_t e = 0; e < expected.numel(); ++e) {
    schedule.step();
    lrs.data()[e] = sgd.lr();
  }
  check_close("StepLR learning rates", lrs, expected, kTol64);
}

BOOST_AUTO_TEST_CASE(autoencoder_objectives_match_pytorch) {
  ad::Generator gen(3);
  using T = std::vector<ad::Tensor>;
  const auto sigmoid_code = ae::AutoencoderOptions().code(Activation::Sigmoid).output(Activation::Sigmoid);
  {
    ae::Autoencoder m(ae::AutoencoderOptions().sizes({12, 8, 4}).code(Activation::Identity).output(Activation::Sigmoid), gen);
    objective_case("ae_mse_deep", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  {
    ae::Autoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 5}).tied(true), gen);
    objective_case("ae_mse_tied", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  {
    // a sigmoid output with BCE, from the logits: saturated wrong pixels keep their gradient
    ae::Autoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 5}).loss(ae::Reconstruction::BCE), gen);
    objective_case("ae_bce_saturated", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  {
    ae::SparseAutoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 7}),
                            ae::SparsityOptions().penalty(ae::SparsityPenalty::KL).rho(0.05).beta(3.0), gen);
    objective_case("sparse_kl", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  {
    ae::SparseAutoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 7}).code(Activation::ReLU),
                            ae::SparsityOptions().penalty(ae::SparsityPenalty::L1).lambda(1e-2), gen);
    objective_case("sparse_l1", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  {
    ae::KSparseAutoencoder m(ae::KSparseOptions().input(12).hidden(10).k(3).alpha(2.0), gen);
    const T in = objective_case("k_sparse_k3_alpha2", m, [&](const T& in) { return m.loss(in[0]).total; });
    check_close("k-sparse reconstruction (k units)", m.reconstruct(in[0]), golden().get("k_sparse_k3_alpha2", "reconstruct"), kTol32);
    m.eval();
    check_close("k-sparse code when encoding (α·k units)", m.encode(in[0]), golden().get("k_sparse_k3_alpha2", "encode_eval"), kTol32);
  }
  {
    ae::DenoisingAutoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 6}), ae::DenoisingOptions(), gen);
    objective_case("denoising_masked", m, [&](const T& in) { return m.loss_on(in[0], in[1]).total; });
  }
  {
    ae::ContractiveAutoencoder m(ae::AutoencoderOptions(sigmoid_code).sizes({12, 5}), ae::ContractiveOptions().lambda(0.1), gen);
    const T in = objective_case("contractive_closed_form", m, [&](const T& in) { return m.loss(in[0]).total; });
    const Tensor64 jf = golden().get("contractive_closed_form", "jacobian_norm_sq");
    check_close("‖J‖²_F, closed form", m.jacobian_norm_sq(in[0], ae::JacobianMode::ClosedForm), jf, kTol32);
    check_close("‖J‖²_F, exact (double backward)", m.jacobian_norm_sq(in[0], ae::JacobianMode::Exact), jf, kTol32);
  }
  {
    ae::StackedAutoencoder m(ae::StackedOptions()
                                 .sizes({12, 8, 4})
                                 .hidden(Activation::Sigmoid)
                                 .code(Activation::Identity)
                                 .output(Activation::Sigmoid),
                             gen);
    objective_case("stacked_layer1", m, [&](const T& in) { return m.layer_loss(1, in[0]).total; });
    objective_case("stacked_deep", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
  for (const bool bernoulli : {true, false}) {
    ae::VariationalAutoencoder m(ae::VAEOptions()
                                     .input(12)
                                     .hidden({7})
                                     .latent(3)
                                     .likelihood(bernoulli ? ae::Reconstruction::BCE : ae::Reconstruction::MSE)
                                     .beta(bernoulli ? 1.0 : 4.0),
                                 gen);
    const std::string name = bernoulli ? "vae_bernoulli" : "vae_gaussian_beta_4";
    ae::Loss l;
    objective_case(name, m, [&](const T& in) {
      l = m.loss(in[0], in[1]);  // the stored ε
      return l.total;
    });
    check_close(name + " reconstruction term", scalar_of(l.term("reconstruction")), golden().get(name, "reconstruction"), kTol32);
    check_close(name + " KL term", scalar_of(l.term("kl")), golden().get(name, "kl"), kTol32);
  }
  {
    ae::ConvAutoencoder m(ae::ConvOptions().image(8).channels({2, 3}).code(3), gen);
    m.train();
    objective_case("conv_ae_train", m, [&](const T& in) { return m.loss(in[0]).total; });
  }
}

// A PyTorch state_dict saved with numpy (torch_reference.py's models) loads into the C++ model through a name map
// and gives PyTorch's outputs; saved back with the same map, it has the state_dict's names, shapes and values.
// The other way: C++ models of their own are saved with the map, with their outputs, into PARITY_OUT, where
// tests/parity/check_torch_load.py (CTest's parity_torch_load, where python3-torch is installed) loads them into
// the PyTorch models with strict=True and compares the outputs.
BOOST_AUTO_TEST_CASE(pytorch_state_dicts_load_and_save_back) {
  const std::filesystem::path tmp = PARITY_OUT;
  std::filesystem::create_directories(tmp);
  auto round_trip = [&](ae::AutoencoderModel& model, const std::string& file, const nn::NameMap& names,
                        const std::string& name) {
    auto& G = golden();
    G.checked.insert(name);
    nn::load(model, kDir + "/" + file, names);
    model.eval();
    ad::NoGradGuard no_grad;
    check_close(name + " output", model.reconstruct(ad::cast<float>(G.get(name, "in0"))), G.get(name, "out"), kTol32);
    const std::string back = (tmp / file).string();
    nn::save(model, back, names);
    const auto theirs = nn::load_npz<double>(kDir + "/" + file), ours = nn::load_npz<double>(back);
    BOOST_TEST_REQUIRE(ours.size() == theirs.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
      BOOST_TEST(ours[i].first == theirs[i].first);  // the state_dict's names, in its order
      check_close(name + " saved " + ours[i].first, ours[i].second, theirs[i].second, 0.0);
    }
  };
  const nn::NameMap conv_names{{"enc.", "encoder."}, {"dec.", "decoder."}};
  const nn::NameMap vae_names{{"fc1.", "encoder.0."}, {"fc21.", "mu."}, {"fc22.", "logvar."}, {"fc3.", "decoder.0."},
                              {"fc4.", "decoder.2."}};
  ad::Generator gen(4);
  ae::ConvAutoencoder conv(ae::ConvOptions(), gen);  // the reference ConvAE, layer for layer
  round_trip(conv, "torch_conv_ae.npz", conv_names, "state_dict_conv_ae");
  const auto narrow = ae::VAEOptions().hidden({16}).latent(4);  // the reference VAE's layers, 784-16-(4, 4)-16-784
  ad::Generator vae_gen(5);
  ae::VariationalAutoencoder vae(narrow, vae_gen);
  round_trip(vae, "torch_vae_small.npz", vae_names, "state_dict_vae_small");

  // C++ models of their own, for PyTorch to load: one training batch moves BatchNorm's statistics first
  auto export_for_torch = [&](ae::AutoencoderModel& model, const std::string& stem, const nn::NameMap& names) {
    ad::Generator data(6);
    model.train();
    model.loss(ad::rand_uniform<float>({8, 784}, data));
    model.eval();
    ad::NoGradGuard no_grad;
    const ad::Tensor x = ad::rand_uniform<float>({3, 784}, data);
    nn::save(model, (tmp / (stem + ".npz")).string(), names);
    nn::save_npz<float>((tmp / (stem + "_io.npz")).string(), {{"in", x}, {"out", model.reconstruct(x)}});
    BOOST_TEST(std::filesystem::exists(tmp / (stem + ".npz")));
  };
  ad::Generator own(7);
  ae::ConvAutoencoder cpp_conv(ae::ConvOptions(), own);
  export_for_torch(cpp_conv, "cpp_conv_ae", conv_names);
  ae::VariationalAutoencoder cpp_vae(narrow, own);
  export_for_torch(cpp_vae, "cpp_vae_small", vae_names);
}

// Every case PyTorch computed was checked here, and nothing here lacks PyTorch's values.
BOOST_AUTO_TEST_CASE(every_golden_case_is_checked) {
  auto& G = golden();
  for (const auto& c : G.cases) BOOST_CHECK_MESSAGE(G.checked.count(c), "golden case '" << c << "' has no check in test_parity.cpp");
  for (const auto& c : G.checked) BOOST_CHECK_MESSAGE(G.cases.count(c), "case '" << c << "' is not in golden.npz");
  BOOST_TEST(G.cases.size() >= 120u);
}
