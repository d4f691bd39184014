// Each variant's defining property, on small real MNIST subsets where a property needs data.
#define BOOST_TEST_MODULE autoencoders
#include <cmath>

#include "autodiff/parallel.hpp"
#include "autoencoders/anomaly.hpp"
#include "autoencoders/autoencoder.hpp"
#include "autoencoders/contractive.hpp"
#include "autoencoders/convolutional.hpp"
#include "autoencoders/denoising.hpp"
#include "autoencoders/imputation.hpp"
#include "autoencoders/k_sparse.hpp"
#include "autoencoders/knn.hpp"
#include "autoencoders/pca.hpp"
#include "autoencoders/probe.hpp"
#include "autoencoders/sparse.hpp"
#include "autoencoders/stacked.hpp"
#include "autoencoders/trainer.hpp"
#include "autoencoders/variational.hpp"
#include "helpers.hpp"
#include "nn/losses.hpp"

using namespace test;
using ad::Tensor;
using V = std::vector<Tensor64>;

namespace {
const nn::Dataset& mnist_train() {
  static const nn::Dataset d = nn::load_mnist(nn::default_data_dir(), nn::Split::Train, 5000);
  return d;
}
const nn::Dataset& mnist_test() {
  static const nn::Dataset d = nn::load_mnist(nn::default_data_dir(), nn::Split::Test, 1000);
  return d;
}
std::vector<ae::EpochStats> train(ae::AutoencoderModel& m, const Tensor& data, std::size_t epochs, double lr,
                                  std::uint64_t seed, std::size_t batch = 64) {
  ad::Generator gen(seed);
  nn::DataLoader loader(data, {}, batch, gen);
  nn::Adam adam(m.named_parameters(), lr);
  return ae::fit(m, loader, adam, epochs);
}
double test_mse(ae::AutoencoderModel& m, const Tensor& x) {
  m.eval();
  const Tensor r = ae::map_batches(x, [&](const Tensor& b) { return m.reconstruct(b); });
  m.train();
  return ae::mean_squared_error(r, x);
}
}  // namespace

BOOST_AUTO_TEST_CASE(linear_autoencoder_spans_the_pca_subspace) {
  // "Si activaciones lineales y L error cuadrático medio → f(x) describe el mismo subespacio que PCA" (slides 004).
  // PCA centres the data; the autoencoder gets the same centred digits. SGD with momentum follows the curvature of
  // this near-quadratic problem (Adam's per-coordinate scaling crawls along the small eigenvalue gaps).
  const std::size_t m = 16;
  Tensor x = nn::load_mnist(nn::default_data_dir(), nn::Split::Train, 10000).images;
  ae::PCA pca;
  pca.fit(x);
  x = ad::sub(x, pca.mean());
  ad::Generator gen(1);
  ae::Autoencoder linear(ae::AutoencoderOptions()
                             .sizes({784, m})
                             .code(ae::Activation::Identity)
                             .output(ae::Activation::Identity),
                         gen);
  ad::Generator order(2);
  nn::DataLoader loader(x, {}, 100, order);
  nn::SGD sgd(linear.named_parameters(), 10.0, 0.9);
  const std::size_t epochs = 40;
  nn::WarmupDecayLR schedule(sgd, 300, epochs * loader.num_batches());
  ae::fit(linear, loader, sgd, epochs, {[&](std::size_t, std::size_t, std::size_t, double) { schedule.step(); }, nullptr});
  // decoder columns W2 [784, m] against the top-m principal axes
  const auto angles = ae::principal_angles_degrees(linear.decoder_filters(), ad::transpose(pca.components(m)));
  const double ae_mse = ae::mean_squared_error(linear.reconstruct(x), x);
  const double pca_mse = ae::mean_squared_error(ad::add(pca.reconstruct(ad::add(x, pca.mean()), m), ad::neg(pca.mean())), x);
  BOOST_TEST_MESSAGE("linear AE M=" << m << ": largest principal angle " << angles.back() << " deg, MSE " << ae_mse
                                    << " vs PCA " << pca_mse);
  BOOST_TEST(angles.back() < 2.0);
  BOOST_TEST(ae_mse / pca_mse < 1.01);
  BOOST_TEST(ae_mse / pca_mse > 0.9999);  // PCA is optimal among linear maps
}

BOOST_AUTO_TEST_CASE(pca_by_hand) {
  // points on the line y = 2x plus a little noise along (−2, 1): the first axis is (1, 2)/√5
  Tensor pts = Tensor::zeros({5, 2});
  const float t[5] = {-2, -1, 0, 1, 2}, e[5] = {0.1f, -0.2f, 0.0f, 0.2f, -0.1f};  // Σ t·e = 0: e is uncorrelated with t
  for (int i = 0; i < 5; ++i) {
    pts.data()[2 * i] = t[i] - 2 * e[i] + 3;
    pts.data()[2 * i + 1] = 2 * t[i] + e[i] - 1;
  }
  ae::PCA pca;
  pca.fit(pts);
  const Tensor c = pca.components(1);
  BOOST_TEST(std::abs(c.value()(0, 0) - 1 / std::sqrt(5.0f)) < 1e-5);
  BOOST_TEST(std::abs(c.value()(0, 1) - 2 / std::sqrt(5.0f)) < 1e-5);
  BOOST_TEST(std::abs(pca.mean().value()(0) - 3.0f) < 1e-5);
  BOOST_TEST(pca.explained_variance_ratio(1) > 0.99);
  BOOST_TEST(ae::mean_squared_error(pca.reconstruct(pts, 2), pts) < 1e-10);
  CHECK_THROWS_WITH(pca.transform(pts, 3), "PCA::transform", "3 components");
}

// The spectrum with the unbiased covariance (N − 1), and principal angles between known subspaces.
BOOST_AUTO_TEST_CASE(pca_spectrum_and_principal_angles_by_hand) {
  // (±3, 0), (0, ±1): covariance diag(18, 2)/3
  ae::PCA pca;
  pca.fit(Tensor::from_vector({3, 0, -3, 0, 0, 1, 0, -1}, {4, 2}));
  BOOST_TEST(std::abs(pca.explained_variance()[0] - 6.0) < 1e-6);
  BOOST_TEST(std::abs(pca.explained_variance()[1] - 2.0 / 3.0) < 1e-6);
  BOOST_TEST(std::abs(pca.explained_variance_ratio(1) - 0.9) < 1e-6);
  // span(e1, e2) against span(cos 30° e1 + sin 30° e3) and span(e2): 30° and 0°
  const float c = std::cos(30.0f * 3.14159265f / 180), s = std::sin(30.0f * 3.14159265f / 180);
  const Tensor a = Tensor::from_vector({1, 0, 0, 1, 0, 0}, {3, 2});
  const auto tilted = ae::principal_angles_degrees(a, Tensor::from_vector({c, 0, s}, {3, 1}));
  BOOST_TEST_REQUIRE(tilted.size() == 1u);
  BOOST_TEST(std::abs(tilted[0] - 30.0) < 1e-3);
  BOOST_TEST(std::abs(ae::principal_angles_degrees(a, Tensor::from_vector({0, 1, 0}, {3, 1}))[0]) < 1e-3);
  const auto both = ae::principal_angles_degrees(a, Tensor::from_vector({0, c, 1, 0, 0, s}, {3, 2}));
  BOOST_TEST(std::abs(both.front() - 0.0) < 1e-3);  // ascending: e1 is shared, then 30°
  BOOST_TEST(std::abs(both.back() - 30.0) < 1e-3);
}

BOOST_AUTO_TEST_CASE(k_sparse_codes_have_exactly_k_nonzeros) {
  ad::Generator gen(3);
  ae::KSparseAutoencoder model(ae::KSparseOptions().input(784).hidden(200).k(10).alpha(3.0).k_start(40).schedule_epochs(4),
                               gen);
  const Tensor x = ad::slice(mnist_train().images, 0, 0, 1000);
  auto count = [](const Tensor& h) {
    std::vector<std::size_t> per_row(h.size(0), 0);
    for (std::size_t r = 0; r < h.size(0); ++r)
      for (std::size_t c = 0; c < h.size(1); ++c) per_row[r] += h.value()(r, c) != 0.0f;
    return per_row;
  };
  BOOST_TEST(model.k() == 40u);  // the schedule starts at k_start
  ad::Generator order(4);
  nn::DataLoader loader(x, {}, 100, order);
  nn::Adam adam(model.named_parameters(), 1e-3);
  ae::fit(model, loader, adam, 6, {nullptr, [&](const ae::EpochStats& s) { model.set_epoch(s.epoch + 1); }});
  BOOST_TEST(model.k() == 10u);  // lowered to k
  model.train();
  for (auto n : count(model.encode(ad::slice(x, 0, 0, 200)))) BOOST_TEST(n == 10u);
  model.eval();
  for (auto n : count(model.encode(ad::slice(x, 0, 0, 200)))) BOOST_TEST(n == 30u);  // α·k
  BOOST_TEST(model.named_parameters().size() == 3u);  // tied: W, encoder bias, decoder bias
  const double mse = test_mse(model, mnist_test().images);
  BOOST_TEST_MESSAGE("k-sparse k=10: test MSE " << mse);
  BOOST_TEST(mse < 0.05);
}

