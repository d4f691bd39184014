// Lesson 09: the convolutional autoencoder.
//   Encoder: Convolution + Leaky ReLU + Batch normalization;  Decoder: Convolution transpose + Leaky ReLU + Batch
//   normalization  — slides 001 "Deep Convolutional Autoencoder"; 000 "Autoencoder Convolutivo"
//   L(x, x') = (1/n) Σ (x − x')²                                               — slides 003 "Arquitetura"
// The conv AE (ae::ConvAutoencoder: two stride-2 3×3 convolutions, 28 → 14 → 7, then a linear code) against a
// fully connected AE with the same code size and about twice its parameters, both trained the same way: the
// convolutions share each 3×3 kernel over the whole image, so they buy a lower error with fewer weights.
// Figures: reconstructions of both, the first layer's kernels, one digit's feature maps through the encoder, and
// the loss curves of both.
#include <cmath>

#include "autoencoders/autoencoder.hpp"
#include "autoencoders/convolutional.hpp"
#include "lessons/support.hpp"
#include "nn/losses.hpp"

using namespace lessons;

namespace {

// [k, side²] images, each pixel repeated factor × factor times: small kernels and feature maps shown enlarged,
// their pixels kept as they are.
Tensor enlarge(const Tensor& images, std::size_t side, std::size_t factor) {
  const std::size_t k = images.size(0), big = side * factor;
  Tensor out = Tensor::zeros({k, big * big});
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t y = 0; y < big; ++y)
      for (std::size_t x = 0; x < big; ++x)
        out.value()(i, y * big + x) = images.value()(i, (y / factor) * side + x / factor);
  return out;
}

// Channels [1, C, s, s] of one image as C images [C, s²].
Tensor channels_as_images(const Tensor& maps) {
  return ad::reshape(maps, {maps.size(1), maps.size(2) * maps.size(3)});
}

