// Lesson 01: the basic (undercomplete) autoencoder and compression.
//   h = enc(x) = f(W1 x),  x' = dec(h) = g(W2 h),  E = Σ_μ ‖ξ_μ − dec(enc(ξ_μ))‖²     — slides 004 "AUTOENCODER BÁSICO"
//   L(x, x') = (1/n) Σ (x − x')²                                                    — slides 003 "Arquitetura"
// A shallow autoencoder for each code size M, against PCA with M components: the test error, the PSNR and the
// compression ratio N/M; and the reconstructions at M = 32.
#include <cmath>

#include "autoencoders/autoencoder.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"

using namespace lessons;

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "01_undercomplete";
  spec.title = "The undercomplete autoencoder and compression";
  spec.summary =
      "A shallow autoencoder h = f(W1 x), x' = g(W2 h) squeezes each 784-pixel image through a code of M numbers "
      "(M < N: undercomplete) and learns, by minimising the mean squared reconstruction error, what to keep. "
      "It is trained for every M in {2, 4, 8, 16, 32, 64, 128} and compared with PCA keeping M components, the best "
      "*linear* code of that size. Encoder: a linear code h = W1 x + b1; decoder: x' = σ(W2 h + b2), so the only "
      "nonlinearity is the decoder's squashing into [0, 1], the range of the pixels. (Sigmoid codes train slowly and "
      "ReLU codes lose units at small M; try them with the code in lessons/01_undercomplete.cpp.)";
  spec.slides = "004 \"AUTOENCODER BÁSICO\", \"Compresión de imágenes por encoder/decoder\"; 003 \"Arquitetura\" (the MSE); "
                "001 \"Original data / Reconstruction\"";
  spec.epochs = 10;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.metrics = {"ae_test_mse", "pca_test_mse", "ae_test_psnr"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    L.say("PCA on " + std::to_string(train.size()) + " training images");
    ae::PCA pca;
    pca.fit(train.images);

    const std::vector<std::size_t> code_sizes{2, 4, 8, 16, 32, 64, 128};
    const std::size_t focus = 32;
    std::vector<double> ae_mse, pca_mse, ms;
    std::vector<double> train_curve, test_curve, epochs_axis;
    std::map<std::size_t, Tensor> recon_by_m;
    const auto shown = first_of_each_class(test);
    const Tensor originals = rows(test.images, shown);
    Tensor ae_focus, pca_focus;
    for (std::size_t m : code_sizes) {
      ad::Generator gen(L.options().seed);
      // f linear, g sigmoid: the only nonlinearity is the decoder's squashing into [0, 1] pixels
      ae::Autoencoder model(ae::AutoencoderOptions()
                                .sizes({784, m})
                                .code(ae::Activation::Identity)
                                .output(ae::Activation::Sigmoid),
                            gen);
      ad::Generator order(L.options().seed + 1);
      nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
      nn::Adam adam(model.named_parameters(), L.options().lr);
      ae::Callbacks extra;
      if (m == focus)
        extra.on_epoch = [&](const ae::EpochStats& s) {
          epochs_axis.push_back(static_cast<double>(s.epoch));
          train_curve.push_back(s.term("reconstruction"));
          test_curve.push_back(ae::evaluate(model, test.images).loss());
        };
      const std::string file = "autoencoder_m" + std::to_string(m) + ".npz";
      if (!L.load_model(model, file)) ae::fit(model, loader, adam, L.epochs(), L.progress("M=" + std::to_string(m), extra));
      L.save_model(model, file, "the autoencoder with a " + std::to_string(m) + "-number code");
      model.eval();
      const Tensor rec = ae::map_batches(test.images, [&](const Tensor& x) { return model.reconstruct(x); });
      ms.push_back(static_cast<double>(m));
      ae_mse.push_back(ae::mean_squared_error(rec, test.images));
      pca_mse.push_back(ae::mean_squared_error(pca.reconstruct(test.images, m), test.images));
      L.say("  M=" + std::to_string(m) + ": test MSE autoencoder " + fmt(ae_mse.back()) + ", PCA " + fmt(pca_mse.back()));
      recon_by_m[m] = rows(rec, shown);
      if (m == focus) {
        ae_focus = recon_by_m[m];
        pca_focus = rows(pca.reconstruct(test.images, m), shown);
      }
    }

    L.grid("reconstructions",
           {{"original", originals}, {"autoencoder M=32", ae_focus}, {"PCA M=32", pca_focus}},
           "Test digits (one per class) and their reconstructions from a 32-number code",
           "004 \"Compresión de imágenes por encoder/decoder\"; 001 \"Original data / Reconstruction\"",
           "784 pixels pass through 32 numbers (24.5:1). The reconstructions are recognisable but smoothed: the "
           "autoencoder is lossy (000 \"lossy\"). PCA's are blurrier and carry faint ghosts of other digits, since a "
           "linear code must share its axes between all classes.");
    std::vector<GridRow> by_m{{"original", originals}};
    for (std::size_t m : {2, 8, 32, 128}) by_m.push_back({"M=" + std::to_string(m), recon_by_m[m]});
    L.grid("reconstructions_by_code_size", by_m, "Autoencoder reconstructions as the code grows",
           "004 \"Impone una restricción (cuello de botella) que fuerza al sistema a producir una representación comprimida\"",
           "With M = 2 only the rough shape of a few prototypes survives; each doubling of the bottleneck buys detail.");

    L.plot("loss_curves",
           Plot("Autoencoder M=32: reconstruction error per epoch", "epoch", "MSE per pixel")
               .line("train", epochs_axis, train_curve)
               .line("test", epochs_axis, test_curve),
           "Training and test error per epoch (M = 32)", "003 \"Arquitetura\" (minimising L(x, x') by backpropagation)",
           "Both curves fall together: an undercomplete code generalises, the test error stays close to the training error. "
           "(The training error is the mean over each epoch's batches while the weights were still moving, so it sits "
           "slightly above the test error measured at the end of the epoch.)");
    std::string ratios = "set x2tics (";
    for (std::size_t i = 0; i < code_sizes.size(); ++i)
      ratios += (i ? ", " : "") + std::string("'") + fmt(784.0 / static_cast<double>(code_sizes[i]), 3) + ":1' " + std::to_string(code_sizes[i]);
    ratios += ")";
    L.plot("error_vs_code_size",
           Plot("Test error against code size (top axis: compression ratio N/M)", "code size M", "test MSE per pixel")
               .line("autoencoder", ms, ae_mse)
               .line("PCA", ms, pca_mse)
               .log_x()
               .log_y()
               .command("set logscale x2 2")
               .command("set xrange [1.6:160]")
               .command("set x2range [1.6:160]")
               .command(ratios),
           "Test MSE against code size M, autoencoder and PCA", "004 \"AUTOENCODER BÁSICO\" (M ≪ N); 002 \"Lower-dimension representation\"",
           "The error falls as M grows, for both. At small and middle M the nonlinear autoencoder beats the best "
           "linear code of the same size (\"better at learning non-linear features comparing to PCA\", slides 002).");
    std::vector<double> ae_psnr, pca_psnr;
    for (std::size_t i = 0; i < ms.size(); ++i) {
      ae_psnr.push_back(psnr_from_mse(ae_mse[i]));
      pca_psnr.push_back(psnr_from_mse(pca_mse[i]));
    }
    L.plot("psnr_vs_code_size",
           Plot("Test PSNR against code size", "code size M", "PSNR (dB), 10 log10(1/MSE)")
               .line("autoencoder", ms, ae_psnr)
               .line("PCA", ms, pca_psnr)
               .log_x(),
           "Test PSNR against code size M", "004 \"Compresión de imágenes por encoder/decoder\"",
           "PSNR is the image-compression view of the same numbers: higher is better; each doubling of M adds a few dB.");
    std::vector<std::vector<std::string>> table;
    for (std::size_t i = 0; i < ms.size(); ++i)
      table.push_back({fmt(ms[i], 4), fmt(784.0 / ms[i], 4), fmt(ae_mse[i], 6), fmt(pca_mse[i], 6), fmt(ae_psnr[i], 4), fmt(pca_psnr[i], 4)});
    L.csv("code_size_table", "M,compression_ratio,ae_test_mse,pca_test_mse,ae_test_psnr_db,pca_test_psnr_db", table,
          "test error and PSNR for every code size");

    const std::size_t at = 4;  // M = 32
    L.metric("ae_test_mse", ae_mse[at], "autoencoder test MSE per pixel at M=32");
    L.metric("pca_test_mse", pca_mse[at], "PCA test MSE per pixel at M=32");
    L.metric("ae_test_psnr", ae_psnr[at], "autoencoder test PSNR (dB) at M=32");
    L.metric("pca_test_psnr", pca_psnr[at], "PCA test PSNR (dB) at M=32");
    for (std::size_t i = 0; i < ms.size(); ++i) {
      L.metric("ae_test_mse_M" + std::to_string(code_sizes[i]), ae_mse[i], "autoencoder test MSE at this code size");
      L.metric("pca_test_mse_M" + std::to_string(code_sizes[i]), pca_mse[i], "PCA test MSE at this code size");
    }
  });
}