BOOST_AUTO_TEST_CASE(kl_penalty_drives_mean_activation_to_rho) {
  const double rho = 0.05;
  ad::Generator gen(5);
  const auto architecture = ae::AutoencoderOptions().sizes({784, 64}).code(ae::Activation::Sigmoid);
  ae::SparseAutoencoder sparse(architecture, ae::SparsityOptions().penalty(ae::SparsityPenalty::KL).rho(rho).beta(3.0), gen);
  ad::Generator gen2(5);
  ae::Autoencoder plain(architecture, gen2);
  train(sparse, mnist_train().images, 5, 3e-3, 6);
  train(plain, mnist_train().images, 5, 3e-3, 6);
  ad::NoGradGuard no_grad;
  const double sparse_mean = ad::mean(sparse.encode(mnist_test().images)).item();
  const double plain_mean = ad::mean(plain.encode(mnist_test().images)).item();
  BOOST_TEST_MESSAGE("mean hidden activation: KL-sparse " << sparse_mean << " (rho " << rho << "), plain " << plain_mean);
  // within a factor 2 of ρ (measured 0.065), and far below the plain model's (measured 0.82)
  BOOST_TEST((sparse_mean > 0.5 * rho && sparse_mean < 2 * rho));
  BOOST_TEST(plain_mean > 4 * sparse_mean);
}

BOOST_AUTO_TEST_CASE(l1_penalty_lowers_activity) {
  ad::Generator gen(7);
  const auto architecture = ae::AutoencoderOptions().sizes({784, 64}).code(ae::Activation::ReLU);
  ae::SparseAutoencoder sparse(architecture, ae::SparsityOptions().penalty(ae::SparsityPenalty::L1).lambda(1e-4), gen);
  ad::Generator gen2(7);
  ae::Autoencoder plain(architecture, gen2);
  train(sparse, mnist_train().images, 3, 3e-3, 8);
  train(plain, mnist_train().images, 3, 3e-3, 8);
  ad::NoGradGuard no_grad;
  const double sparse_l1 = nn::l1_activity(sparse.encode(mnist_test().images)).item();
  const double plain_l1 = nn::l1_activity(plain.encode(mnist_test().images)).item();
  BOOST_TEST_MESSAGE("L1 activity per image: L1-sparse " << sparse_l1 << ", plain " << plain_l1);
  BOOST_TEST(sparse_l1 < 0.5 * plain_l1);
  BOOST_TEST(sparse_l1 > 0.0);  // not every unit dead
  const double mse = test_mse(sparse, mnist_test().images);
  BOOST_TEST_MESSAGE("L1-sparse test MSE " << mse);
  BOOST_TEST(mse < 0.04);  // still reconstructs (the mean image scores about 0.067)
}

BOOST_AUTO_TEST_CASE(denoising_beats_plain_on_noisy_inputs) {
  ad::Generator g1(9), g2(9);
  const auto architecture = ae::AutoencoderOptions().sizes({784, 128});
  ae::DenoisingAutoencoder dae(architecture, ae::DenoisingOptions().corruption(ae::Corruption::Gaussian).level(0.5), g1);
  ae::Autoencoder plain(architecture, g2);
  train(dae, mnist_train().images, 5, 2e-3, 10);
  train(plain, mnist_train().images, 5, 2e-3, 10);
  ad::Generator noise(11);
  const Tensor clean = mnist_test().images;
  const Tensor noisy = ae::corrupt(clean, ae::Corruption::Gaussian, 0.5, noise);
  dae.eval();
  plain.eval();
  ad::NoGradGuard no_grad;
  const double dae_mse = ae::mean_squared_error(dae.reconstruct(noisy), clean), plain_mse = ae::mean_squared_error(plain.reconstruct(noisy), clean);
  const double noisy_mse = ae::mean_squared_error(noisy, clean);
  BOOST_TEST_MESSAGE("MSE to the clean images: noisy input " << noisy_mse << ", plain AE " << plain_mse << ", DAE " << dae_mse);
  BOOST_TEST(dae_mse < 0.95 * plain_mse);
  BOOST_TEST(dae_mse < 0.5 * noisy_mse);
}

BOOST_AUTO_TEST_CASE(corruptions_do_what_they_say) {
  ad::Generator gen(12);
  const Tensor x = Tensor::full({100, 100}, 0.5f);
  const Tensor masked = ae::corrupt(x, ae::Corruption::Masking, 0.3, gen);
  const Tensor sp = ae::corrupt(x, ae::Corruption::SaltAndPepper, 0.2, gen);
  const Tensor gauss = ae::corrupt(x, ae::Corruption::Gaussian, 0.1, gen);
  double zeros = 0, salt = 0, pepper = 0;
  for (std::size_t i = 0; i < x.numel(); ++i) {
    zeros += masked.data()[i] == 0.0f;
    salt += sp.data()[i] == 1.0f;
    pepper += sp.data()[i] == 0.0f;
  }
  BOOST_TEST(std::abs(zeros / 1e4 - 0.3) < 0.02);
  BOOST_TEST(std::abs(salt / 1e4 - 0.1) < 0.015);
  BOOST_TEST(std::abs(pepper / 1e4 - 0.1) < 0.015);
  BOOST_TEST(std::abs(std::sqrt(ae::mean_squared_error(gauss, x)) - 0.1) < 0.005);
  // only in training
  ad::Generator g(13);
  ae::DenoisingAutoencoder dae(ae::AutoencoderOptions().sizes({784, 16}),
                               ae::DenoisingOptions().corruption(ae::Corruption::Masking).level(0.5), g);
  dae.eval();
  const double a = dae.loss(ad::slice(mnist_test().images, 0, 0, 10)).total.item();
  const double b = dae.loss(ad::slice(mnist_test().images, 0, 0, 10)).total.item();
  BOOST_TEST(a == b);
}

// Gaussian corruption stays in the pixels' range: on black images E[clip(σε, 0, 1)²] = σ²/2 minus a tiny tail.
BOOST_AUTO_TEST_CASE(gaussian_corruption_is_clipped_to_pixels) {
  ad::Generator gen(21);
  const Tensor black = Tensor::zeros({200, 100});
  const Tensor noisy = ae::corrupt(black, ae::Corruption::Gaussian, 0.5, gen);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < noisy.numel(); ++i) outside += noisy.data()[i] < 0.0f || noisy.data()[i] > 1.0f;
  BOOST_TEST(outside == 0u);
  BOOST_TEST(std::abs(ae::mean_squared_error(noisy, black) - 0.12) < 0.006);  // 0.125 − the tail above 1
}

BOOST_AUTO_TEST_CASE(contractive_closed_form_equals_autodiff_equals_finite_differences) {
  // A one-layer sigmoid encoder in float64: ‖J‖²_F three ways.
  const Tensor64 x = uniform({3, 6}, 14, 0, 1), w = uniform({4, 6}, 15), b = uniform({4}, 16);
  const double closed = ae::contractive_penalty_closed_form(x, w, b).item();
  auto enc = [&](const Tensor64& in) { return ad::sigmoid(ad::add(ad::matmul(in, w, false, true), b)); };
  const double exact = ae::jacobian_penalty<double>(enc, x, ae::JacobianMode::Exact).item();
  // finite differences of h w.r.t. every input pixel, sample by sample
  double fd = 0;
  const double eps = 1e-6;
  for (std::size_t n = 0; n < 3; ++n)
    for (std::size_t j = 0; j < 6; ++j) {
      Tensor64 xp = x.detach(), xm = x.detach();
      xp.value()(n, j) += eps;
      xm.value()(n, j) -= eps;
      const Tensor64 hp = enc(xp), hm = enc(xm);
      for (std::size_t i = 0; i < 4; ++i) {
        const double d = (hp.value()(n, i) - hm.value()(n, i)) / (2 * eps);
        fd += d * d;
      }
    }
  fd /= 3;
  BOOST_TEST_MESSAGE("||J||_F^2: closed form " << closed << ", autodiff " << exact << ", finite differences " << fd);
  BOOST_TEST(std::abs(closed - exact) < 1e-12 * std::abs(closed));
  BOOST_TEST(std::abs(closed - fd) < 1e-7 * std::abs(closed));
  // Hutchinson is unbiased: the mean of many projections approaches the exact value
  ad::Generator gen(17);
  const double hutch = ae::jacobian_penalty<double>(enc, x, ae::JacobianMode::Hutchinson, 4000, &gen).item();
  BOOST_TEST(std::abs(hutch - exact) < 0.05 * exact);
}

