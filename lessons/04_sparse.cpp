// Lesson 04: sparse autoencoders — L1, KL and k-sparse.
//   L(x, x') + R(h),  R penalises many hidden units active at once            — slides 004 "SPARSE AUTOENCODERS"
//   KL:  R = β Σ_j KL(ρ ‖ ρ'_j),  ρ'_j = mean activation of hidden unit j
//   L1:  R = λ Σ_i |h_i|
//   k-sparse: keep the k largest activations (in modulus); α·k of them when encoding (Makhzani & Frey 2013)
//   "M ≫ N pero sólo algunas (pocas) unidades ocultas pueden activarse al mismo tiempo"      — slides 004
//   "Original digits / Autoencoder without sparsity / Autoencoder with sparsity"           — slides 002
// One architecture, 784 → 196 → 784, trained four ways: plain, with L1, with KL, and k-sparse. Then: their filters
// (decoder weights as images), how their hidden units fire, and how well a softmax classifier reads the class
// from each code, with the raw pixels as the baseline.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "autoencoders/k_sparse.hpp"
#include "autoencoders/probe.hpp"
#include "autoencoders/sparse.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

// The shared architecture and the sparsity settings (the README's notes say why these values).
constexpr std::size_t kHidden = 196;        // 14 × 14 hidden units, as in Ng's sparse autoencoder exercise on MNIST
constexpr double kWeightDecay = 3e-6;       // a little L2 on the weights (Adam), as Ng's recipe has; not for k-sparse
constexpr double kLambda = 2e-4;            // L1 weight λ
constexpr double kRho = 0.1, kBeta = 0.01;  // KL target activation ρ and weight β
constexpr std::size_t kK = 25;              // k-sparse: units kept per image in training
constexpr double kAlpha = 3.0;              // k-sparse: α·k units kept when encoding
constexpr double kActiveThreshold = 0.1;    // a sigmoid unit is "active" on an image when h > 0.1
const std::vector<std::size_t> kSweep{10, 25, 40, 70};  // the k-sparse filters figure
constexpr std::size_t kFiltersShown = 32, kPerRow = 16;
// The Keras blog's sparse model (784-32 ReLU code, L1 activity 1e-5): encoded_imgs.mean() 3.33 against 7.30 without.
constexpr double kKerasL1 = 3.33, kKerasPlain = 7.30;

struct Trained {
  std::string kind;   // plain, l1, kl, ksparse (the metric keys)
  std::string label;  // for captions and legends
  std::shared_ptr<ae::AutoencoderModel> model;
  Tensor filters{};                    // [H, 784]: one decoder column per hidden unit, as an image
  Tensor train_codes{}, test_codes{};  // h = f(x) in eval mode (k-sparse: α·k non-zeros)
  double test_mse = 0;
};

bool is_ksparse(const Trained& t) { return t.kind == "ksparse"; }

// A unit is active on an image when h > kActiveThreshold (sigmoid codes), or when h ≠ 0 (the k-sparse code).
bool active(const Trained& t, float h) { return is_ksparse(t) ? h != 0.0f : h > kActiveThreshold; }

// The share of (image, unit) pairs in which the unit is active.
double active_fraction(const Trained& t) {
  const float* p = t.test_codes.data();
  std::size_t n = 0;
  for (std::size_t i = 0; i < t.test_codes.numel(); ++i) n += active(t, p[i]);
  return static_cast<double>(n) / static_cast<double>(t.test_codes.numel());
}

// "Dead" units: active on fewer than 1 % of the test images.
std::size_t dead_units(const Trained& t) {
  const std::size_t n = t.test_codes.size(0), h = t.test_codes.size(1);
  std::size_t dead = 0;
  for (std::size_t j = 0; j < h; ++j) {
    std::size_t on = 0;
    for (std::size_t i = 0; i < n; ++i) on += active(t, t.test_codes.data()[i * h + j]);
    dead += static_cast<double>(on) < 0.01 * static_cast<double>(n);
  }
  return dead;
}

// Mean |h_i| over the test images and the units (for a sigmoid code, the mean activation).
double mean_activation(const Tensor& codes) {
  const float* p = codes.data();
  double s = 0;
  for (std::size_t i = 0; i < codes.numel(); ++i) s += std::abs(p[i]);
  return s / static_cast<double>(codes.numel());
}

