// Lesson 02: a linear autoencoder spans the PCA subspace; a nonlinear one goes beyond it.
//   "Si activaciones lineales y L error cuadrático medio → f(x) describe el mismo subespacio que PCA"
//   "GUARDA: Autoencoder básico ≠ PCA en general ... Autoencoder encuentra superficie no lineal"  — slides 004
//   "Encoder = PCA, if it uses linear activation functions"  — slides 001
// (a) A linear autoencoder x' = W2 (W1 x + b1) + b2 with M = 16 on centred MNIST: the principal angles between
//     its decoder's column space and the top-16 PCA subspace, and its error against PCA's.
// (b) Points on a curve in 2-D with a 1-D code: PCA reconstructs onto a straight line, a nonlinear autoencoder
//     onto the curve.
#include <cmath>

#include "autoencoders/autoencoder.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"

using namespace lessons;

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "02_linear_vs_pca";
  spec.title = "Linear autoencoder = PCA; nonlinear autoencoder beyond it";
  spec.summary =
      "With linear activations and the squared error, the best an autoencoder can do is what PCA does: its code "
      "spans the same subspace as the top principal components, though not with the same basis (any invertible mix "
      "of the axes reconstructs equally well). Part (a) trains a linear autoencoder with a 16-number code on MNIST "
      "(centred, as PCA centres it) by SGD with momentum and measures the principal angles between the two subspaces. "
      "Part (b) shows what a nonlinear autoencoder adds: on points along a curve, a 1-number code can follow the curve, "
      "while one principal component can only describe a straight line.";
  spec.slides = "004 \"Si activaciones lineales ... mismo subespacio que PCA\", \"GUARDA: Autoencoder básico ≠ PCA\"; "
                "001 \"Encoder = PCA, if it uses linear activation functions\"; 002 \"better at learning non-linear features\"";
  spec.epochs = 40;
  spec.batch = 100;
  spec.lr = 10.0;  // SGD with momentum on the per-pixel MSE (see below)
  spec.datasets = false;
  spec.quick_epochs = 3;
  spec.metrics = {"max_principal_angle_deg", "linear_ae_to_pca_mse_ratio", "curve_ae_to_pca_mse_ratio"};
  return run(argc, argv, spec, [](Lesson& L) {
    // ---- (a) linear autoencoder against PCA on MNIST ----
    const std::size_t m = 16;
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    ae::PCA pca;
    pca.fit(train.images);
    const Tensor mean = pca.mean();
    const Tensor train_c = ad::sub(train.images, mean), test_c = ad::sub(test.images, mean);
    ad::Generator gen(L.options().seed);
    ae::Autoencoder linear(ae::AutoencoderOptions()
                               .sizes({784, m})
                               .code(ae::Activation::Identity)
                               .output(ae::Activation::Identity),
                           gen);
    ad::Generator order(L.options().seed + 1);
    nn::DataLoader loader(train_c, train.labels, L.options().batch, order);
    // SGD with momentum follows the curvature of this near-quadratic problem; Adam's per-coordinate steps crawl
    // along directions whose eigenvalues are almost tied (λ16 = 0.78 vs λ17 = 0.70 on MNIST).
    nn::SGD sgd(linear.named_parameters(), L.options().lr, 0.9);
    nn::WarmupDecayLR schedule(sgd, 300, L.epochs() * loader.num_batches());
    std::vector<double> epoch_axis, angle_curve;
    const Tensor pca_basis = ad::transpose(pca.components(m));  // [784, m]
    ae::Callbacks extra{[&](std::size_t, std::size_t, std::size_t, double) { schedule.step(); },
                        [&](const ae::EpochStats& s) {
                          epoch_axis.push_back(static_cast<double>(s.epoch));
                          angle_curve.push_back(ae::principal_angles_degrees(linear.decoder_filters(), pca_basis).back());
                        }};
    if (!L.load_model(linear, "linear_ae_m16.npz")) ae::fit(linear, loader, sgd, L.epochs(), L.progress("linear AE", extra));
    L.save_model(linear, "linear_ae_m16.npz", "the linear autoencoder, M = 16, on centred digits");
    linear.eval();
    const std::vector<double> angles = ae::principal_angles_degrees(linear.decoder_filters(), pca_basis);
    const Tensor ae_rec = ae::map_batches(test_c, [&](const Tensor& x) { return linear.reconstruct(x); });
    const double ae_mse = ae::mean_squared_error(ae_rec, test_c);
    const double pca_mse = ae::mean_squared_error(pca.reconstruct(test.images, m), test.images);
    L.say("linear AE: largest principal angle " + fmt(angles.back()) + " deg; test MSE " + fmt(ae_mse) + " vs PCA " + fmt(pca_mse));

    const auto shown = first_of_each_class(test);
    L.grid("pca_axes_vs_decoder",
           {{"PCA axes", pca.components(m), GridRow::Scale::Signed},
            {"AE decoder", ad::transpose(linear.decoder_filters()), GridRow::Scale::Signed}},
           "The 16 principal axes (top) and the linear autoencoder's 16 decoder columns (bottom)",
           "004 \"f(x) describe el mismo subespacio que PCA\"",
           "Grey is 0, white positive, black negative. The rows look different: the autoencoder's columns are some "
           "invertible mix of the principal axes, not the axes themselves (nothing in the loss prefers PCA's "
           "orthogonal, variance-ordered basis). Yet they span the same subspace, as the angles show.");
    std::vector<std::string> idx;
    for (std::size_t i = 0; i < angles.size(); ++i) idx.push_back(std::to_string(i + 1));
    L.plot("principal_angles",
           Plot("Principal angles between the AE decoder's span and the top-16 PCA subspace", "angle index", "degrees")
               .bars(idx, {{"principal angle", angles}})
               .command("set yrange [0:*]"),
           "The 16 principal angles between the two subspaces", "004 \"Si activaciones lineales ... mismo subespacio que PCA\"",
           "All angles are close to 0°: every direction the autoencoder uses lies in PCA's subspace. (Two random "
           "16-dimensional subspaces of R^784 would have angles near 90°.)");
    L.plot("angle_per_epoch",
           Plot("Largest principal angle during training", "epoch", "degrees").line("largest angle", epoch_axis, angle_curve).log_y(),
           "The largest principal angle per epoch", "001 \"Encoder = PCA, if it uses linear activation functions\"",
           "Training pulls the decoder's span onto PCA's subspace; the last directions to settle are those whose "
           "eigenvalues are nearly tied, since swapping them changes the error very little.");
    L.grid("linear_reconstructions",
           {{"original", rows(test.images, shown)},
            {"linear AE", rows(ad::add(ae_rec, mean), shown)},
            {"PCA", rows(pca.reconstruct(test.images, m), shown)}},
           "Test digits reconstructed by the linear autoencoder and by PCA, both with 16 numbers",
           "004 \"Si activaciones lineales y L error cuadrático medio\"",
           "The two rows of reconstructions are the same images: same subspace, same projection.");

    // ---- (b) a curve in 2-D: 1-D PCA against a 1-D nonlinear code ----
    ad::Generator curve_gen(L.options().seed + 2);
    const std::size_t n = 1000;
    Tensor points = Tensor::zeros({n, 2});
    for (std::size_t i = 0; i < n; ++i) {
      const double t = -1.0 + 2.0 * curve_gen.uniform();
      points.value()(i, 0) = static_cast<float>(t + 0.02 * curve_gen.normal());
      points.value()(i, 1) = static_cast<float>(1.5 * t * t - 0.5 + 0.02 * curve_gen.normal());
    }
    ae::PCA pca2;
    pca2.fit(points);
    const Tensor pca_curve = pca2.reconstruct(points, 1);
    ad::Generator net_gen(L.options().seed + 3);
    ae::Autoencoder curve_ae(ae::AutoencoderOptions()
                                 .sizes({2, 32, 32, 1})
                                 .hidden(ae::Activation::Tanh)
                                 .code(ae::Activation::Identity)
                                 .output(ae::Activation::Identity),
                             net_gen);
    ad::Generator curve_order(L.options().seed + 4);
    nn::DataLoader curve_loader(points, {}, n, curve_order);
    nn::Adam adam(curve_ae.named_parameters(), 1e-2);
    const std::size_t steps = L.quick() ? 300 : 3000;
    nn::WarmupDecayLR curve_schedule(adam, 0, steps);
    if (!L.load_model(curve_ae, "curve_ae.npz")) {
      L.say("curve autoencoder 2-32-32-1-32-32-2 (tanh), " + std::to_string(steps) + " full-batch Adam steps");
      ae::fit(curve_ae, curve_loader, adam, steps, {[&](std::size_t, std::size_t, std::size_t, double) { curve_schedule.step(); }, nullptr});
    }
    L.save_model(curve_ae, "curve_ae.npz", "the nonlinear 2-32-32-1 autoencoder of the curve");
    curve_ae.eval();
    const Tensor ae_curve = curve_ae.reconstruct(points);
    const double curve_ae_mse = ae::mean_squared_error(ae_curve, points), curve_pca_mse = ae::mean_squared_error(pca_curve, points);
    auto column = [](const Tensor& t, std::size_t c) {
      std::vector<double> v;
      for (std::size_t i = 0; i < t.size(0); ++i) v.push_back(t.value()(i, c));
      return v;
    };
    L.plot("curve",
           Plot("Points on a curve, reconstructed from a 1-number code", "x1", "x2")
               .scatter("data", column(points, 0), column(points, 1), 0.4)
               .scatter("PCA, 1 component", column(pca_curve, 0), column(pca_curve, 1), 0.6)
               .scatter("autoencoder, 1-D code", column(ae_curve, 0), column(ae_curve, 1), 0.6)
               .command("set size ratio -1"),
           "PCA (a straight line) against a nonlinear autoencoder (a curve), both with a 1-D code",
           "004 \"PCA encuentra hiperplano ... Autoencoder (red neuronal) encuentra superficie no lineal\"; 002 \"better at learning non-linear features\"",
           "PCA can only project onto its best line, so the ends of the curve collapse onto it. The autoencoder's "
           "decoder bends its 1-D code along the curve: same code size, much smaller error.");

    L.metric("max_principal_angle_deg", angles.back(), "largest principal angle between the linear AE's decoder span and PCA-16");
    L.metric("mean_principal_angle_deg", [&] { double s = 0; for (double a : angles) s += a; return s / static_cast<double>(angles.size()); }(),
             "mean of the 16 principal angles");
    L.metric("linear_ae_to_pca_mse_ratio", ae_mse / pca_mse, "linear AE test MSE / PCA-16 test MSE (1.00: the same)");
    L.metric("linear_ae_test_mse", ae_mse, "linear AE test MSE per pixel (M = 16)");
    L.metric("pca_test_mse", pca_mse, "PCA test MSE per pixel (16 components)");
    L.metric("curve_ae_to_pca_mse_ratio", curve_ae_mse / curve_pca_mse, "curve: nonlinear AE MSE / 1-component PCA MSE");
    L.metric("curve_ae_mse", curve_ae_mse, "curve: nonlinear AE reconstruction MSE");
    L.metric("curve_pca_mse", curve_pca_mse, "curve: PCA reconstruction MSE");
  });
}