// The contractive autoencoder's closed-form term takes the code its forward pass computed: it equals the penalty
// computed from the input (λ = 1, so the recorded term is the penalty itself), and its gradient is the one the
// recomputed penalty gives (the reconstruction's part being the same in both).
BOOST_AUTO_TEST_CASE(contractive_term_from_the_forward_code_is_the_closed_form_of_the_input) {
  ad::Generator g(31);
  ae::ContractiveAutoencoder cae(ae::AutoencoderOptions().sizes({784, 32}).code(ae::Activation::Sigmoid),
                                 ae::ContractiveOptions().lambda(1.0), g);
  const Tensor x = ad::slice(mnist_test().images, 0, 0, 50);
  auto& layer = *cae.encoder_linear[0];
  const double recorded = cae.loss(x).term("contractive");
  const double from_input = ae::contractive_penalty_closed_form(x, layer.weight, layer.bias).item();
  const double from_code = ae::contractive_penalty_from_code(cae.encode(x), layer.weight).item();
  BOOST_TEST(std::abs(recorded - from_input) < 1e-5 * from_input);
  BOOST_TEST(from_code == recorded);
  // the gradient of the whole loss in W against the reconstruction's + the penalty's from the input
  cae.zero_grad();
  cae.loss(x).total.backward();
  const Tensor got = layer.weight.grad().detach();
  cae.zero_grad();
  const Tensor h = cae.encode(x);
  ad::add(nn::mse_loss(cae.decode(h), x), ae::contractive_penalty_closed_form(x, layer.weight, layer.bias)).backward();
  const Tensor want = layer.weight.grad();
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < got.numel(); ++i) {
    diff = std::max(diff, static_cast<double>(std::abs(got.data()[i] - want.data()[i])));
    scale = std::max(scale, static_cast<double>(std::abs(want.data()[i])));
  }
  BOOST_TEST(diff < 1e-4 * scale);
}

BOOST_AUTO_TEST_CASE(gradcheck_penalty_terms) {
  const Tensor64 x = uniform({3, 5}, 18, 0, 1), w = uniform({4, 5}, 19), b = uniform({4}, 20);
  CHECK_GRADCHECK([](const V& in) { return ae::contractive_penalty_closed_form(in[0], in[1], in[2]); }, x, w, b);
  // the autodiff path is differentiable in the encoder's parameters (double backward), and in x
  CHECK_GRADCHECK(
      [](const V& in) {
        auto enc = [&](const Tensor64& v) { return ad::tanh(ad::add(ad::matmul(v, in[1], false, true), in[2])); };
        return ae::jacobian_penalty<double>(enc, in[0], ae::JacobianMode::Exact);
      },
      x, w, b);
  CHECK_GRADCHECK(
      [](const V& in) {
        ad::Generator gen(21);  // the same projections at every evaluation
        auto enc = [&](const Tensor64& v) { return ad::sigmoid(ad::add(ad::matmul(v, in[1], false, true), in[2])); };
        return ae::jacobian_penalty<double>(enc, in[0], ae::JacobianMode::Hutchinson, 3, &gen);
      },
      x, w, b);
  // a two-layer encoder through the exact path
  const Tensor64 w2 = uniform({3, 4}, 22);
  CHECK_GRADCHECK(
      [](const V& in) {
        auto enc = [&](const Tensor64& v) { return ad::sigmoid(ad::matmul(ad::softplus(ad::matmul(v, in[1], false, true)), in[2], false, true)); };
        return ae::jacobian_penalty<double>(enc, in[0], ae::JacobianMode::Exact);
      },
      x, w, w2);
}

BOOST_AUTO_TEST_CASE(contractive_training_lowers_the_jacobian_norm) {
  ad::Generator g1(23), g2(23);
  const auto architecture = ae::AutoencoderOptions().sizes({784, 64}).code(ae::Activation::Sigmoid);
  // λ is relative to the per-pixel MSE (≈ Rifai et al.'s λ / 784 for a per-image squared error)
  ae::ContractiveAutoencoder cae(architecture, ae::ContractiveOptions().lambda(1e-3).mode(ae::JacobianMode::ClosedForm), g1);
  ae::ContractiveAutoencoder plain(architecture, ae::ContractiveOptions().lambda(0.0), g2);
  train(cae, mnist_train().images, 4, 2e-3, 24);
  train(plain, mnist_train().images, 4, 2e-3, 24);
  const Tensor x = mnist_test().images;
  const double j_cae = cae.jacobian_norm_sq(x, ae::JacobianMode::ClosedForm).item();
  const double j_plain = plain.jacobian_norm_sq(x, ae::JacobianMode::ClosedForm).item();
  BOOST_TEST_MESSAGE("mean ||J||_F^2 on test digits: CAE " << j_cae << ", plain " << j_plain);
  BOOST_TEST(j_cae < 0.5 * j_plain);
  const double mse_cae = test_mse(cae, x), mse_plain = test_mse(plain, x);
  BOOST_TEST_MESSAGE("test MSE: CAE " << mse_cae << ", plain " << mse_plain);
  BOOST_TEST(mse_cae < 1.2 * mse_plain);  // contracts without giving up the reconstruction
  // the deep path agrees with the closed form on the trained model
  const Tensor few = ad::slice(x, 0, 0, 20);
  const double exact = cae.jacobian_norm_sq(few, ae::JacobianMode::Exact).item();
  const double closed = cae.jacobian_norm_sq(few, ae::JacobianMode::ClosedForm).item();
  BOOST_TEST(std::abs(exact - closed) < 1e-4 * closed);
  CHECK_THROWS_WITH(ae::ContractiveAutoencoder(ae::AutoencoderOptions().sizes({784, 64, 8}),
                                               ae::ContractiveOptions().mode(ae::JacobianMode::ClosedForm), g1),
                    "closed form", "one-layer sigmoid");
}

BOOST_AUTO_TEST_CASE(greedy_training_changes_only_the_current_layer) {
  ad::Generator gen(25);
  ae::StackedAutoencoder stack(ae::StackedOptions().sizes({784, 64, 32, 8}), gen);
  auto snapshot = [&] {
    std::vector<std::vector<float>> s;
    for (auto& [n, p] : stack.named_parameters()) s.emplace_back(p.data(), p.data() + p.numel());
    return s;
  };
  const auto names = stack.named_parameters();
  ad::Generator order(26);
  nn::DataLoader loader(ad::slice(mnist_train().images, 0, 0, 1000), {}, 100, order);
  std::vector<double> layer_losses;
  for (std::size_t layer = 0; layer < stack.depth(); ++layer) {
    const auto before = snapshot();
    const auto hist = stack.pretrain_layer(layer, loader, ae::PhaseOptions().epochs(2).lr(1e-3));
    const auto after = snapshot();
    for (std::size_t i = 0; i < names.size(); ++i) {
      const bool own = names[i].first.find("coder" + std::to_string(layer) + ".") != std::string::npos;
      BOOST_TEST_CONTEXT(names[i].first << " while training layer " << layer) { BOOST_TEST((before[i] != after[i]) == own); }
    }
    BOOST_TEST(hist.back().loss() < hist.front().loss() * 1.001);
    layer_losses.push_back(hist.back().loss());
  }
  // fine-tuning the unrolled stack end to end lowers the reconstruction error further
  const double before_ft = test_mse(stack, mnist_test().images);
  ad::Generator ft_order(27);
  nn::DataLoader ft_loader(mnist_train().images, {}, 64, ft_order);
  stack.fine_tune(ft_loader, ae::PhaseOptions().epochs(2).lr(1e-3));
  const double after_ft = test_mse(stack, mnist_test().images);
  BOOST_TEST_MESSAGE("greedy layer losses " << layer_losses[0] << ", " << layer_losses[1] << ", " << layer_losses[2]
                                            << "; deep AE test MSE before fine-tuning " << before_ft << ", after " << after_ft);
  BOOST_TEST(after_ft < before_ft);
  // the classifier shares the encoder's parameters
  ad::Generator g(28);
  auto clf = stack.classifier(10, g);
  BOOST_TEST(clf->named_parameters().size() == 2 * stack.depth() + 2);
  BOOST_TEST(clf->named_parameters()[0].second.node() == stack.encoders()[0]->weight.node());
  BOOST_TEST((*clf)(ad::slice(mnist_test().images, 0, 0, 5)).shape() == (ad::Shape{5, 10}));
}