// ρ'_j: each unit's mean activation over the images, sorted from the busiest unit down.
std::vector<double> unit_means_sorted(const Tensor& codes) {
  const std::size_t n = codes.size(0), h = codes.size(1);
  std::vector<double> m(h, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < h; ++j) m[j] += codes.data()[i * h + j];
  for (double& v : m) v /= static_cast<double>(n);
  std::sort(m.begin(), m.end(), std::greater<double>());
  return m;
}

// Non-zero entries per code: the smallest and the largest count over the rows.
std::pair<std::size_t, std::size_t> nonzeros_per_row(const Tensor& codes) {
  const std::size_t n = codes.size(0), h = codes.size(1);
  std::size_t lo = h, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = codes.data() + i * h;
    const auto c = static_cast<std::size_t>(std::count_if(row, row + h, [](float v) { return v != 0.0f; }));
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  return {lo, hi};
}

// The first n hidden units' filters as grid rows of kPerRow images, each scaled from its own min to max.
std::vector<GridRow> filter_rows(const std::string& caption, const Tensor& filters, std::size_t n) {
  std::vector<GridRow> out;
  for (std::size_t start = 0; start < n; start += kPerRow)
    out.push_back({start == 0 ? caption : "", ad::slice(filters, 0, start, std::min(n, start + kPerRow)), GridRow::Scale::PerImage});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "04_sparse";
  spec.title = "Sparse autoencoders: L1, KL and k-sparse";
  spec.summary =
      "A sparse autoencoder adds to the reconstruction error a term R(h) that penalises many hidden units firing at "
      "once, so that each image is described by a few units and each unit has to stand for something specific. One "
      "architecture, 784 → 196 → 784, is trained four ways: plain (no R); with the L1 penalty λ Σ|h_i|; with the KL "
      "penalty β Σ_j KL(ρ ‖ ρ'_j), which pulls each unit's mean activation ρ'_j toward ρ; and as a k-sparse "
      "autoencoder, which keeps only the k largest activations of each image (α·k when encoding). The first three "
      "have sigmoid codes, a sigmoid output and their own decoder weights; the k-sparse one has the linear code, "
      "linear output and tied weights (W2 = W1ᵀ) of Makhzani & Frey (2013). All minimise the mean squared error per "
      "pixel with Adam. Then each model's filters (the decoder's columns, one image per hidden unit) are shown, the "
      "hidden activations are counted, and a softmax classifier is trained on each code to see how readily the class "
      "can be read from it.";
  spec.slides = "004 \"SPARSE AUTOENCODERS\" (KL(ρ‖ρ'_j), λΣ|h_i|, k-sparse); 002 \"Original digits / Autoencoder "
                "without sparsity / with sparsity\"; 003 \"Sparse Autoencoders\"";
  spec.epochs = 10;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.metrics = {"active_fraction_plain",         "active_fraction_l1",          "active_fraction_kl",
                  "active_fraction_ksparse",       "classifier_test_error_plain", "classifier_test_error_l1",
                  "classifier_test_error_kl",      "classifier_test_error_ksparse", "classifier_test_error_pixels"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::uint64_t seed = L.options().seed;
    const std::size_t sweep_epochs = std::max<std::size_t>(1, L.epochs() / 2);

    const ae::AutoencoderOptions architecture = ae::AutoencoderOptions()
                                                    .sizes({784, kHidden})
                                                    .code(ae::Activation::Sigmoid)
                                                    .output(ae::Activation::Sigmoid);
    const auto ksparse_options = [](std::size_t k) { return ae::KSparseOptions().input(784).hidden(kHidden).k(k).alpha(kAlpha); };

    // Trains a model on the training set with Adam (with --load: reads FILE instead), and leaves it in eval mode.
    auto train_model = [&](ae::AutoencoderModel& model, const std::string& name, std::size_t epochs, const std::string& file) {
      ad::Generator order(seed + 1);
      nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
      const bool ksparse = dynamic_cast<ae::KSparseAutoencoder*>(&model) != nullptr;
      nn::Adam adam(model.named_parameters(), L.options().lr, 0.9, 0.999, 1e-8, ksparse ? 0.0 : kWeightDecay);
      if (!L.load_model(model, file)) ae::fit(model, loader, adam, epochs, L.progress(name));
      model.eval();
    };

    // --- The four models ---------------------------------------------------------------------------------
    std::vector<Trained> models;
    {
      ad::Generator gen(seed);  // the same initial weights for the three sigmoid models
      models.push_back({"plain", "plain", std::make_shared<ae::Autoencoder>(architecture, gen)});
    }
    {
      ad::Generator gen(seed);
      models.push_back({"l1", "L1", std::make_shared<ae::SparseAutoencoder>(
                                        architecture, ae::SparsityOptions().penalty(ae::SparsityPenalty::L1).lambda(kLambda), gen)});
    }
    {
      ad::Generator gen(seed);
      models.push_back({"kl", "KL", std::make_shared<ae::SparseAutoencoder>(
                                        architecture, ae::SparsityOptions().penalty(ae::SparsityPenalty::KL).rho(kRho).beta(kBeta), gen)});
    }
    {
      ad::Generator gen(seed);
      models.push_back({"ksparse", "k-sparse", std::make_shared<ae::KSparseAutoencoder>(ksparse_options(kK), gen)});
    }
    std::vector<std::function<void()>> jobs;
    for (auto& t : models) jobs.push_back([&, &t = t] { train_model(*t.model, t.label, L.epochs(), t.kind + ".npz"); });
    L.concurrently(jobs);  // the four train side by side, one thread each
    for (auto& t : models) {
      if (auto* a = dynamic_cast<ae::Autoencoder*>(t.model.get())) t.filters = ad::transpose(a->decoder_filters()).detach();
      if (auto* k = dynamic_cast<ae::KSparseAutoencoder*>(t.model.get())) t.filters = ad::transpose(k->decoder_filters()).detach();
      t.train_codes = ae::map_batches(train.images, [&](const Tensor& x) { return t.model->encode(x); });
      t.test_codes = ae::map_batches(test.images, [&](const Tensor& x) { return t.model->encode(x); });
      const Tensor rec = ae::map_batches(test.images, [&](const Tensor& x) { return t.model->reconstruct(x); });
      t.test_mse = ae::mean_squared_error(rec, test.images);
      L.save_model(*t.model, t.kind + ".npz", "the " + t.label + " autoencoder");
      L.say("  " + t.label + ": test MSE " + fmt(t.test_mse) + ", active fraction " + fmt(active_fraction(t)) +
            ", mean activation " + fmt(mean_activation(t.test_codes)));
    }
    const Trained &plain = models[0], &l1 = models[1], &kl = models[2], &ksparse = models[3];

    // --- The filters: decoder columns as images ----------------------------------------------------------
    {
      std::vector<GridRow> rows;
      for (auto& t : models)
        for (auto& r : filter_rows(t.label, t.filters, kFiltersShown)) rows.push_back(r);
      L.grid("filters", rows, "Filters (decoder weights as images) of the first 32 hidden units of each model",
             "004 \"SPARSE AUTOENCODERS\" (\"se busca capturar características más específicas de cada patrón\")",
             "Each image is one hidden unit's column of the decoder, scaled from its own minimum (black) to maximum "
             "(white). Plain: blurry blobs spread over the whole digit area; every unit takes part in every image. "
             "L1: pieces of digits (loops, bars, curved strokes), plus a few speckled grey squares: units the penalty "
             "switched off for good, whose weights never moved again (dead_units_l1 counts them). KL: whole digits of "
             "one style each (a slanted 1, a round 0, a 9 with a straight tail): with ρ = 0.1 every unit may fire on "
             "only about a tenth of the images, so each becomes the detector of a narrow kind of digit, not of a "
             "stroke shared by many. k-sparse: thin local pen strokes, the parts of the slide's claim; each image is "
             "built from 25 of them.");
    }

    // --- How the hidden units fire -----------------------------------------------------------------------
    {
      Plot hist("Hidden activations of the sigmoid codes on 2,000 test images", "activation h_i",
                "share of (image, unit) pairs (log scale)");
      for (std::size_t m = 0; m < 3; ++m) {
        const Tensor& c = models[m].test_codes;
        const std::size_t n = std::min<std::size_t>(2000, c.size(0)) * c.size(1);
        hist.histogram(models[m].label, std::vector<double>(c.data(), c.data() + n), 50, 0.0, 1.0);
      }
      hist.log_y().command("set xrange [0:1]").command(
          "set arrow from " + fmt(kActiveThreshold, 3) + ", graph 0 to " + fmt(kActiveThreshold, 3) +
          ", graph 1 nohead dt 2 lw 2").command("set label 'active when h > " + fmt(kActiveThreshold, 3) +
                                                "' at " + fmt(kActiveThreshold + 0.01, 3) + ", graph 0.95");
      L.plot("activation_histogram", hist, "Histogram of the hidden activations h_i (sigmoid codes)",
             "004 \"sólo algunas (pocas) unidades ocultas pueden activarse al mismo tiempo\"",
             "The plain model's activations spread over the whole range, with a bump near 1: most units are on for "
             "most images. With L1 or KL most of the mass sits below the dashed line (h ≤ 0.1, counted as inactive), "
             "and a thin tail reaches 1: each image switches a few units on strongly. The k-sparse code is not on "
             "this scale (it is linear, signed, with exactly α·k non-zeros per image by construction).");
    }
    {
      Plot means("Mean activation rho'_j of each hidden unit, sorted", "hidden unit (busiest first)",
                 "mean activation rho'_j on the test set (log scale)");
      std::vector<double> rank(kHidden);
      std::iota(rank.begin(), rank.end(), 1.0);
      for (std::size_t m = 0; m < 3; ++m) means.line(models[m].label, rank, unit_means_sorted(models[m].test_codes), false);
      means.line("KL target rho = " + fmt(kRho, 3), {1.0, static_cast<double>(kHidden)}, {kRho, kRho}, false).log_y();
      L.plot("unit_mean_activation", means, "Each unit's mean activation ρ'_j against the KL target ρ",
             "004 \"ρ'_j activación media de la unidad oculta j sobre todos los elementos del conjunto de entrenamiento\"",
             "The KL penalty holds every unit's mean activation near ρ: its curve lies flat along the target line. "
             "L1 lowers the mean activations too, but with no target: unevenly, and it switches some units off "
             "altogether (the cliff at the right: dead units, mean activation near 0). The plain model's units are "
             "on about half the time.");
    }

    // --- k-sparse filters for several k ------------------------------------------------------------------
    {
      std::map<std::size_t, std::unique_ptr<ae::KSparseAutoencoder>> others;  // k ≠ kK, trained side by side
      std::vector<std::function<void()>> sweep;
      auto file = [](std::size_t k) { return "ksparse_k" + std::to_string(k) + ".npz"; };
      for (std::size_t k : kSweep)
        if (k != kK) {
          ad::Generator gen(seed);
          auto& m = others[k] = std::make_unique<ae::KSparseAutoencoder>(ksparse_options(k), gen);
          sweep.push_back([&, k, &m = *m] {
            train_model(m, "k-sparse k=" + std::to_string(k), sweep_epochs, file(k));
          });
        }
      L.concurrently(sweep);
      std::vector<GridRow> rows;
      for (std::size_t k : kSweep) {
        Tensor filters = ksparse.filters;
        if (k != kK) {
          ae::KSparseAutoencoder& m = *others[k];
          filters = ad::transpose(m.decoder_filters()).detach();
          L.save_model(m, file(k), "the k-sparse autoencoder with k = " + std::to_string(k));
        }
        for (auto& r : filter_rows("k=" + std::to_string(k), filters, kPerRow)) rows.push_back(r);
      }
      L.grid("ksparse_filters_by_k", rows, "k-sparse filters (first 16 units) for k = 10, 25, 40, 70 of 196 units",
             "004 \"Manualmente (k-sparse autoencoder), conservando las k mayores activaciones en módulo\"",
             "k = 10: each image may use only 10 units, so each unit carries a large part of a digit, often a whole "
             "digit-like shape (the speckled square is a unit that was never among the 10 largest: a dead unit). "
             "k = 25 and 40: short pen strokes at different places and angles, combined 25 or 40 at a time; a few "
             "filters are single dots near the border, units that took charge of one rarely inked pixel. In Makhzani & Frey (2013, Fig. 1; 1000 units) the filters go on getting more local up to k = 70; "
             "here k = 70 is over a third of the 196 units, the code is hardly sparse any more, and besides strokes "
             "there are textured, global filters like the plain model's. The k = 25 row is the lesson's main k-sparse model (" +
                 std::to_string(L.epochs()) + " epochs); the other rows were trained for " + std::to_string(sweep_epochs) +
                 " epochs to keep the run short.");
    }

    // --- Originals / without sparsity / with sparsity ----------------------------------------------------
    {
      const Tensor originals = rows(test.images, first_of_each_class(test));
      std::vector<GridRow> grid{{"original", originals}};
      for (auto& t : models)
        grid.push_back({t.kind == "plain" ? "without sparsity" : "with " + t.label, t.model->reconstruct(originals).detach()});
      L.grid("reconstructions", grid, "Original test digits, then their reconstructions without and with sparsity",
             "002 \"Original digits / Autoencoder without sparsity / Autoencoder with sparsity\"",
             "All four models reconstruct the digits recognisably; the sparse ones do it from a few active units per "
             "image. The price is a somewhat blurrier reconstruction (test_mse_<kind> in the metrics), most visible for "
             "KL, whose units are whole-digit templates.");
    }

    // --- A softmax classifier on each code, and on the pixels --------------------------------------------
    const ae::ProbeOptions probe = ae::ProbeOptions().epochs(L.quick() ? 2 : 10).seed(seed + 3);
    if (L.loaded())
      L.note("**With `--load`** the five softmax classifiers of `classifier_errors.png` are still trained (on the loaded "
             "models' codes and on the pixels, " + std::to_string(probe.epochs()) + " epochs each): they are part of the "
             "measurement, small and quick, and `ae::linear_probe` does not hand back the classifier to save. The epoch "
             "counts in the captions and notes are this run's settings; the loaded models were trained with those of "
             "the run that saved them.");
    const double pixels_error = ae::linear_probe(train.images, train.labels, test.images, test.labels, probe).test_error;
    L.say("  softmax on the pixels: test error " + fmt(pixels_error));
    std::vector<std::vector<std::string>> table{{"pixels", "784", "", "", "", "", fmt(100 * pixels_error, 4)}};
    std::vector<std::string> names{"pixels"};
    std::vector<double> errors{100 * pixels_error};
    for (auto& t : models) {
      const double err = ae::linear_probe(t.train_codes, train.labels, t.test_codes, test.labels, probe).test_error;
      L.say("  softmax on the " + t.label + " code: test error " + fmt(err));
      const double af = active_fraction(t), ma = mean_activation(t.test_codes);
      const std::size_t dead = dead_units(t);
      L.metric("active_fraction_" + t.kind, af,
               is_ksparse(t) ? "k-sparse: share of non-zero code entries when encoding, α·k / H = " + fmt(kAlpha * kK, 3) +
                                   " / " + std::to_string(kHidden) + " (k / H = " + fmt(static_cast<double>(kK) / kHidden, 3) +
                                   " in training); reference: active_fraction_plain"
                             : t.label + ": share of (test image, unit) pairs with h > " + fmt(kActiveThreshold, 2) +
                                   (t.kind == "plain" ? "; the reference for the sparse models" : "; reference: active_fraction_plain"));
      L.metric("classifier_test_error_" + t.kind, err,
               t.label + ": test error (fraction of 10,000) of a softmax classifier on the " + std::to_string(kHidden) +
                   "-unit code; reference: classifier_test_error_pixels");
      L.metric("mean_activation_" + t.kind, ma,
               t.label + ": mean abs(h_i) over test images and units" +
                   std::string(is_ksparse(t) ? " (linear code, zeros included)" : " (the mean activation)"));
      L.metric("test_mse_" + t.kind, t.test_mse,
               t.label + ": test reconstruction MSE per pixel" + std::string(t.kind == "plain" ? "; the reference for the sparse models" : "; reference: test_mse_plain"));
      L.metric("dead_units_" + t.kind, static_cast<double>(dead),
               t.label + ": units active on fewer than 1 % of the test images (of " + std::to_string(kHidden) + ")");
      table.push_back({t.label, std::to_string(kHidden), fmt(af, 4), fmt(ma, 4), std::to_string(dead), fmt(t.test_mse, 4),
                       fmt(100 * err, 4)});
      names.push_back(t.label);
      errors.push_back(100 * err);
    }
    L.metric("classifier_test_error_pixels", pixels_error,
             "baseline: test error (fraction) of the same softmax classifier on the 784 raw pixels");
    L.csv("classifier_table", "code,dimension,active_fraction,mean_activation,dead_units,test_mse,classifier_test_error_percent",
          table, "every code side by side: active fraction, mean activation, dead units, reconstruction MSE, softmax test error (%)");
    L.plot("classifier_errors",
           Plot("Softmax classifier on each code: test error", "", "test error on the 10,000 test digits (%)")
               .bars(names, {{"softmax test error (%)", errors}})
               .command("set yrange [0:*]"),
           "Test error of a softmax classifier trained on each code, raw pixels as the baseline",
           "004 \"SPARSE AUTOENCODERS: Útiles para tareas de clasificación\"",
           "The same linear classifier, trained for the same epochs, on each representation. It reads the class more "
           "easily from the L1 and KL codes than from the pixels or the plain code: their units respond to specific "
           "kinds of digits, and the KL units are nearly digit detectors already. The k-sparse code of 196 stroke "
           "detectors helps a linear classifier little: strokes are shared by many digits.");

    // --- The checks: the KL model's mean activation against ρ; the k-sparse non-zero counts --------------
    const double kl_mean = mean_activation(kl.test_codes);
    L.metric("kl_mean_activation_rel_error", std::abs(kl_mean - kRho) / kRho,
             "abs(mean activation of the KL model − ρ) / ρ on the test set (target ≤ 0.25)");
    L.metric("kl_rho", kRho, "the KL target activation ρ (β = " + fmt(kBeta, 3) + ")");
    {
      auto& model = dynamic_cast<ae::KSparseAutoencoder&>(*ksparse.model);
      model.train();
      const Tensor training_codes = ae::map_batches(test.images, [&](const Tensor& x) { return model.encode(x); });
      model.eval();
      const auto [tlo, thi] = nonzeros_per_row(training_codes);
      const auto [elo, ehi] = nonzeros_per_row(ksparse.test_codes);
      L.metric("ksparse_k", static_cast<double>(kK), "k-sparse: units kept per image in training");
      L.metric("ksparse_nonzeros_training_min", static_cast<double>(tlo), "k-sparse, training mode: fewest non-zeros in a test code (target: k)");
      L.metric("ksparse_nonzeros_training_max", static_cast<double>(thi), "k-sparse, training mode: most non-zeros in a test code (target: k)");
      L.metric("ksparse_alpha_k", static_cast<double>(std::lround(kAlpha * kK)), "k-sparse: units kept per image when encoding, α·k");
      L.metric("ksparse_nonzeros_encoding_min", static_cast<double>(elo), "k-sparse, encoding: fewest non-zeros in a test code (target: α·k)");
      L.metric("ksparse_nonzeros_encoding_max", static_cast<double>(ehi), "k-sparse, encoding: most non-zeros in a test code (target: α·k)");
    }
    L.metric("mean_activation_ratio_l1_to_plain", mean_activation(l1.test_codes) / mean_activation(plain.test_codes),
             "mean activation with L1 / without; the Keras blog's is 3.33 / 7.30 = " + fmt(kKerasL1 / kKerasPlain, 3) +
                 " (a different model: see the notes)");

    // --- Notes for the README ----------------------------------------------------------------------------
    L.note("**What \"active\" means here.** A sigmoid unit is active on an image when its activation h exceeds " +
           fmt(kActiveThreshold, 2) + "; `active_fraction_<kind>` is the share of (test image, unit) pairs in which "
           "the unit is active, over all 10,000 test images and " + std::to_string(kHidden) + " units. For the k-sparse "
           "model a unit is active when it is among the non-zeros of the code used as features, i.e. when encoding "
           "(α·k = " + fmt(kAlpha * kK, 3) + " of " + std::to_string(kHidden) + "); in training it keeps exactly k = " +
           std::to_string(kK) + " (`ksparse_nonzeros_training_*`). `mean_activation_<kind>` is the mean of |h_i| over "
           "the same pairs, a threshold-free measure of the same thing. `dead_units_<kind>` counts the units active on "
           "fewer than 1 % of the test images.");
    L.note("**Against the Keras blog.** \"Building Autoencoders in Keras\" reports, for a 784-32 autoencoder with a "
           "ReLU code, `encoded_imgs.mean()` (the mean code value over its 10,000 test images and 32 units) of 3.33 "
           "with an L1 activity penalty against 7.30 without (ratio " +
           fmt(kKerasL1 / kKerasPlain, 3) + "). That is a different model (ReLU units, unbounded; 32 units; "
           "cross-entropy loss; Adadelta, 100 epochs): its values cannot be compared with these sigmoid activations in "
           "(0, 1), only the direction and the rough size of the drop. Here: mean activation " +
           fmt(mean_activation(l1.test_codes), 3) + " with L1 against " + fmt(mean_activation(plain.test_codes), 3) +
           " without (ratio " + fmt(mean_activation(l1.test_codes) / mean_activation(plain.test_codes), 3) + ").");
    L.note("**Why these settings.** 196 hidden units for all four models (Ng's sparse autoencoder exercise on MNIST "
           "uses 196, ρ = 0.1, β = 3); the budget of about three minutes for the lesson allows " + std::to_string(L.epochs()) +
           " epochs for the four main models and " + std::to_string(sweep_epochs) + " for each extra k of the k-sparse "
           "figure (each epoch of a 784-196-784 model on 60,000 images takes about a second on one core). The losses are "
           "means per pixel, so the penalty weights are Ng's rescaled, not copied: his β = 3 on ½‖x − x'‖² per image is "
           "β ≈ 3 / 392 ≈ 0.008 on the MSE per pixel; β = " + fmt(kBeta, 3) + " here. λ = " + fmt(kLambda, 3) +
           " for L1 gives a sparsity between the plain and the KL model: 3e-4 left many more units dead, 1e-4 made "
           "the code much less sparse. A weight decay of " + fmt(kWeightDecay, 3) + " (Adam's L2 term; Ng's recipe has "
           "one too) makes the plain model's filters smooth blobs instead of high-frequency texture; 1e-4 ruins the "
           "reconstructions. The three sigmoid models have untied weights: with tied weights (W2 = W1ᵀ) the plain "
           "model's filters were high-frequency texture, and the KL model's became so too with longer training. The k-sparse model keeps the paper's choices: tied "
           "weights, linear units, no weight decay, α = " + fmt(kAlpha, 3) + "; but not its schedule of k (starting at "
           "k = 100 and lowering it, `KSparseOptions::k_start`), which here gave more filters that are single stray "
           "pixels or texture.");
    L.note("**Strokes or digits?** The issue asks for the sparse models' filters to look like strokes and parts. The "
           "k-sparse filters do (k = 25 and 40), and the L1 filters are mostly pieces of digits. The KL filters are "
           "whole digits of one style each. With ρ ≤ 0.1 they stayed so in every setting tried (ρ = 0.05 and 0.1; "
           "β = 0.01 and 0.1; tied and untied weights; 10 and 25 epochs; weight decay 0 to 1e-3); ρ = 0.2 or 0.3 gave "
           "blurrier mixtures of digit parts, not strokes, and a far less sparse code. The reason is in the penalty: KL "
           "constrains each unit's *lifetime* activity ρ'_j (its mean over the images), not how many units one image "
           "uses. A stroke detector would fire on most digits (ρ'_j far above ρ); a detector of one narrow kind of "
           "digit fires on a tenth of them, exactly as asked. L1 and k-sparse limit the units per *image* instead, "
           "which favours parts that many images share; k-sparse shows the trade-off directly: k = 10 gives "
           "digit-like filters, k = 25–40 strokes. Ng's notes get pen strokes with KL by full-batch L-BFGS and a "
           "stronger relative weight decay; with Adam and minibatches this lesson did not reproduce that.");
  });
}
