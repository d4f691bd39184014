// Coursework example: train the orthogonal linear autoencoder (orthogonal_autoencoder.hpp) beside the plain one
// and PCA, and write a figure and metrics.json with the lesson support, as the lessons do.
//   ./orthogonal_ae [--quick] [--epochs N] [--lambda X] [--out DIR] [--data-dir DIR]
#include <cmath>

#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"
#include "orthogonal_autoencoder.hpp"

using namespace lessons;

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "orthogonal_ae";
  spec.title = "Coursework: an orthogonal linear autoencoder against PCA";
  spec.summary = "A linear autoencoder with M = 16 on centred MNIST, with and without the penalty λ‖W2ᵀ W2 − I‖²_F "
                 "on its encoder, against PCA with 16 components.";
  spec.slides = "004 \"Si activaciones lineales y L error cuadrático medio → f(x) describe el mismo subespacio que PCA\"";
  spec.epochs = 10;
  spec.lr = 10.0;  // SGD with momentum on the per-pixel MSE, as lesson 02
  spec.flags = {{"--lambda", "X", "weight of the orthogonality penalty (the MSE is per pixel, so about 1/784)", "0.001"}};
  spec.metrics = {"test_mse_orthogonal", "test_mse_plain", "test_mse_pca", "orthogonality_error_orthogonal",
                  "orthogonality_error_plain", "mean_angle_to_pca_deg_orthogonal"};
  return run(argc, argv, spec, [](Lesson& L) {
    const std::size_t m = 16;
    const double lambda = std::stod(L.flag("--lambda"));
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    ae::PCA pca;
    pca.fit(train.images);
    const Tensor train_c = ad::sub(train.images, pca.mean()), test_c = ad::sub(test.images, pca.mean());
    const Tensor pca_basis = ad::transpose(pca.components(m));  // [784, m]

    std::vector<double> epochs_axis;
    std::map<std::string, std::vector<double>> curves;
    std::vector<GridRow> rows_shown{{"PCA axes", pca.components(m), GridRow::Scale::Signed}};
    for (double l : {lambda, 0.0}) {
      const std::string name = l > 0 ? "orthogonal" : "plain";
      ad::Generator gen(L.options().seed), order(L.options().seed + 1);
      OrthogonalAutoencoder model(OrthogonalOptions().code(m).lambda(l), gen);
      nn::DataLoader loader(train_c, train.labels, L.options().batch, order);
      nn::SGD sgd(model.named_parameters(), L.options().lr, 0.9);
      nn::WarmupDecayLR schedule(sgd, 300, L.epochs() * loader.num_batches());
      ae::Callbacks record;
      record.on_batch = [&](std::size_t, std::size_t, std::size_t, double) { schedule.step(); };
      record.on_epoch = [&](const ae::EpochStats& s) {
        if (l > 0) epochs_axis.push_back(static_cast<double>(s.epoch));
        curves[name].push_back(model.orthogonality_error());
      };
      ae::fit(model, loader, sgd, L.epochs(), L.progress(name, record));
      model.eval();
      const Tensor rec = ae::map_batches(test_c, [&](const Tensor& x) { return model.reconstruct(x); });
      L.metric("test_mse_" + name, ae::mean_squared_error(rec, test_c), "test MSE per pixel, centred digits");
      L.metric("orthogonality_error_" + name, model.orthogonality_error(), "‖W2ᵀ W2 − I‖_F after training (0: orthonormal decoder columns)");
      const auto angles = ae::principal_angles_degrees(model.decoder_filters(), pca_basis);
      double mean_angle = 0;
      for (double a : angles) mean_angle += a / static_cast<double>(angles.size());
      L.metric("mean_angle_to_pca_deg_" + name, mean_angle, "mean principal angle between the decoder's columns and PCA's 16 axes "
               "(the largest ones are slow: PCA's 16th and 17th variances are almost tied)");
      rows_shown.push_back({name + " decoder columns", ad::transpose(model.decoder_filters()), GridRow::Scale::Signed});
      if (l > 0) L.save_model(model, "orthogonal_ae.npz", "the orthogonal linear autoencoder");
    }
    L.metric("test_mse_pca", ae::mean_squared_error(pca.reconstruct(test.images, m), test.images), "PCA with 16 components: the floor");

    Plot p("Orthogonality of the decoder during training", "epoch", "‖W2ᵀ W2 − I‖_F");
    for (const auto& [name, curve] : curves) p.line(name, epochs_axis, curve);
    p.log_y();
    L.plot("orthogonality", p, "‖W2ᵀ W2 − I‖_F per epoch, with and without the penalty", L.spec().slides,
           "With the penalty the decoder's columns become orthonormal; without it they stay a mix of PCA's axes.");
    L.grid("encoder_rows", rows_shown, "PCA's axes, then each autoencoder's decoder columns as 28×28 images", L.spec().slides,
           "Same subspace, different bases: neither autoencoder orders its axes by variance as PCA does.");
  });
}