// Backfitting: the softmax head trained alone with the shared fit() (the encoder stays as pretrained), then the
// whole encoder with it on the labels; the encoder's weights change only in the second phase.
BOOST_AUTO_TEST_CASE(backfitting_trains_the_head_then_the_encoder) {
  ad::Generator gen(70);
  ae::StackedAutoencoder stack(ae::StackedOptions().sizes({784, 64, 16}), gen);
  const Tensor x = ad::slice(mnist_train().images, 0, 0, 2000);
  const std::vector<std::size_t> y(mnist_train().labels.begin(), mnist_train().labels.begin() + 2000);
  ad::Generator order(71);
  nn::DataLoader unlabeled(x, {}, 100, order), labeled(x, y, 100, order);
  stack.pretrain(unlabeled, ae::PhaseOptions().epochs(3).lr(1e-2));
  auto clf = stack.classifier(10, gen);
  const auto encoder_weights = [&] { return stack.encoders()[0]->weight.detach(); };
  const Tensor pretrained = encoder_weights();
  auto accuracy = [&] {
    ad::NoGradGuard no_grad;
    clf->eval();
    const Tensor logits = (*clf)(mnist_test().images);
    std::size_t right = 0;
    for (std::size_t i = 0; i < logits.size(0); ++i) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < 10; ++k) best = logits.value()(i, k) > logits.value()(i, best) ? k : best;
      right += best == mnist_test().labels[i];
    }
    clf->train();
    return static_cast<double>(right) / static_cast<double>(logits.size(0));
  };
  // 1. the head alone, through the same fit() loop with a supervised objective
  nn::Adam head_only(clf->head->named_parameters(), 5e-2);
  const auto head_stats = ae::fit(*clf, labeled, head_only, 5, [&](const nn::Batch& b) { return clf->loss(b); });
  BOOST_TEST(ad::max(ad::abs(ad::sub(encoder_weights(), pretrained))).item() == 0.0f);  // encoder untouched
  BOOST_TEST(head_stats.back().term("cross_entropy") < head_stats.front().term("cross_entropy"));
  BOOST_TEST_MESSAGE("head cross-entropy " << head_stats.front().loss() << " -> " << head_stats.back().loss());
  const double head_accuracy = accuracy();
  // 2. backfitting: encoder and head together
  const auto stats = stack.backfit(*clf, labeled, ae::PhaseOptions().epochs(3).lr(3e-3));
  const double moved = ad::max(ad::abs(ad::sub(encoder_weights(), pretrained))).item();
  const double backfit_accuracy = accuracy();
  BOOST_TEST_MESSAGE("test accuracy: head only " << head_accuracy << ", after backfitting " << backfit_accuracy
                                                 << "; largest change of an encoder weight " << moved);
  BOOST_TEST(moved > 1e-3);
  BOOST_TEST(stats.back().loss() < stats.front().loss());
  // measured 0.46 with the head alone (chance is 0.1), then 0.69
  BOOST_TEST(head_accuracy > 0.3);
  BOOST_TEST(backfit_accuracy > head_accuracy + 0.15);
  CHECK_THROWS_WITH(stack.backfit(*clf, unlabeled, ae::PhaseOptions()), "0 labels", "DataLoader");
}

BOOST_AUTO_TEST_CASE(vae_kl_matches_monte_carlo_and_loss_decreases) {
  // closed-form KL(N(μ, σ²) ‖ N(0, 1)) against E_q[log q(z) − log p(z)] by sampling
  const Tensor64 mu = Tensor64::from_vector({0.5, -1.0, 0.0}, {1, 3});
  const Tensor64 logvar = Tensor64::from_vector({-0.5, 0.3, -1.2}, {1, 3});
  const double closed = nn::kl_normal(mu, logvar).item();
  ad::Generator gen(29);
  double mc = 0;
  const int samples = 200000;
  for (int s = 0; s < samples; ++s)
    for (std::size_t j = 0; j < 3; ++j) {
      const double m = mu.value()(0, j), sd = std::exp(0.5 * logvar.value()(0, j)), e = gen.normal();
      const double z = m + sd * e;
      mc += (-0.5 * e * e - std::log(sd)) - (-0.5 * z * z);  // log q(z) − log p(z), constants cancel
    }
  mc /= samples;
  BOOST_TEST_MESSAGE("KL closed form " << closed << ", Monte Carlo " << mc);
  BOOST_TEST(std::abs(closed - mc) < 0.01);

  ad::Generator g(30);
  ae::VariationalAutoencoder vae(ae::VAEOptions().hidden({256}).latent(8), g);
  const double before = vae.negative_elbo(mnist_test().images);
  const auto hist = train(vae, mnist_train().images, 4, 1e-3, 31, 128);
  const double after = vae.negative_elbo(mnist_test().images);
  BOOST_TEST_MESSAGE("VAE test -ELBO: " << before << " nats before, " << after << " after 4 epochs; train epoch losses "
                                        << hist.front().loss() << " -> " << hist.back().loss());
  BOOST_TEST(hist.back().loss() < hist.front().loss());
  BOOST_TEST(after < 0.5 * before);
  BOOST_TEST(after < 200.0);
  BOOST_TEST(vae.sample(6).shape() == (ad::Shape{6, 784}));
  BOOST_TEST(vae.interpolate(ad::slice(mnist_test().images, 0, 0, 1), ad::slice(mnist_test().images, 0, 1, 2), 5).shape() ==
             (ad::Shape{5, 784}));
}

BOOST_AUTO_TEST_CASE(convolutional_shapes_round_trip_and_loss_decreases) {
  ad::Generator gen(32);
  ae::ConvAutoencoder conv(ae::ConvOptions(), gen);
  const Tensor x = ad::slice(mnist_train().images, 0, 0, 8);
  BOOST_TEST(conv.encode(x).shape() == (ad::Shape{8, 16}));
  BOOST_TEST(conv.reconstruct(x).shape() == (ad::Shape{8, 784}));
  BOOST_TEST(conv.feature_maps(x, 1).shape() == (ad::Shape{8, 16, 14, 14}));
  BOOST_TEST(conv.feature_maps(x, 2).shape() == (ad::Shape{8, 32, 7, 7}));
  // three blocks: 28 → 14 → 7 → 4 and back through output paddings 0, 0, 1
  ad::Generator gen3(33);
  ae::ConvAutoencoder deep(ae::ConvOptions().image(28).channels({8, 8, 8}).code(10), gen3);
  BOOST_TEST(deep.reconstruct(x).shape() == (ad::Shape{8, 784}));
  const double before = test_mse(conv, mnist_test().images);
  const auto hist = train(conv, ad::slice(mnist_train().images, 0, 0, 2000), 2, 1e-3, 34);
  const double after = test_mse(conv, mnist_test().images);
  BOOST_TEST_MESSAGE("conv AE test MSE " << before << " -> " << after);
  BOOST_TEST(after < 0.6 * before);
  // the reference model's size (torch_reference.py ConvAE): convs 160 + 4640, BN 32 + 64, Linear 25104 + 26656,
  // ConvTranspose 4624 + 145, BN 32
  BOOST_TEST(conv.parameter_count() == 61457u);
}

BOOST_AUTO_TEST_CASE(overcomplete_copies_noise_undercomplete_does_not) {
  // "if the model is too good => autoencoder = identity function" (slides 002). ReLU codes and a linear output
  // keep the identity within reach of 1024 ≥ 784 units. The noise fills the central 20×20 pixels, where digits
  // live: MNIST's border pixels are always 0, so no model trained on it gets a gradient to copy them.
  ad::Generator g1(35), g2(35);
  const auto relu_code = ae::AutoencoderOptions().code(ae::Activation::ReLU).output(ae::Activation::Identity);
  ae::Autoencoder over(ae::AutoencoderOptions(relu_code).sizes({784, 1024}), g1);
  ae::Autoencoder under(ae::AutoencoderOptions(relu_code).sizes({784, 64}), g2);
  train(over, mnist_train().images, 5, 1e-3, 36);
  train(under, mnist_train().images, 5, 1e-3, 36);
  ad::Generator noise(37);
  Tensor random_images = Tensor::zeros({200, 784});
  const Tensor u = ad::rand_uniform<float>({200, 784}, noise);
  for (std::size_t i = 0; i < 200; ++i)
    for (std::size_t r = 4; r < 24; ++r)
      for (std::size_t c = 4; c < 24; ++c) random_images.value()(i, r * 28 + c) = u.value()(i, r * 28 + c);
  const double over_noise = test_mse(over, random_images), under_noise = test_mse(under, random_images);
  const double over_digits = test_mse(over, mnist_test().images), under_digits = test_mse(under, mnist_test().images);
  BOOST_TEST_MESSAGE("noise MSE: overcomplete " << over_noise << ", undercomplete " << under_noise << "; digits MSE: "
                                                << over_digits << ", " << under_digits);
  // measured: noise 0.029 against 0.060 (ratio 0.49), digits 0.0039 against 0.025
  BOOST_TEST(over_noise < 0.7 * under_noise);
  BOOST_TEST(over_digits < 0.5 * under_digits);
}

