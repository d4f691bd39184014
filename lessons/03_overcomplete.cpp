// Lesson 03: the overcomplete autoencoder and the identity trap.
//   "Undercomplete: dim(z) ≤ dim(x) / Overcomplete: dim(z) ≥ dim(x) ... é importante controlar a complexidade do
//   modelo"  — slides 003; "if the model is too good => autoencoder = identity function => cannot learn anything"
//   — slides 002; "Un autoencoder è data-specific"  — slides 000
// 784 → 64 against 784 → 1024, no regularisation, ReLU codes and a linear output (so the identity is within
// reach). Both reconstruct digits; shown things that are not digits, the overcomplete one copies them, the
// undercomplete one pulls them toward digits.
#include "autoencoders/autoencoder.hpp"
#include "lessons/support.hpp"

using namespace lessons;

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "03_overcomplete";
  spec.title = "Overcomplete autoencoders and the identity trap";
  spec.summary =
      "An autoencoder with more code units than pixels (784 → 1024, overcomplete) and no regularisation can get "
      "close to the identity function: it reconstructs its training digits very well, but it reconstructs "
      "*anything* well, so its code has learned little about digits. An undercomplete one (784 → 64) must keep "
      "only what digits have in common, and it turns whatever it is shown into something digit-like. Both are "
      "trained on MNIST only, with ReLU codes and a linear output, then shown noise, Fashion-MNIST items and "
      "inverted digits.";
  spec.slides = "003 \"Undercomplete / Overcomplete\"; 002 \"if the model is too good => autoencoder = identity function\"; "
                "000 \"data-specific\"";
  spec.epochs = 10;
  spec.batch = 128;
  spec.lr = 1e-3;
  spec.datasets = false;
  spec.metrics = {"nondigit_mse_overcomplete", "nondigit_mse_undercomplete", "digit_mse_overcomplete",
                  "digit_mse_undercomplete"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    struct Trained {
      std::string name;
      std::unique_ptr<ae::Autoencoder> model;
    };
    std::vector<Trained> models;
    for (std::size_t code : {1024, 64}) {
      ad::Generator gen(L.options().seed);
      auto model = std::make_unique<ae::Autoencoder>(ae::AutoencoderOptions()
                                                         .sizes({784, code})
                                                         .code(ae::Activation::ReLU)
                                                         .output(ae::Activation::Identity),
                                                     gen);
      ad::Generator order(L.options().seed + 1);
      nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
      nn::Adam adam(model->named_parameters(), L.options().lr);
      const std::string file = code == 1024 ? "overcomplete_1024.npz" : "undercomplete_64.npz";
      if (!L.load_model(*model, file)) ae::fit(*model, loader, adam, L.epochs(), L.progress("784-" + std::to_string(code)));
      model->eval();
      L.save_model(*model, file, code == 1024 ? "the overcomplete 784-1024 autoencoder" : "the undercomplete 784-64 autoencoder");
      models.push_back({code == 1024 ? "overcomplete 1024" : "undercomplete 64", std::move(model)});
    }

    // Inputs that are not digits. The noise fills the central 20×20 pixels, where digits live: MNIST's border
    // pixels are always 0, so no model trained on it ever gets a gradient to copy them.
    const std::size_t k = std::min<std::size_t>(500, test.size());
    ad::Generator noise_gen(L.options().seed + 2);
    Tensor noise = Tensor::zeros({k, 784});
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t r = 4; r < 24; ++r)
        for (std::size_t c = 4; c < 24; ++c) noise.value()(i, r * 28 + c) = static_cast<float>(noise_gen.uniform());
    L.note("The noise images fill the central 20×20 pixels with uniform noise and leave the border black: MNIST's "
           "border pixels are always 0, so no autoencoder trained on it ever receives a gradient that would teach it "
           "to copy them. Noise over the whole frame is copied by neither model at the border.");
    const nn::Dataset fashion = L.load("fashion", nn::Split::Test);
    const Tensor digits = ad::slice(test.images, 0, 0, k);
    const std::vector<std::pair<std::string, Tensor>> inputs = {
        {"digits", digits},
        {"noise", noise},
        {"fashion", ad::slice(fashion.images, 0, 0, std::min(k, fashion.size()))},
        {"inverted digits", ad::rsub(1.0f, digits)}};

    std::vector<GridRow> grid;
    std::vector<double> over_mse, under_mse;
    const std::vector<std::size_t> shown{0, 1, 2, 3, 4, 5, 6, 7};
    for (const auto& [name, x] : inputs) {
      grid.push_back({name, rows(x, shown)});
      for (auto& t : models) {
        const Tensor rec = ae::map_batches(x, [&](const Tensor& b) { return t.model->reconstruct(b); });
        (t.name[0] == 'o' ? over_mse : under_mse).push_back(ae::mean_squared_error(rec, x));
        grid.push_back({t.name.substr(0, t.name.find(' ')) == "overcomplete" ? "  -> 1024" : "  -> 64", rows(rec, shown)});
      }
      L.say(name + ": MSE overcomplete " + fmt(over_mse.back()) + ", undercomplete " + fmt(under_mse.back()));
    }
    L.grid("identity_trap", grid, "Inputs (digits, then three kinds of non-digits) and their reconstructions by both models",
           "002 \"if the model is too good => autoencoder = identity function\"; 003 \"Undercomplete / Overcomplete\"",
           "Under each input row: the overcomplete model's reconstruction (-> 1024), then the undercomplete one's "
           "(-> 64). On digits both do well. On noise, clothes and inverted digits the overcomplete model copies "
           "what it is shown; the undercomplete one answers with blurry digit-like strokes: it only knows digits "
           "(\"data-specific\", slides 000).");
    std::vector<std::string> names;
    for (auto& [name, x] : inputs) names.push_back(name);
    L.plot("mse_by_input",
           Plot("Reconstruction error by kind of input", "", "MSE per pixel")
               .bars(names, {{"overcomplete 784-1024", over_mse}, {"undercomplete 784-64", under_mse}})
               .log_y(),
           "Reconstruction error of both models on digits and on three kinds of non-digits",
           "002 \"Only copy approximately, and only copy input that resembles the training data\"",
           "The overcomplete model's error is low everywhere, a sign it copies rather than understands. The "
           "undercomplete model is good only on digits: its bottleneck forced it to learn what digits are.");
    const double over_nondigit = (over_mse[1] + over_mse[2] + over_mse[3]) / 3, under_nondigit = (under_mse[1] + under_mse[2] + under_mse[3]) / 3;
    L.metric("nondigit_mse_overcomplete", over_nondigit, "784-1024: mean MSE over noise, Fashion items and inverted digits");
    L.metric("nondigit_mse_undercomplete", under_nondigit, "784-64: mean MSE over the same non-digits");
    L.metric("digit_mse_overcomplete", over_mse[0], "784-1024: test-digit MSE");
    L.metric("digit_mse_undercomplete", under_mse[0], "784-64: test-digit MSE");
    for (std::size_t i = 1; i < names.size(); ++i) {
      std::string key = names[i];
      std::replace(key.begin(), key.end(), ' ', '_');
      L.metric(key + "_mse_overcomplete", over_mse[i], "784-1024 on " + names[i]);
      L.metric(key + "_mse_undercomplete", under_mse[i], "784-64 on " + names[i]);
    }
  });
}