struct Curves {
  std::vector<double> epoch, train, test;
};

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "09_convolutional";
  spec.title = "The convolutional autoencoder";
  spec.summary =
      "A convolutional autoencoder keeps the image two-dimensional: each layer slides small 3×3 kernels over the "
      "image, so one kernel's 9 weights serve every position, and a stroke is detected the same way wherever it is. "
      "The encoder is the slide's deep convolutional autoencoder: two stride-2 convolutions (28×28 → 16 maps of "
      "14×14 → 32 maps of 7×7), each followed by batch normalisation and a leaky ReLU, then a linear layer to the "
      "code; the decoder mirrors it with transposed convolutions and ends in a sigmoid. It is compared with a fully "
      "connected (MLP) autoencoder with the same code size, trained the same way, which is given about twice as "
      "many parameters: the convolutional one reconstructs better with fewer weights.";
  spec.slides = "001 \"Deep Convolutional Autoencoder\"; 000 \"Autoencoder Convolutivo\"; 003 \"Arquitetura\" (the MSE)";
  spec.epochs = 15;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.quick_epochs = 8;
  spec.metrics = {"conv_test_mse", "mlp_test_mse", "conv_params", "mlp_params"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::size_t code = 32;  // as the Keras blog's 784-32-784 AE, the BCE anchor (the library's reference conv AE has 16)
    const std::uint64_t seed = L.options().seed;

    // The slide's conv AE: Conv(1→16, 3×3, stride 2) + BatchNorm + LeakyReLU(0.2), Conv(16→32) + BatchNorm +
    // LeakyReLU, Linear(32·7·7 → code); the decoder mirrors it with ConvTranspose2d.
    ad::Generator conv_gen(seed);
    ae::ConvAutoencoder conv(ae::ConvOptions().channels({16, 32}).code(code).negative_slope(0.2), conv_gen);
    // The MLP AE with the same code: 784 → 128 → code → 128 → 784, the same leaky ReLU between layers, the same
    // linear code and sigmoid output as the conv AE, and about twice its parameters.
    ad::Generator mlp_gen(seed + 1);
    ae::Autoencoder mlp(ae::AutoencoderOptions()
                            .sizes({784, 128, code})
                            .hidden(ae::Activation::LeakyReLU)
                            .code(ae::Activation::Identity)
                            .output(ae::Activation::Sigmoid),
                        mlp_gen);

    // The same training for both: MSE per pixel, Adam, the same batches in the same order, the same epochs.
    // --load: FILE's weights instead of training (the curves stay empty).
    auto train_model = [&](ae::AutoencoderModel& model, const std::string& name, const std::string& file, Curves& curves) {
      ad::Generator order(seed + 2);
      nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
      nn::Adam adam(model.named_parameters(), L.options().lr);
      ae::Callbacks extra;
      extra.on_epoch = [&](const ae::EpochStats& s) {
        curves.epoch.push_back(static_cast<double>(s.epoch));
        curves.train.push_back(s.term("reconstruction"));
        curves.test.push_back(ae::evaluate(model, test.images).loss());
      };
      if (!L.load_model(model, file)) ae::fit(model, loader, adam, L.epochs(), L.progress(name, extra));
      model.eval();
    };
    // The first layer's 16 kernels [16, 1, 3, 3] as 16 rows of 9 weights, before training and after.
    auto first_kernels = [&conv] {
      const Tensor& w = conv.convs[0]->weight;
      return ad::reshape(w.detach(), {w.size(0), w.numel() / w.size(0)});
    };
    const Tensor kernels_at_init = first_kernels();
    Curves conv_curves, mlp_curves;
    train_model(conv, "conv AE", "conv_autoencoder.npz", conv_curves);
    train_model(mlp, "MLP AE", "mlp_autoencoder.npz", mlp_curves);
    L.save_model(conv, "conv_autoencoder.npz", "the convolutional autoencoder");
    L.save_model(mlp, "mlp_autoencoder.npz", "the MLP autoencoder with the same code size");

    // Test errors: the MSE both were trained on, and the per-pixel BCE (the Keras blog's measure) beside it.
    struct Result {
      Tensor reconstruction;
      double mse, bce;
      std::size_t params;
    };
    auto measure = [&](ae::AutoencoderModel& model) {
      Result r;
      r.reconstruction = ae::map_batches(test.images, [&](const Tensor& x) { return model.reconstruct(x); });
      r.mse = ae::mean_squared_error(r.reconstruction, test.images);
      ad::NoGradGuard no_grad;
      r.bce = nn::bce_loss(r.reconstruction, test.images).item();
      r.params = model.parameter_count();
      return r;
    };
    const Result c = measure(conv), m = measure(mlp);
    L.say("conv AE: " + std::to_string(c.params) + " parameters, test MSE " + fmt(c.mse) + ", BCE " + fmt(c.bce));
    L.say("MLP AE:  " + std::to_string(m.params) + " parameters, test MSE " + fmt(m.mse) + ", BCE " + fmt(m.bce));

    const auto shown = first_of_each_class(test);
    L.grid("reconstructions",
           {{"original", rows(test.images, shown)},
            {"conv AE", rows(c.reconstruction, shown)},
            {"MLP AE", rows(m.reconstruction, shown)}},
           "Test digits (one per class) and their reconstructions from a " + std::to_string(code) + "-number code: conv AE (" +
               std::to_string(c.params) + " parameters) and MLP AE (" + std::to_string(m.params) + " parameters)",
           "000 \"Autoencoder Convolutivo\"; 001 \"Deep Convolutional Autoencoder\"",
           "Both squeeze the digit through the same " + std::to_string(code) + " numbers. The conv AE's strokes are "
           "sharper and keep their ends and loops; the MLP AE's are blurrier, although it has about twice the "
           "weights.");

    // The first layer's 16 kernels, 3×3 each, enlarged 9×: grey is 0, white positive, black negative. How far
    // training moved them: ‖W − W₀‖ / ‖W₀‖ over all 144 weights; and, kernel by kernel, the cosine between W_j and
    // its start W0_j (its pattern, whatever its length: the BatchNorm after the convolution undoes any scale).
    const Tensor kernels = first_kernels();
    const std::size_t n_kernels = kernels.size(0), taps = kernels.size(1);
    double moved = 0, start = 0, cosine = 0;
    for (std::size_t j = 0; j < n_kernels; ++j) {
      double dot = 0, ww = 0, w0w0 = 0;
      for (std::size_t t = 0; t < taps; ++t) {
        const double w = kernels.value()(j, t), w0 = kernels_at_init.value()(j, t);
        moved += (w - w0) * (w - w0);
        start += w0 * w0;
        dot += w * w0;
        ww += w * w;
        w0w0 += w0 * w0;
      }
      cosine += dot / std::sqrt(ww * w0w0) / static_cast<double>(n_kernels);
    }
    const double kernel_change = std::sqrt(moved / start);
    L.grid("first_layer_kernels",
           {{"at initialisation", enlarge(kernels_at_init, 3, 9), GridRow::Scale::Signed},
            {"trained", enlarge(kernels, 3, 9), GridRow::Scale::Signed}},
           "The conv AE's 16 first-layer kernels (3×3, enlarged), drawn at random before training and after it "
           "(grey 0, white positive, black negative, each scaled to its own largest |weight|)",
           "001 \"Deep Convolutional Autoencoder\" (\"Convolutional layers\")",
           "Each kernel is 9 weights slid over the whole image (with stride 2), the same detector at every position; "
           "an MLP's first layer instead needs a full 784-weight image per unit. They are not clean textbook filters, "
           "but three kinds can be told apart: kernels of mostly one sign (ink or background detectors: block 1 of "
           "feature_maps.png shows the digit bright on dark, or dark on bright, through them), a light side against a "
           "dark side (edge detectors, top against bottom or left against right), and a centre against its surround "
           "(thin strokes). Training reshaped the random start (kernel_change ‖W − W₀‖/‖W₀‖ = " + fmt(kernel_change, 2) +
               ", mean cosine to the start " + fmt(cosine, 2) + "), but kept much of it: nine weights leave little "
           "room, and the BatchNorm after the convolution undoes each kernel's scale. Kernel j makes map "
           "j in block 1 of feature_maps.png.",
           27);

    // One digit through the encoder: the input, the 16 maps of block 1 (14×14), the 32 maps of block 2 (7×7).
    const std::size_t digit = shown[2];
    const Tensor x = rows(test.images, {digit});
    Tensor block1, block2;
    {
      ad::NoGradGuard no_grad;
      block1 = channels_as_images(conv.feature_maps(x, 1));
      block2 = channels_as_images(conv.feature_maps(x, 2));
    }
    L.grid("feature_maps",
           {{"input 28x28", x},
            {"block 1: 14x14", enlarge(block1, 14, 2), GridRow::Scale::PerImage},
            {"block 2: 7x7, 1-16", enlarge(ad::slice(block2, 0, 0, 16), 7, 4), GridRow::Scale::PerImage},
            {"block 2: 7x7, 17-32", enlarge(ad::slice(block2, 0, 16, 32), 7, 4), GridRow::Scale::PerImage}},
           "One test digit through the conv AE's encoder: the 16 feature maps after block 1 (Conv + BatchNorm + "
           "LeakyReLU, 14×14) and the 32 after block 2 (7×7), each enlarged to the input's size and scaled to its "
           "own range",
           "001 \"Deep Convolutional Autoencoder\" (\"Encoder: Convolution + Leaky Relu + Batch normalization\")",
           "Block 1's maps are still recognisably the digit, seen through 16 different detectors: some show the whole "
           "stroke, bright on dark or dark on bright, others mainly one side of it (its upper or its lower edges). "
           "Block 2's maps are coarser (7×7, a quarter of the resolution in each direction) and more abstract: each "
           "marks some parts of the shape more than others (the top arc, the diagonal, the base). The linear layer "
           "then reads these 32·7·7 = 1568 numbers into the code.");

    L.plot("loss_curves",
           Plot("Conv AE and MLP AE: reconstruction error per epoch", "epoch", "MSE per pixel")
               .line("conv AE, train", conv_curves.epoch, conv_curves.train)
               .line("conv AE, test", conv_curves.epoch, conv_curves.test)
               .line("MLP AE, train", mlp_curves.epoch, mlp_curves.train)
               .line("MLP AE, test", mlp_curves.epoch, mlp_curves.test)
               .log_y()
               .command("set linetype 1 lc rgb '#1f5fa8' dt 2")  // conv: blue; train dashed, test solid
               .command("set linetype 2 lc rgb '#1f5fa8' dt 1")
               .command("set linetype 3 lc rgb '#d9730d' dt 2")  // MLP: orange
               .command("set linetype 4 lc rgb '#d9730d' dt 1"),
           "Training and test MSE per pixel per epoch, both models",
           "003 \"Arquitetura\" (minimising L(x, x') by backpropagation)",
           "The conv AE's curves lie below the MLP AE's from the first epoch on, and the gap stays; both are still "
           "falling slowly at the end. The conv AE's test error wobbles by a few percent from epoch to epoch (BatchNorm "
           "evaluates with running averages of the batch statistics). Each training "
           "point is the mean over its epoch's batches while the weights were still moving, so in the first epochs it "
           "sits above the test point measured at the end of the epoch; later the two meet: neither model overfits "
           "in these epochs.");
    std::vector<std::vector<std::string>> table;
    for (std::size_t i = 0; i < conv_curves.epoch.size(); ++i)
      table.push_back({fmt(conv_curves.epoch[i], 3), fmt(conv_curves.train[i], 6), fmt(conv_curves.test[i], 6),
                       fmt(mlp_curves.train[i], 6), fmt(mlp_curves.test[i], 6)});
    if (!L.loaded())  // --load: no training, no curves
      L.csv("epochs", "epoch,conv_train_mse,conv_test_mse,mlp_train_mse,mlp_test_mse", table,
            "training and test MSE per pixel per epoch, both models");

    const std::string budget = std::to_string(L.epochs()) + " epochs, Adam lr " + fmt(L.options().lr, 3) + ", batch " +
                               std::to_string(L.options().batch) + ", trained on MSE";
    L.metric("conv_test_mse", c.mse,
             "conv AE (channels 16, 32; code " + std::to_string(code) + "), test MSE per pixel; reference: the MLP AE "
             "of this run, mlp_test_mse (" + budget + ")");
    L.metric("mlp_test_mse", m.mse,
             "MLP AE 784-128-" + std::to_string(code) + "-128-784 (LeakyReLU, linear code, sigmoid output), test MSE "
             "per pixel, the baseline of this run (" + budget + ")");
    L.metric("conv_params", static_cast<double>(c.params), "conv AE, number of trained parameters (weights, biases, BatchNorm scales and shifts)");
    L.metric("mlp_params", static_cast<double>(m.params), "MLP AE, number of trained parameters (weights and biases)");
    L.metric("conv_test_bce", c.bce,
             "conv AE, test BCE per pixel (nats; measured, not trained on); reference: about 0.094 for the Keras "
             "blog's conv AE with a 128-number code trained on BCE for 50 epochs (\"Building Autoencoders in Keras\")");
    L.metric("mlp_test_bce", m.bce,
             "MLP AE, test BCE per pixel (nats; measured, not trained on); reference: about 0.09 (Adam) to 0.11 "
             "(Adadelta) for the Keras blog's 784-32-784 AE trained on BCE for 50 epochs");
    L.metric("conv_test_psnr", psnr_from_mse(c.mse), "conv AE, test PSNR (dB), 10 log10(1/MSE)");
    L.metric("mlp_test_psnr", psnr_from_mse(m.mse), "MLP AE, test PSNR (dB), 10 log10(1/MSE)");
    L.metric("kernel_change", kernel_change,
             "how far training moved the first layer's kernels from their random start, ‖W − W₀‖ / ‖W₀‖");
    L.metric("kernel_cosine_to_init", cosine,
             "first-layer kernels: mean over the 16 of the cosine between the trained kernel and its random start "
             "(1: the same pattern, 0: unrelated)");
    L.metric("code_size", static_cast<double>(code), "numbers in the code of both models");
    L.note("How the comparison is kept fair: both models have the same code size (" + std::to_string(code) +
           " numbers), the same activations where they have the same layers (leaky ReLU with slope 0.2 between "
           "layers, a linear code, a sigmoid output), the same loss (MSE per pixel), optimizer, learning rate, batch "
           "size, number of epochs and order of batches. The MLP AE gets the larger parameter budget (" +
           std::to_string(m.params) + " against " + std::to_string(c.params) + "), so the conv AE's lower error does "
           "not come from more weights. It does come from more arithmetic: each 3×3 kernel is applied at every "
           "position, so the conv AE spends a few times the MLP AE's multiply-adds per image and trains several times "
           "slower per epoch. Given the conv AE's training time instead of its number of epochs, the MLP AE still "
           "does not catch up: trained alone for 100 epochs (seed 1, the rest as here; about the conv AE's 15 epochs "
           "in CPU time) it reached a test MSE of 0.00484, against the conv AE's 0.00454 after 15 (measured while "
           "writing this lesson).");
    L.note("The per-pixel BCE is the Keras blog's measure; the settings differ: its models were trained on BCE "
           "(these on MSE) for 50 epochs (these for " + std::to_string(L.epochs()) + "), its conv AE has a 128-number "
           "code (this one " + std::to_string(code) + ", chosen to match the blog's simple AE), and its simple AE is 784-32-784 with a ReLU code. MNIST's "
           "grey edge pixels put a floor under the BCE (it is not 0 even for a perfect reconstruction), so these "
           "numbers are compared with each other and with the blog's, not with 0.");
  });
}