// k units in training and round(α·k) when encoding, on any input; a k_start without schedule epochs is no schedule.
BOOST_AUTO_TEST_CASE(ksparse_keeps_k_in_training_and_alpha_k_when_encoding) {
  ad::Generator gen(3);
  ae::KSparseAutoencoder m(ae::KSparseOptions().input(20).hidden(30).k(4).alpha(2.5), gen);
  const Tensor x = ad::randn<float>({16, 20}, gen);
  auto per_row = [](const Tensor& h) {
    std::vector<std::size_t> c(h.size(0), 0);
    for (std::size_t i = 0; i < h.size(0); ++i)
      for (std::size_t j = 0; j < h.size(1); ++j) c[i] += h.value()(i, j) != 0.0f;
    return c;
  };
  m.train();
  for (auto c : per_row(m.encode(x))) BOOST_TEST(c == 4u);
  m.eval();
  for (auto c : per_row(m.encode(x))) BOOST_TEST(c == 10u);  // round(2.5 · 4)
  ae::KSparseAutoencoder unscheduled(ae::KSparseOptions().input(20).hidden(30).k(4).k_start(12), gen);
  BOOST_TEST(unscheduled.k() == 4u);
  unscheduled.set_epoch(1);
  BOOST_TEST(unscheduled.k() == 4u);
}

// What the lessons draw: filters as images of the input (tied and untied), the k-sparse reconstruction from exactly
// k units, the conv encoder's feature maps, PCA's axes and mean, the VAE's samples and interpolations.
BOOST_AUTO_TEST_CASE(accessors_the_lessons_draw_from) {
  ad::Generator gen(50);
  auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::equal(a.data(), a.data() + a.numel(), b.data());
  };
  auto c = ae::AutoencoderOptions().sizes({12, 8, 5});
  ae::Autoencoder untied(c, gen);
  BOOST_TEST(untied.decoder_filters().shape() == (ad::Shape{12, 8}), boost::test_tools::per_element());
  BOOST_TEST(same(untied.decoder_filters(), untied.decoder_linear.back()->weight));  // W_out [input, hidden]
  BOOST_TEST(untied.encoder_filters().shape() == (ad::Shape{8, 12}), boost::test_tools::per_element());
  BOOST_TEST(same(untied.encoder_filters(), untied.encoder_linear.front()->weight));
  ae::Autoencoder tied(c.tied(true), gen);
  const Tensor f = tied.decoder_filters(), w = tied.encoder_linear.front()->weight;  // W1 [8, 12]
  BOOST_TEST(f.shape() == (ad::Shape{12, 8}), boost::test_tools::per_element());
  for (std::size_t i = 0; i < 12; ++i)
    for (std::size_t j = 0; j < 8; ++j) BOOST_TEST(f.value()(i, j) == w.value()(j, i));
  // k-sparse: filters [input, hidden] (tied: W ᵀ); reconstruction from the k largest units, in eval mode too
  ae::KSparseAutoencoder ks(ae::KSparseOptions().input(12).hidden(10).k(3).alpha(2.0), gen);
  const Tensor kf = ks.decoder_filters();
  BOOST_TEST(kf.shape() == (ad::Shape{12, 10}), boost::test_tools::per_element());
  BOOST_TEST(kf.value()(3, 7) == ks.encoder_linear->weight.value()(7, 3));
  const Tensor x = ad::slice(mnist_test().images, 0, 0, 20);
  Tensor xs = ad::Tensor::zeros({20, 12});
  for (std::size_t r = 0; r < 20; ++r)
    for (std::size_t k = 0; k < 12; ++k) xs.value()(r, k) = x.value()(r, 300 + k);  // 12 central pixels
  ks.train();
  const Tensor code = ks.encode(xs);
  for (std::size_t r = 0; r < 20; ++r) {
    std::size_t nonzero = 0;
    for (std::size_t u = 0; u < 10; ++u) nonzero += code.value()(r, u) != 0.0f;
    BOOST_TEST(nonzero == 3u);
  }
  BOOST_TEST(same(ks.reconstruct(xs), ks.decode(code)));
  ks.eval();
  BOOST_TEST(same(ks.reconstruct(xs), ks.decode(code)));  // α·k is for features, not for the reconstruction
  // conv: block 1's feature maps are the first conv + batch norm + leaky ReLU
  ae::ConvAutoencoder conv(ae::ConvOptions(), gen);
  conv.eval();
  const Tensor maps = conv.feature_maps(x, 1);
  BOOST_TEST(maps.shape() == (ad::Shape{20, 16, 14, 14}), boost::test_tools::per_element());
  Tensor by_hand = ad::reshape(x, {20, 1, 28, 28});
  for (std::size_t i = 0; i < 3; ++i) by_hand = (*(*conv.encoder)[i])(by_hand);
  BOOST_TEST(same(maps, by_hand));
  // PCA: orthonormal axes, the data's mean
  ae::PCA pca;
  pca.fit(ad::slice(mnist_train().images, 0, 0, 500));
  const Tensor axes = pca.components(5);
  const Tensor gram = ad::matmul(axes, axes, false, true);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 5; ++j) BOOST_TEST(std::abs(gram.value()(i, j) - (i == j ? 1.0f : 0.0f)) < 1e-5);
  const Tensor mean = ad::mean(ad::slice(mnist_train().images, 0, 0, 500), {0});
  BOOST_TEST(ad::max(ad::abs(ad::sub(pca.mean(), mean))).item() < 1e-6);
  // VAE: the interpolation starts and ends at the decoded means; samples are images
  ad::Generator vae_gen(51);
  ae::VariationalAutoencoder vae(ae::VAEOptions().hidden({32}).latent(2), vae_gen);
  vae.eval();
  const Tensor a = ad::slice(x, 0, 0, 1), b = ad::slice(x, 0, 1, 2);
  const Tensor path = vae.interpolate(ad::reshape(a, {784}), ad::reshape(b, {784}), 3);
  BOOST_TEST(path.shape() == (ad::Shape{3, 784}), boost::test_tools::per_element());
  ad::NoGradGuard no_grad;
  BOOST_TEST(ad::max(ad::abs(ad::sub(ad::slice(path, 0, 0, 1), vae.decode(vae.encode(a))))).item() < 1e-6);
  BOOST_TEST(ad::max(ad::abs(ad::sub(ad::slice(path, 0, 2, 3), vae.decode(vae.encode(b))))).item() < 1e-6);
  const Tensor samples = vae.sample(4);
  BOOST_TEST(samples.shape() == (ad::Shape{4, 784}), boost::test_tools::per_element());
  BOOST_TEST((ad::max(samples).item() <= 1.0f && -ad::max(ad::neg(samples)).item() >= 0.0f));
}

// "The same detector at every position": moving the image 2 pixels moves the stride-2 block-1 maps by 1.
BOOST_AUTO_TEST_CASE(first_conv_block_is_shift_equivariant) {
  ad::Generator gen(36), noise(37);
  ae::ConvAutoencoder conv(ae::ConvOptions(), gen);
  conv.eval();
  ad::NoGradGuard no_grad;
  Tensor x = Tensor::zeros({1, 784}), shifted = Tensor::zeros({1, 784});
  for (std::size_t r = 4; r < 24; ++r)
    for (std::size_t c = 4; c < 24; ++c) x.value()(0, r * 28 + c) = static_cast<float>(noise.uniform());
  for (std::size_t r = 0; r + 2 < 28; ++r)
    for (std::size_t c = 0; c + 2 < 28; ++c) shifted.value()(0, (r + 2) * 28 + c + 2) = x.value()(0, r * 28 + c);
  const Tensor a = conv.feature_maps(x, 1), b = conv.feature_maps(shifted, 1);
  double worst = 0;
  for (std::size_t ch = 0; ch < 16; ++ch)
    for (std::size_t y = 0; y < 13; ++y)
      for (std::size_t z = 0; z < 13; ++z)
        worst = std::max(worst, static_cast<double>(std::fabs(b.value()(0, ch, y + 1, z + 1) - a.value()(0, ch, y, z))));
  BOOST_TEST(worst < 1e-5);
}

// The test −ELBO is the β = 1 bound whatever β trains with; LeakyReLU activations have the slides' slope 0.2.
BOOST_AUTO_TEST_CASE(negative_elbo_ignores_beta_and_leaky_relu_slope) {
  auto elbo = [](double beta) {
    ad::Generator seed(60);  // same seed: same weights and noise
    ae::VariationalAutoencoder vae(ae::VAEOptions().hidden({32}).latent(4).beta(beta), seed);
    return vae.negative_elbo(ad::slice(mnist_test().images, 0, 0, 200), 100);
  };
  BOOST_TEST(elbo(4.0) == elbo(1.0));
  const auto act = ae::make_activation(ae::Activation::LeakyReLU);
  BOOST_TEST_REQUIRE(dynamic_cast<nn::LeakyReLU*>(act.get()) != nullptr);
  BOOST_TEST(dynamic_cast<nn::LeakyReLU*>(act.get())->slope == 0.2);
}

