// Lesson 05: the denoising autoencoder.
//   Corromper la entrada ξ obteniendo ξ' mediante un mapeo estocástico R(ξ'|ξ);  h = f_θ(ξ');  x' = g_θ'(h);
//   minimizar la diferencia entre x' y la entrada original sin ruido ξ          — slides 004 "DENOISING AUTOENCODERS"
//   "Perda é computada levando em consideração o input original não o input ruidoso"  — slides 003 "Denoising autoencoder"
//   "Corrupted image / Predicted image"  — slides 002;  "Ripulire dati da un eccessivo rumore"  — slides 000
// One plain autoencoder (trained on clean digits) and one denoising autoencoder per corruption R — Gaussian noise
// clipped to [0, 1], masking, salt-and-pepper — all with the same architecture and initial weights. Each is shown
// corrupted test digits and judged by its PSNR against the CLEAN digits, 10 log10(1 / MSE) in dB.
#include "autoencoders/denoising.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

// One corruption R(ξ'|ξ): the level its denoising autoencoder trains at, and the levels the test sweeps.
struct Setting {
  ae::Corruption kind;
  std::string name;    // as the README says it
  std::string key;     // in file and metric names
  std::string symbol;  // the level's letter in figures (ASCII): sigma, nu, p
  std::string greek;   // and in the README: σ, ν, p
  double train_level;
  std::vector<double> levels;
};