// ---- extending the library: two variants the slides suggest, each a few lines on the extension points ----------

namespace {
// A sparse denoising autoencoder: the basic autoencoder with masking noise switched on, plus β Σ_j KL(ρ ‖ ρ'_j).
class SparseDenoisingAutoencoder : public ae::Autoencoder {
 public:
  SparseDenoisingAutoencoder(double rho, double beta, ad::Generator& gen)
      : Autoencoder(ae::AutoencoderOptions()
                        .sizes({784, 64})
                        .code(ae::Activation::Sigmoid)
                        .corruption(ae::Corruption::Masking)
                        .noise_level(0.3),
                    gen),
        rho_(rho), beta_(beta) {}

 protected:
  void add_penalties(ae::Loss& loss, const Tensor&, const Tensor& h) override {
    loss.add("sparsity", nn::kl_sparsity(h, rho_), beta_);
  }

 private:
  double rho_, beta_;
};

// KL(N(μ, σ²) ‖ N(0, s²)) = ½ Σ (σ²/s² + μ²/s² − 1 − log σ² + log s²), summed over the batch
template <class T>
ad::TensorT<T> kl_to_normal_with_scale(const ad::TensorT<T>& mu, const ad::TensorT<T>& logvar, double s) {
  const T inv_s2 = static_cast<T>(1 / (s * s)), log_s2_minus_1 = static_cast<T>(2 * std::log(s) - 1);
  const ad::TensorT<T> ratio = ad::mul(ad::add(ad::exp(logvar), ad::square(mu)), inv_s2);  // (σ² + μ²)/s²
  return ad::mul(ad::sum(ad::sub(ad::add(ratio, log_s2_minus_1), logvar)), static_cast<T>(0.5));
}

// A β-VAE whose prior is N(0, s² I): the KL and the prior's samples replaced, nothing else.
class WidePriorVAE : public ae::VariationalAutoencoder {
 public:
  WidePriorVAE(double s, double beta, ad::Generator& gen)
      : VariationalAutoencoder(ae::VAEOptions().hidden({128}).latent(4).beta(beta), gen), s_(s) {}
  Tensor kl_to_prior(const Posterior& q) override { return kl_to_normal_with_scale(q.mu, q.logvar, s_); }
  Tensor sample_prior(std::size_t n) override {
    return ad::mul(ad::randn<float>({n, latent()}, noise_), static_cast<float>(s_));
  }

 private:
  double s_;
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_sparse_denoising_autoencoder_in_a_few_lines) {
  ad::Generator gen(80);
  SparseDenoisingAutoencoder model(0.05, 3.0, gen);
  const Tensor x = ad::slice(mnist_test().images, 0, 0, 200);
  // its terms: the reconstruction against the clean x, and the sparsity recorded without β
  model.eval();  // no corruption in eval: the terms can be recomputed exactly
  const ae::Loss l = model.loss(x);
  const double kl = nn::kl_sparsity(model.encode(x), 0.05).item();
  const double rec = nn::mse_loss(model.reconstruct(x), x).item();
  BOOST_TEST(std::abs(l.term("sparsity") - kl) < 1e-5 * kl);
  BOOST_TEST(std::abs(l.term("reconstruction") - rec) < 1e-5 * rec);
  BOOST_TEST(std::abs(l.total.item() - (rec + 3.0 * kl)) < 1e-5 * (rec + 3.0 * kl));
  // training corrupts: two draws of the same batch differ; eval does not
  model.train();
  BOOST_TEST(model.loss(x).total.item() != model.loss(x).total.item());
  // a few epochs on MNIST pull the mean activation down towards ρ while it reconstructs
  const double before = ad::mean(model.encode(x)).item();
  const auto hist = train(model, ad::slice(mnist_train().images, 0, 0, 2000), 3, 3e-3, 81);
  const double after = ad::mean(model.encode(x)).item();
  BOOST_TEST_MESSAGE("sparse denoising AE: mean activation " << before << " -> " << after << ", terms "
                                                             << hist.back().term("reconstruction") << " + 3 x "
                                                             << hist.back().term("sparsity"));
  BOOST_TEST(after < 0.5 * before);
  BOOST_TEST(hist.back().term("sparsity") < hist.front().term("sparsity"));
  BOOST_TEST(hist.back().term("reconstruction") < hist.front().term("reconstruction"));
}

BOOST_AUTO_TEST_CASE(a_beta_vae_with_another_prior_in_a_few_lines) {
  // the prior's KL in float64: against the closed form written with scalars, at s = 1 against N(0, I)'s, gradcheck
  const Tensor64 mu = uniform({3, 4}, 82), logvar = uniform({3, 4}, 83);
  const double s = 2.0;
  double by_hand = 0;
  for (std::size_t i = 0; i < mu.numel(); ++i) {
    const double m = mu.data()[i], lv = logvar.data()[i];
    by_hand += 0.5 * (std::exp(lv) / (s * s) + m * m / (s * s) - 1 - lv + std::log(s * s));
  }
  BOOST_TEST(std::abs(kl_to_normal_with_scale(mu, logvar, s).item() - by_hand) < 1e-12 * std::abs(by_hand));
  BOOST_TEST(std::abs(kl_to_normal_with_scale(mu, logvar, 1.0).item() - nn::kl_normal(mu, logvar).item()) < 1e-12);
  CHECK_GRADCHECK([&](const V& v) { return kl_to_normal_with_scale(v[0], v[1], s); }, mu, logvar);
  // the model: its KL term is the new one, weighted by β in the total, and training lowers the objective
  ad::Generator gen(84);
  WidePriorVAE vae(s, 4.0, gen);
  const Tensor x = ad::slice(mnist_test().images, 0, 0, 100);
  ad::Generator noise(85);
  const Tensor eps = ad::randn<float>({100, 4}, noise);
  const ae::Loss l = vae.loss(x, eps);
  const auto q = vae.posterior(x);
  const double kl = kl_to_normal_with_scale(q.mu, q.logvar, s).item() / 100;
  BOOST_TEST(std::abs(l.term("kl") - kl) < 1e-5 * kl);
  BOOST_TEST(std::abs(l.total.item() - (l.term("reconstruction") + 4.0 * kl)) < 1e-5 * l.total.item());
  const auto hist = train(vae, ad::slice(mnist_train().images, 0, 0, 2000), 3, 1e-3, 86, 100);
  BOOST_TEST(hist.back().loss() < hist.front().loss());
  // samples come from N(0, s² I): their spread is s
  ad::NoGradGuard no_grad;
  const Tensor z = vae.sample_prior(20000);
  BOOST_TEST(std::abs(std::sqrt(ad::mean(ad::square(z)).item()) - s) < 0.05);
  BOOST_TEST(vae.sample(3).shape() == (ad::Shape{3, 784}), boost::test_tools::per_element());
}

// The linear probe: error counted by hand; on raw pixels a softmax reaches logistic regression's usual error.
BOOST_AUTO_TEST_CASE(linear_probe_scores_codes_by_a_softmax) {
  BOOST_TEST(ae::classification_error(Tensor::from_vector({1, 2, 3, 0, 0, 5}, {3, 2}), {1, 1, 1}) == 1.0 / 3.0);
  const auto r = ae::linear_probe(mnist_train().images, mnist_train().labels, mnist_test().images, mnist_test().labels,
                                  ae::ProbeOptions().epochs(5).lr(1e-3));
  BOOST_TEST_MESSAGE("softmax on pixels (5,000 training images): train error " << r.train_error << ", test error "
                                                                                << r.test_error);
  BOOST_TEST(r.test_error < 0.2);  // measured 0.13 (chance 0.9; logistic regression on all of MNIST: about 0.08)
  BOOST_TEST(r.train_error <= r.test_error + 0.02);
  BOOST_TEST(r.history.back().loss() < r.history.front().loss());
  // a code that carries nothing: chance-level error
  const auto none = ae::linear_probe(Tensor::ones({5000, 3}), mnist_train().labels, Tensor::ones({1000, 3}),
                                     mnist_test().labels, ae::ProbeOptions().epochs(2));
  BOOST_TEST(none.test_error > 0.8);
}

// Nearest neighbours by hand on points of a line, and kNN accuracy on pixels against brute force.
BOOST_AUTO_TEST_CASE(nearest_neighbours_and_knn_accuracy) {
  const Tensor db = Tensor::from_vector({0, 0, 1, 0, 3, 0, 7, 0, 2, 0}, {5, 2});  // x = 0, 1, 3, 7, 2
  const auto nn3 = ae::nearest_neighbours(db, Tensor::from_vector({2.4f, 0.1f, 6.0f, 0.0f}, {2, 2}), 3);
  BOOST_TEST(nn3[0] == (std::vector<std::size_t>{4, 2, 1}), boost::test_tools::per_element());
  BOOST_TEST(nn3[1] == (std::vector<std::size_t>{3, 2, 4}), boost::test_tools::per_element());
  BOOST_TEST(ae::knn_accuracy(db, {0, 0, 1, 1, 1}, Tensor::from_vector({2.9f, 0, 0.2f, 0}, {2, 2}), {1, 0}, 3) == 1.0);
  // on 2,000 MNIST training images, 1-NN in pixel space: each test digit's nearest image found by brute force
  const Tensor train = ad::slice(mnist_train().images, 0, 0, 2000), test = ad::slice(mnist_test().images, 0, 0, 50);
  const auto found = ae::nearest_neighbours(train, test, 1);
  for (std::size_t q = 0; q < 50; ++q) {
    double best = 1e30;
    std::size_t arg = 0;
    for (std::size_t i = 0; i < 2000; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < 784; ++j) {
        const double diff = train.value()(i, j) - test.value()(q, j);
        s += diff * diff;
      }
      if (s < best) best = s, arg = i;
    }
    BOOST_TEST(found[q][0] == arg);
  }
  const std::vector<std::size_t> labels(mnist_train().labels.begin(), mnist_train().labels.begin() + 2000);
  const double acc = ae::knn_accuracy(train, labels, mnist_test().images, mnist_test().labels, 5);
  BOOST_TEST_MESSAGE("5-NN on pixels, 2,000 training images: test accuracy " << acc);
  BOOST_TEST(acc > 0.75);  // measured 0.87; chance 0.1
}

BOOST_AUTO_TEST_CASE(fit_stops_on_a_non_finite_loss) {
  ad::Generator gen(38);
  ae::Autoencoder model(
      ae::AutoencoderOptions().sizes({784, 16}).code(ae::Activation::Identity).output(ae::Activation::Identity), gen);
  ad::Generator order(39);
  nn::DataLoader loader(ad::slice(mnist_train().images, 0, 0, 500), {}, 50, order);
  nn::SGD sgd(model.named_parameters(), 1e6);  // diverges
  CHECK_THROWS_WITH(ae::fit(model, loader, sgd, 5), "training stopped", "epoch", "batch", "learning rate");
}

BOOST_AUTO_TEST_CASE(fit_trains_with_subnormals_flushed_and_restores_the_mode) {
  // A subnormal product inside the objective (the step) is 0; outside fit it is not, before and after.
  volatile float tiny = 1e-20f;  // 1e-20² = 1e-40, below float's smallest normal 1.2e-38
  BOOST_TEST_REQUIRE(tiny * tiny > 0.0f);
  ad::Generator gen(40);
  ae::Autoencoder model(ae::AutoencoderOptions().sizes({784, 8}), gen);
  ad::Generator order(41);
  nn::DataLoader loader(ad::slice(mnist_train().images, 0, 0, 100), {}, 50, order);
  nn::Adam adam(model.named_parameters(), 1e-3);
  std::vector<float> inside;
  ae::fit(model, loader, adam, 1, [&](const nn::Batch& b) {
    inside.push_back(tiny * tiny);
    return model.loss(b.x);
  });
  BOOST_TEST(inside == std::vector<float>(2, 0.0f), boost::test_tools::per_element());
  BOOST_TEST(tiny * tiny > 0.0f);
}

BOOST_AUTO_TEST_CASE(same_seed_same_numbers) {
  auto run = [] {
    ad::Generator gen(40);
    ae::Autoencoder m(ae::AutoencoderOptions().sizes({784, 16}), gen);
    return train(m, ad::slice(mnist_train().images, 0, 0, 500), 2, 1e-3, 41).back().loss();
  };
  BOOST_TEST(run() == run());
}

// AUROC is the Mann–Whitney statistic with ties counted as ½, and the area under roc_curve's points.
// numpy.quantile's default (linear between the two nearest ranks): np.quantile([4, 1, 3, 2], q) for q = 0, 0.5,
// 0.95, 1 is 1, 2.5, 3.85, 4.
BOOST_AUTO_TEST_CASE(quantile_interpolates_between_ranks_as_numpy_does) {
  BOOST_TEST(ae::quantile({4, 1, 3, 2}, 0.0) == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ae::quantile({4, 1, 3, 2}, 0.5) == 2.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ae::quantile({4, 1, 3, 2}, 0.95) == 3.85, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ae::quantile({4, 1, 3, 2}, 1.0) == 4.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ae::quantile({7}, 0.3) == 7.0, boost::test_tools::tolerance(1e-12));
  CHECK_THROWS_WITH(ae::quantile({}, 0.5), "quantile", "no values");
  CHECK_THROWS_WITH(ae::quantile({1, 2}, 1.5), "quantile", "outside [0, 1]");
  CHECK_THROWS_WITH(ae::quantile({1, std::nan("")}, 0.5), "quantile", "not finite");
}

BOOST_AUTO_TEST_CASE(auroc_is_mann_whitney_with_ties_and_the_area_under_the_roc_curve) {
  using boost::test_tools::tolerance;
  BOOST_TEST(ae::auroc({0.8, 0.4}, {0.4, 0.1}) == 0.875, tolerance(1e-12));  // 3.5 of the 4 pairs
  BOOST_TEST(ae::auroc({1, 1, 1}, {1, 1}) == 0.5, tolerance(1e-12));
  BOOST_TEST(ae::auroc({2, 3}, {0, 1}) == 1.0, tolerance(1e-12));
  BOOST_TEST(ae::auroc({0, 1}, {2, 3}) == 0.0, tolerance(1e-12));
  ad::Generator gen(5);
  std::vector<double> p, n;  // with many ties: scores on a coarse grid
  for (int i = 0; i < 300; ++i) p.push_back(std::floor(10 * (gen.uniform() + 0.3)));
  for (int i = 0; i < 200; ++i) n.push_back(std::floor(10 * gen.uniform()));
  double pairs = 0;  // the definition, over every pair
  for (double a : p)
    for (double b : n) pairs += a > b ? 1.0 : a == b ? 0.5 : 0.0;
  BOOST_TEST(ae::auroc(p, n) == pairs / (300.0 * 200.0), tolerance(1e-12));
  BOOST_TEST(ae::auroc(p, n) + ae::auroc(n, p) == 1.0, tolerance(1e-12));
  const ae::Roc roc = ae::roc_curve(p, n);  // trapezoids under the curve: the same area
  double area = 0;
  for (std::size_t i = 1; i < roc.fpr.size(); ++i) area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
  BOOST_TEST(area == ae::auroc(p, n), tolerance(1e-12));
  BOOST_TEST(roc.fpr.front() == 0.0);
  BOOST_TEST(roc.tpr.back() == 1.0);
  BOOST_CHECK_THROW(ae::auroc({}, {1.0}), ad::Error);
  BOOST_CHECK_THROW(ae::auroc({std::nan("")}, {1.0}), ad::Error);
  // the score: one mean squared error per row
  const auto e = ae::squared_error_per_row(Tensor::from_vector({0, 1, 1, 1}, {2, 2}), Tensor::from_vector({0, 0, 0, 1}, {2, 2}));
  BOOST_TEST(e == std::vector<double>({0.5, 0.5}), boost::test_tools::per_element());
  BOOST_CHECK_THROW(ae::squared_error_per_row(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})), ad::Error);
  // many rows, split over two threads: each row's score is still its own, summed in order
  ad::Generator rows(44);
  const Tensor a = ad::rand_uniform<float>({1000, 30}, rows, 0.f, 1.f), b = ad::rand_uniform<float>({1000, 30}, rows, 0.f, 1.f);
  const int threads = ad::num_threads();
  ad::set_num_threads(2);
  const std::vector<double> split = ae::squared_error_per_row(a, b);
  ad::set_num_threads(threads);
  BOOST_TEST_REQUIRE(split.size() == 1000u);
  for (std::size_t i = 0; i < 1000; i += 37) {
    double sum = 0;
    for (std::size_t j = 0; j < 30; ++j) {
      const double diff = static_cast<double>(a.data()[i * 30 + j]) - b.data()[i * 30 + j];
      sum += diff * diff;
    }
    BOOST_TEST(split[i] == sum / 30, "row " << i);
  }
}