// What one corruption did to the test set: PSNR (dB, against the clean digits) at every level, and the example
// digits at the training level.
struct Sweep {
  std::vector<double> noisy, plain, dae;
  Tensor corrupted, by_plain, by_dae;
};

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "05_denoising";
  spec.title = "The denoising autoencoder";
  spec.summary =
      "A denoising autoencoder is shown a corrupted digit ξ' ~ R(ξ'|ξ) and trained to reconstruct the clean one ξ: "
      "the loss is taken against the original input, not the noisy one. To do that it must learn what digits look "
      "like, not copy its input. Three corruptions R are tried: Gaussian noise (ξ' = clip(ξ + σε, 0, 1)), masking "
      "(each pixel set to 0 with probability ν) and salt-and-pepper (each pixel set to 0 or 1 with probability p). "
      "For each, a denoising autoencoder (DAE) trained at one noise level is compared with a plain autoencoder of "
      "the same architecture and the same initial weights trained on clean digits, and with doing nothing (the "
      "corrupted input itself). Architecture: 784 → 256 sigmoid code → 784 sigmoid output, MSE loss, Adam.";
  spec.slides = "002 \"Corrupted image / Predicted image\"; 003 \"Denoising autoencoder\"; 004 \"DENOISING AUTOENCODERS\" "
                "(R(ξ'|ξ)); 000 \"Ripulire dati da un eccessivo rumore\"";
  spec.epochs = 12;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.quick_epochs = 15;
  spec.metrics = {"psnr_noisy", "psnr_plain_ae", "psnr_dae"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::uint64_t seed = L.options().seed;
    // Masking at ν = 0.25 is Vincent et al.'s (2010) setting for MNIST; σ = 0.5 is LESSONS.md's headline.
    const std::vector<Setting> settings = {
        {ae::Corruption::Gaussian, "Gaussian", "gaussian", "sigma", "σ", 0.5, {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0}},
        {ae::Corruption::Masking, "masking", "masking", "nu", "ν", 0.25, {0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}},
        {ae::Corruption::SaltAndPepper, "salt-and-pepper", "salt_and_pepper", "p", "p", 0.2,
         {0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5}}};

    // The same architecture, initial weights (one seed) and batch order for every model: only R differs.
    const auto architecture = ae::AutoencoderOptions()
                                  .sizes({784, 256})
                                  .code(ae::Activation::Sigmoid)
                                  .output(ae::Activation::Sigmoid);
    auto train_model = [&](ae::Autoencoder& model, const std::string& name, const std::string& file) {
      ad::Generator order(seed + 1);
      nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
      nn::Adam adam(model.named_parameters(), L.options().lr);
      if (!L.load_model(model, file)) ae::fit(model, loader, adam, L.epochs(), L.progress(name));
      model.eval();
      L.save_model(model, file, name + ", 784-256 sigmoid code, sigmoid output");
    };
    ad::Generator plain_init(seed);
    ae::Autoencoder plain(architecture, plain_init);
    std::vector<std::unique_ptr<ae::DenoisingAutoencoder>> daes;
    std::vector<std::function<void()>> jobs{[&] { train_model(plain, "plain AE", "plain_ae.npz"); }};
    for (const Setting& s : settings) {
      ad::Generator init(seed);
      daes.push_back(std::make_unique<ae::DenoisingAutoencoder>(
          architecture, ae::DenoisingOptions().corruption(s.kind).level(s.train_level), init));
      jobs.push_back([&, &s = s, &dae = *daes.back()] {
        train_model(dae, "DAE " + s.key + " " + s.symbol + "=" + fmt(s.train_level, 2), "dae_" + s.key + ".npz");
      });
    }
    L.concurrently(jobs);  // the four models train side by side, one thread each

    // The test digits, corrupted once per (corruption, level) by a generator derived from the seed, and the same
    // corrupted digits shown to both models. Every PSNR is against the clean digits: 10 log10(1 / MSE), with the
    // MSE per pixel over the whole test set.
    auto reconstruct = [](ae::Autoencoder& model, const Tensor& x) {
      return ae::map_batches(x, [&](const Tensor& b) { return model.reconstruct(b); });
    };
    auto psnr = [&](const Tensor& x) { return psnr_from_mse(ae::mean_squared_error(x, test.images)); };
    const auto shown = first_of_each_class(test);
    std::vector<Sweep> sweeps(settings.size());
    std::vector<std::vector<std::string>> table;
    for (std::size_t c = 0; c < settings.size(); ++c) {
      const Setting& s = settings[c];
      Sweep& r = sweeps[c];
      for (std::size_t i = 0; i < s.levels.size(); ++i) {
        ad::Generator test_noise(seed + 1000 + 100 * c + i);
        const Tensor corrupted = ae::corrupt(test.images, s.kind, s.levels[i], test_noise);
        const Tensor by_plain = reconstruct(plain, corrupted), by_dae = reconstruct(*daes[c], corrupted);
        r.noisy.push_back(psnr(corrupted));
        r.plain.push_back(psnr(by_plain));
        r.dae.push_back(psnr(by_dae));
        table.push_back({s.key, fmt(s.levels[i], 3), fmt(r.noisy.back(), 4), fmt(r.plain.back(), 4), fmt(r.dae.back(), 4)});
        if (s.levels[i] == s.train_level) {
          r.corrupted = rows(corrupted, shown);
          r.by_plain = rows(by_plain, shown);
          r.by_dae = rows(by_dae, shown);
          const std::string suffix = c == 0 ? "" : "_" + s.key;  // the Gaussian keys are LESSONS.md's, unsuffixed
          const std::string setting =
              s.name + " " + s.greek + " = " + fmt(s.train_level, 2) + (c == 0 ? ", clipped to [0, 1]" : "");
          const std::string expected =
              c == 0   ? "; a black or white pixel gets E[clip(σε)²] = σ²/2 = 0.125, i.e. 9.0 dB, grey pixels less"
              : c == 1 ? "; MSE = ν · mean(ξ²): only the dropped ink counts"
                       : "; MSE ≈ p/2 (half the hit pixels flip to the opposite colour), i.e. about 10 dB at p = 0.2";
          L.say(s.name + " " + s.symbol + "=" + fmt(s.train_level, 2) + ": PSNR noisy " + fmt(r.noisy.back()) +
                " dB, plain AE " + fmt(r.plain.back()) + " dB, DAE " + fmt(r.dae.back()) + " dB");
          L.metric("psnr_noisy" + suffix, r.noisy.back(),
                   "dB against the clean test digits: the corrupted input itself (" + setting +
                       "), the do-nothing baseline" + expected);
          L.metric("psnr_plain_ae" + suffix, r.plain.back(),
                   "dB: the plain autoencoder (trained on clean digits) fed the same corrupted digits; reference: the "
                   "corrupted input's PSNR above (same digits, same noise)");
          L.metric("psnr_dae" + suffix, r.dae.back(),
                   "dB: the DAE trained at " + setting + ", fed the same corrupted digits; reference: the plain "
                   "autoencoder above (same architecture, initial weights and epochs)");
        }
      }
    }

    std::vector<GridRow> examples{{"clean", rows(test.images, shown)}};
    for (std::size_t c = 0; c < settings.size(); ++c) {
      const Setting& s = settings[c];
      examples.push_back({s.name + " " + s.symbol + "=" + fmt(s.train_level, 2), sweeps[c].corrupted});
      examples.push_back({"  -> DAE", sweeps[c].by_dae});
      examples.push_back({"  -> plain AE", sweeps[c].by_plain});
    }
    L.grid("denoising", examples,
           "Clean test digits (one per class), then for each corruption: the corrupted digits, the DAE's output, "
           "the plain AE's output",
           "002 \"Corrupted image / Predicted image\"; 000 \"Ripulire dati da un eccessivo rumore\"",
           "The denoising autoencoders give back clean, slightly blurred digits for all three corruptions: the "
           "Gaussian speckle and the salt grains are gone, and masking's gaps in the strokes are filled in. The "
           "plain autoencoder, which never saw noise, passes much of it through: grey speckle and a halo around the "
           "digit under Gaussian noise, dots under salt-and-pepper, broken strokes under masking. It still removes "
           "some noise, because a 256-unit code cannot copy every pixel; its PSNR sits between the noisy input's "
           "and the DAE's.");

    const std::vector<std::string> notices = {
        "One DAE, trained at the dashed level only, is evaluated at every level. Around and above its training "
        "level it is well ahead of the plain AE, which is itself ahead of the corrupted input. Its curve is flat at "
        "low noise: it answers every input with the smooth digit it learned to produce, so for nearly clean inputs "
        "the plain AE, and even the input itself, are better. A DAE is tuned to its noise level; training one per "
        "level, or on a range of levels, would lift the left end.",
        "The same pattern as for Gaussian noise. The plain AE gains less over the input here: it never had to fill "
        "gaps in strokes, and it draws the thinned strokes it is shown. At the right end the three curves meet: with "
        "80-90 % of the ink dropped there is too little digit left to reconstruct, and every model falls back to the "
        "corrupted input's error.",
        "The same pattern. Here even the plain AE removes much of the noise at every level: isolated white grains on "
        "the black background are nothing like a digit, and its 256-unit code does not reproduce them. The DAE "
        "still wins everywhere except at the lowest levels."};
    for (std::size_t c = 0; c < settings.size(); ++c) {
      const Setting& s = settings[c];
      const std::string at = s.symbol + "=" + fmt(s.train_level, 2);
      L.plot("psnr_vs_level_" + s.key,
             Plot("PSNR against the clean test digits, " + s.name + " corruption", "noise level " + s.symbol,
                  "PSNR (dB), 10 log10(1/MSE)")
                 .line("corrupted input", s.levels, sweeps[c].noisy)
                 .line("plain AE (trained on clean digits)", s.levels, sweeps[c].plain)
                 .line("DAE trained at " + at, s.levels, sweeps[c].dae)
                 .command("set arrow from " + fmt(s.train_level, 3) + ", graph 0 to " + fmt(s.train_level, 3) +
                          ", graph 1 nohead dashtype 2 lc rgb 'grey'")
                 .command("set key inside top right"),
             "Test PSNR against the " + s.name + " noise level " + s.greek + ": the corrupted input, the plain AE and the DAE "
                 "trained at " + s.greek + " = " + fmt(s.train_level, 2) + " (dashed line)",
             "002 \"Corrupted image / Predicted image\"; 004 \"DENOISING AUTOENCODERS\"",
             notices[c]);
    }

    // Filters: rows of the encoder's weights W1 [256, 784], each a 28×28 image of what makes one code unit fire.
    const std::size_t per_row = 16, filter_rows = 2;
    std::vector<GridRow> filter_grid;
    auto add_filters = [&](ae::Autoencoder& model, const std::string& name) {
      const Tensor w = model.encoder_filters();
      for (std::size_t r = 0; r < filter_rows; ++r) {
        std::vector<std::size_t> units;
        for (std::size_t k = 0; k < per_row; ++k) units.push_back(r * per_row + k);
        filter_grid.push_back({r == 0 ? name : "", rows(w, units), GridRow::Scale::Signed});
      }
    };
    add_filters(plain, "plain AE");
    for (std::size_t c = 0; c < settings.size(); ++c)
      add_filters(*daes[c], "DAE " + settings[c].symbol + "=" + fmt(settings[c].train_level, 2));
    L.grid("filters", filter_grid,
           "Encoder filters, the same 32 code units of each model (rows of W1 as 28x28 images; grey 0, white +, black -)",
           "004 \"DENOISING AUTOENCODERS\" (\"el modelo necesita extraer características que representen la estructura "
           "de la distribución de la entrada\")",
           "All four models started from the same random weights. The plain AE's filters are still high-frequency "
           "speckle: on clean digits, weight patterns that only respond to pixel-level detail cost nothing, so the "
           "random start is never cleaned away. The DAEs' filters are smooth, local strokes and blobs: noise on the "
           "input makes every weight that reacts to single pixels expensive (training with noise acts like a "
           "penalty on such weights), so what survives are detectors of the digits' structure. The Gaussian and "
           "salt-and-pepper DAEs show it most; the masking DAE at ν = 0.25 less, with some units that look at a "
           "single spot.");

    // The course page's drawing panel: the Gaussian DAE (test inputs: three clean digits, three corrupted ones).
    const Tensor probes =
        ad::concat<float>({rows(test.images, {shown[0], shown[1], shown[2]}), rows(sweeps[0].corrupted, {0, 1, 2})}, 0);
    PageExport(L)
        .model("dae_gaussian", {daes[0]->encoder, daes[0]->decoder}, probes,
               "the DAE trained on Gaussian noise sigma = " + fmt(settings[0].train_level, 2) + ", 784-256-784")
        .array("digits", rows(test.images, shown)).value("train_sigma", settings[0].train_level).write();

    L.csv("psnr_table", "corruption,level,psnr_noisy_db,psnr_plain_ae_db,psnr_dae_db", table,
          "test PSNR (dB) against the clean digits for every corruption and level: corrupted input, plain AE, DAE");
    L.metric("psnr_clean_plain_ae", psnr(reconstruct(plain, test.images)),
             "dB: the plain autoencoder on clean test digits (its reconstruction quality, the ceiling for denoising with it)");
    L.metric("psnr_clean_dae", psnr(reconstruct(*daes[0], test.images)),
             "dB: the Gaussian DAE on clean test digits; below the plain AE's, the price of always smoothing");
    L.note("**PSNR.** Every PSNR is in dB, 10 log10(1 / MSE) for pixels in [0, 1], with the MSE per pixel over the "
           "whole test set (" + std::to_string(test.size()) + " digits) and always against the *clean* digits. "
           "Higher is better; +3 dB halves the error. The corrupted test sets come from generators derived from "
           "`--seed`, so the numbers repeat run after run. There is no published anchor for these numbers in LESSONS.md; each model is held against the "
           "baselines trained in the same run: the DAE against the plain autoencoder, the plain autoencoder against "
           "the corrupted input.");
    L.note("**One DAE per corruption.** Each DAE is trained at one level (Gaussian σ = 0.5, masking ν = 0.25 as in "
           "Vincent et al. 2010, salt-and-pepper p = 0.2) and the same trained model is evaluated at every level of "
           "the sweep; the plain AE is one model for all. Nothing is retrained per level.");
    L.note("**The saved models** hold W1 = `encoder.0.weight`, b1 = `encoder.0.bias`, W2 = `decoder.0.weight`, "
           "b2 = `decoder.0.bias`: h = sigmoid(W1 ξ' + b1), x' = sigmoid(W2 h + b2).");
  });
}