// The encodings table's search (tiles of 4,096 rows, blocks of 128 queries, a heap per query) against the readable
// formula: every distance in double, sorted, across tile and block boundaries; equal rows come lowest index first.
// precision@k by hand: query 0 (label 7) retrieves rows labelled 7, 3, 7, 7; query 1 (label 3) rows 3, 3, 7, 3.
//   k = 1: (1 + 1)/2;  k = 2: (1/2 + 2/2)/2;  k = 3: (2/3 + 2/3)/2;  k = 4: (3/4 + 3/4)/2
BOOST_AUTO_TEST_CASE(precision_at_k_by_hand) {
  const std::vector<std::size_t> db_labels = {7, 3, 7, 7, 3, 3, 7, 3};
  const std::vector<std::vector<std::size_t>> neighbours = {{0, 1, 2, 3}, {4, 5, 6, 7}};
  const std::vector<double> p = ae::precision_at_k(neighbours, db_labels, {7, 3}, 4);
  const std::vector<double> want = {1.0, 0.75, 2.0 / 3, 0.75};
  BOOST_TEST(p.size() == 4u);
  for (std::size_t k = 0; k < want.size() && k < p.size(); ++k) BOOST_TEST(std::abs(p[k] - want[k]) < 1e-12);
  CHECK_THROWS_WITH(ae::precision_at_k(neighbours, db_labels, {7}, 4), "precision_at_k", "2 neighbour lists", "1 query");
  CHECK_THROWS_WITH(ae::precision_at_k(neighbours, db_labels, {7, 3}, 5), "precision_at_k", "4 neighbours", "k_max is 5");
  CHECK_THROWS_WITH(ae::precision_at_k({{0, 9}}, db_labels, {7}, 2), "precision_at_k", "row 9 has no label");
}

BOOST_AUTO_TEST_CASE(encodings_table_search_matches_a_full_sort_of_the_distances) {
  ad::Generator gen(12);
  const std::size_t n = 9000, d = 20, queries = 300, k = 10;
  Tensor db = Tensor::zeros({n, d}), q = Tensor::zeros({queries, d});
  for (std::size_t i = 0; i < n * d; ++i) db.data()[i] = static_cast<float>(gen.normal());
  for (std::size_t i = 0; i < queries * d; ++i) q.data()[i] = static_cast<float>(gen.normal());
  for (std::size_t j = 0; j < d; ++j) db.data()[8500 * d + j] = db.data()[100 * d + j] = q.data()[j];  // two exact matches
  const auto found = ae::EncodingsTable(db).nearest(q, k);
  BOOST_TEST_REQUIRE(found.size() == queries);
  for (std::size_t a = 0; a < queries; ++a) {
    std::vector<std::pair<double, std::size_t>> all;
    for (std::size_t i = 0; i < n; ++i) {
      double s = 0;
      for (std::size_t j = 0; j < d; ++j) {
        const double diff = static_cast<double>(db.data()[i * d + j]) - q.data()[a * d + j];
        s += diff * diff;
      }
      all.emplace_back(s, i);
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> expected;
    for (std::size_t i = 0; i < k; ++i) expected.push_back(all[i].second);
    BOOST_TEST(found[a] == expected, boost::test_tools::per_element());
  }
  BOOST_TEST(found[0][0] == 100u);  // the tie between rows 100 and 8500 (in different tiles): the lower row first
  BOOST_TEST(found[0][1] == 8500u);
  BOOST_CHECK_THROW(ae::EncodingsTable(db).nearest(Tensor::zeros({2, d + 1}), 3), ad::Error);
  BOOST_CHECK_THROW(ae::EncodingsTable(db).nearest(q, n + 1), ad::Error);
}

// Imputation (lesson 14): the masks, the RMSE on hidden pixels only, and PCA imputation on real digits.
BOOST_AUTO_TEST_CASE(imputation_masks_have_their_stated_shapes) {
  const std::size_t n = 20, side = 28;
  ad::Generator gen(3);
  const Tensor random = ae::make_mask(ae::MaskPattern::RandomHalf, n, gen);
  const Tensor block = ae::make_mask(ae::MaskPattern::CentreBlock, n, gen);
  const Tensor lower = ae::make_mask(ae::MaskPattern::LowerHalf, n, gen);
  for (const Tensor* m : {&random, &block, &lower}) {
    BOOST_TEST(m->size(0) == n);
    BOOST_TEST(m->size(1) == side * side);
  }
  bool rows_differ = false;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t hidden_random = 0;
    for (std::size_t r = 0; r < side; ++r)
      for (std::size_t c = 0; c < side; ++c) {
        const std::size_t j = i * side * side + r * side + c;
        BOOST_TEST((random.data()[j] == 0.0f || random.data()[j] == 1.0f));
        hidden_random += random.data()[j] == 0.0f;
        const bool in_block = r >= 7 && r < 21 && c >= 7 && c < 21;
        BOOST_TEST((block.data()[j] == 0.0f) == in_block);   // the centre 14x14 square, nothing else
        BOOST_TEST((lower.data()[j] == 0.0f) == (r >= 14));  // rows 14..27
        if (i > 0 && random.data()[j] != random.data()[j - side * side]) rows_differ = true;
      }
    BOOST_TEST(hidden_random == side * side / 2);  // exactly half of each image
  }
  BOOST_TEST(rows_differ);  // a fresh random half per image
  BOOST_TEST(ae::hidden_fraction(random) == 0.5);
  BOOST_TEST(ae::hidden_fraction(block) == 0.25);
  BOOST_TEST(ae::hidden_fraction(lower) == 0.5);
  // the same generator seed draws the same masks (a deterministic lesson)
  ad::Generator again(3);
  const Tensor random_again = ae::make_mask(ae::MaskPattern::RandomHalf, n, again);
  BOOST_TEST(ae::mean_squared_error(random, random_again) == 0.0);
}

BOOST_AUTO_TEST_CASE(hidden_rmse_counts_only_hidden_pixels) {
  // truth 0 everywhere; the filled image is wrong by 3 on one hidden pixel and by 100 on an observed one
  const Tensor truth = Tensor::zeros({1, 4});
  const Tensor mask = Tensor::from_vector({1.0f, 0.0f, 0.0f, 1.0f}, {1, 4});
  const Tensor filled = Tensor::from_vector({100.0f, 3.0f, 0.0f, 0.0f}, {1, 4});
  BOOST_TEST(ae::hidden_rmse(filled, truth, mask) == std::sqrt(9.0 / 2.0), boost::test_tools::tolerance(1e-12));
  BOOST_CHECK_THROW(ae::hidden_rmse(filled, truth, Tensor::ones({1, 4})), ad::Error);  // nothing hidden
}

BOOST_AUTO_TEST_CASE(pca_imputation_keeps_observed_pixels_and_beats_the_mean) {
  const Tensor& train = mnist_train().images;
  const Tensor x = ad::slice(mnist_test().images, 0, 0, 300);
  ae::PCA pca;
  pca.fit(train);
  const Tensor means = ae::pixel_means(train);
  for (auto pattern : {ae::MaskPattern::RandomHalf, ae::MaskPattern::CentreBlock, ae::MaskPattern::LowerHalf})
    BOOST_TEST_CONTEXT(ae::mask_name(pattern)) {
      ad::Generator gen(5);
      const Tensor mask = ae::make_mask(pattern, x.size(0), gen);
      const auto by_pca = ae::impute_pca(x, mask, pca, ae::PcaImputationOptions().components(64).max_iterations(150));
      const Tensor by_mean = ae::impute_mean(x, mask, means);
      for (std::size_t i = 0; i < x.numel(); ++i)
        if (mask.data()[i] == 1.0f) BOOST_TEST_REQUIRE(by_pca.filled.data()[i] == x.data()[i]);  // bit for bit
      BOOST_TEST(by_pca.iterations >= 1u);
      BOOST_TEST(ae::hidden_rmse(by_pca.filled, x, mask) < ae::hidden_rmse(by_mean, x, mask));
    }
}

// Φ⁻¹ inverts Φ(x) = ½ erfc(−x/√2) across the whole range, tails included, and knows its textbook values.
BOOST_AUTO_TEST_CASE(normal_quantile_inverts_the_normal_cdf) {
  for (double p : {1e-10, 1e-6, 0.001, 0.02425, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.97575, 0.999, 1 - 1e-6, 1 - 1e-10}) {
    const double x = ae::normal_quantile(p);
    BOOST_TEST(0.5 * std::erfc(-x / std::sqrt(2.0)) == p, boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(ae::normal_quantile(0.975) == 1.959963984540054, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(ae::normal_quantile(0.5) == 0.0);
  BOOST_TEST(ae::normal_quantile(0.1) == -ae::normal_quantile(0.9), boost::test_tools::tolerance(1e-12));
  BOOST_CHECK_THROW(ae::normal_quantile(0.0), ad::Error);
  BOOST_CHECK_THROW(ae::normal_quantile(1.0), ad::Error);
}
