// Lesson 11: anomaly detection with an autoencoder.
//   "Anomaly detection with AEs": train on normal data only; an input the model reconstructs badly is an anomaly
//   score(x) = (1/N) Σ_j (x_j − x'_j)²,  x' = dec(enc(x));   anomaly ⇔ score(x) > τ        — slides 001
//   "Anomaly detection" among the applications                                            — slides 000, 002, 004
//   AUROC = P(score(anomaly) > score(normal)) + ½ P(tie) = U / (n₊ n₋)   (Mann–Whitney U, ties averaged)
// One autoencoder trained on all MNIST training digits, scored on the MNIST test digits (normal) against the
// Fashion-MNIST test items (anomalies); and one autoencoder per digit d trained on the MNIST training images
// without d, scored on the test images of d (anomalies) against the other test digits. The threshold τ is the
// 95th percentile of the training images' own errors: a 5% false-alarm rate chosen without seeing an anomaly.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

#include "autoencoders/anomaly.hpp"
#include "autoencoders/autoencoder.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

// 784-256-M autoencoders with a linear code. Two bottlenecks, one per kind of anomaly (see the README):
constexpr std::size_t kHidden = 256;
constexpr std::size_t kFashionCode = 32;  // a different data set: reconstruct the digits well, M = 32
constexpr std::size_t kDigitCode = 8;     // an unseen digit: a tight code that cannot draw what it never saw, M = 8
// The held-out digit the figures show (the CSV has all ten): a 4, a mid-range case whose failure is easy to see
// (the model without it redraws a 4 as the 9 it resembles).
constexpr std::size_t kDefaultDigit = 4;
constexpr double kThresholdQuantile = 0.95;  // τ: this quantile of the training errors
const std::vector<std::string> kFashionNames = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                                "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};

// Every n-th point of a curve (and its last), so the plot's CSV stays small.
ae::Roc thin(const ae::Roc& roc, std::size_t max_points) {
  const std::size_t step = std::max<std::size_t>(1, roc.fpr.size() / max_points);
  ae::Roc out;
  for (std::size_t i = 0; i < roc.fpr.size(); i += step) out.fpr.push_back(roc.fpr[i]), out.tpr.push_back(roc.tpr[i]);
  out.fpr.push_back(roc.fpr.back()), out.tpr.push_back(roc.tpr.back());
  return out;
}

double fraction_above(const std::vector<double>& v, double threshold) {
  return static_cast<double>(std::count_if(v.begin(), v.end(), [&](double s) { return s > threshold; })) /
         static_cast<double>(v.size());
}

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }

// ---- the score ---------------------------------------------------------------------------------------------

std::vector<double> reconstruction_errors(ae::Autoencoder& model, const Tensor& images) {
  const Tensor rec = ae::map_batches(images, [&](const Tensor& x) { return model.reconstruct(x); });
  return ae::squared_error_per_row(images, rec);
}

std::vector<double> pick(const std::vector<double>& v, const std::vector<std::size_t>& labels, std::size_t cls, bool equal) {
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i)
    if ((labels[i] == cls) == equal) out.push_back(v[i]);
  return out;
}

std::vector<std::size_t> indices_where(const std::vector<std::size_t>& labels, std::size_t cls, bool equal) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < labels.size(); ++i)
    if ((labels[i] == cls) == equal) out.push_back(i);
  return out;
}

// The indices of `subset` ordered by score, highest first.
std::vector<std::size_t> by_score(const std::vector<double>& score, std::vector<std::size_t> subset) {
  std::stable_sort(subset.begin(), subset.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  return subset;
}

std::vector<std::size_t> all_indices(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

std::vector<std::size_t> head(const std::vector<std::size_t>& v, std::size_t k) {
  return {v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(k, v.size()))};
}
std::vector<std::size_t> tail(const std::vector<std::size_t>& v, std::size_t k) {
  std::vector<std::size_t> t(v.end() - static_cast<std::ptrdiff_t>(std::min(k, v.size())), v.end());
  std::reverse(t.begin(), t.end());  // the least anomalous first
  return t;
}

std::string score_range(const std::vector<double>& score, const std::vector<std::size_t>& shown) {
  return fmt(score[shown.front()], 2) + " TO " + fmt(score[shown.back()], 2);
}

// Histograms on a log10 axis (the errors span two decades), tics labelled with the errors themselves.
const char* kLogErrorTics = "set xtics ('0.001' -3, '0.002' -2.699, '0.005' -2.301, '0.01' -2, '0.02' -1.699, "
                            "'0.05' -1.301, '0.1' -1, '0.2' -0.699)";
std::vector<double> log10_of(const std::vector<double>& v) {
  std::vector<double> out;
  for (double s : v) out.push_back(std::log10(std::max(s, 1e-6)));
  return out;
}
double tallest_bin(const std::vector<double>& values, std::size_t bins, double lo, double hi) {
  std::vector<double> counts(bins, 0.0);
  for (double v : values) counts[static_cast<std::size_t>(std::clamp((v - lo) / (hi - lo), 0.0, 1.0 - 1e-12) * static_cast<double>(bins))] += 1;
  return *std::max_element(counts.begin(), counts.end()) / static_cast<double>(values.size());
}

// A trained model, its errors on the training images it saw, and the threshold τ they give.
struct Detector {
  std::unique_ptr<ae::Autoencoder> model;
  std::vector<double> train_errors;
  double threshold = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "11_anomaly_detection";
  spec.title = "Anomaly detection by reconstruction error";
  spec.summary =
      "An autoencoder trained on normal data only learns to reconstruct what normal data looks like; an input "
      "unlike anything it was trained on comes back badly, so the reconstruction error per image, "
      "score(x) = (1/784) Σ_j (x_j − x'_j)² (MSE per pixel), is an anomaly score. The detector flags x when the "
      "score exceeds a threshold τ, here the 95th percentile of the training images' own errors: a 5% false-alarm "
      "rate chosen without ever seeing an anomaly (the 99th percentile is reported too). Two settings: (1) trained "
      "on all MNIST training digits, the anomalies are the Fashion-MNIST test items (clothes, shoes, bags: another "
      "data set); (2) trained on MNIST without one digit class, the anomalies are the test images of that digit "
      "(a near novelty: the same strokes, an unseen shape), repeated with each digit held out in turn. Each is "
      "summarised by the AUROC, the probability that a random anomaly scores higher than a random normal test digit "
      "(1 = perfect, 0.5 = chance). Model: a plain undercomplete autoencoder 784-256-M-256-784 (ReLU hidden layer, "
      "linear code, sigmoid output, MSE, Adam). A plain autoencoder with a small code rather than a denoising or "
      "an overcomplete one because the score relies on the bottleneck: a model that reconstructs *anything* well "
      "(an overcomplete code copies its input, lesson 03) cannot tell normal from abnormal. The code size M is the "
      "knob, and the two settings want it on different sides: M = 32 for Fashion-MNIST (the digits must come back "
      "sharp so that only the clothes fail), M = 8 for the held-out digit (so tight that the decoder can only draw "
      "the digits it was trained on). The run trains the crossed pairs too and prints their AUROCs. Baselines in "
      "the same run: PCA with M components fitted on the same training images and scored the same way, and, for "
      "the held-out digit, the same autoencoder trained on all digits (the digit seen).";
  spec.slides = "001 \"Anomaly detection with AEs\"; 000, 002, 004 applications (\"Anomaly detection\")";
  spec.epochs = 5;
  spec.batch = 128;
  spec.lr = 2e-3;
  spec.quick_epochs = 4;
  spec.datasets = false;  // trained on MNIST; Fashion-MNIST is the anomaly set
  spec.metrics = {"auroc_fashion", "auroc_heldout_digit"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const nn::Dataset fashion = L.load("fashion", nn::Split::Test);
    const std::uint64_t seed = L.options().seed;
    const std::string dd = std::to_string(kDefaultDigit);
    const std::string m_fashion = std::to_string(kFashionCode), m_digit = std::to_string(kDigitCode);

    // One detector: an autoencoder with an M-number code trained on `images` (or, with --load, read from FILE), its
    // training errors and threshold. The model is saved as FILE.
    auto train_detector = [&](const Tensor& images, const std::vector<std::size_t>& labels, std::size_t code,
                              const std::string& name, const std::string& file, const std::string& description) {
      ad::Generator init(seed), order(seed + 1);  // the same initial weights and batch order for every model
      Detector det;
      det.model = std::make_unique<ae::Autoencoder>(ae::AutoencoderOptions()
                                                        .sizes({784, kHidden, code})
                                                        .hidden(ae::Activation::ReLU)
                                                        .code(ae::Activation::Identity)
                                                        .output(ae::Activation::Sigmoid),
                                                    init);
      nn::DataLoader loader(images, labels, L.options().batch, order);
      nn::Adam adam(det.model->named_parameters(), L.options().lr);
      if (!L.load_model(*det.model, file)) ae::fit(*det.model, loader, adam, L.epochs(), L.progress(name));
      det.model->eval();
      L.save_model(*det.model, file, description);
      det.train_errors = reconstruction_errors(*det.model, images);
      det.threshold = ae::quantile(det.train_errors, kThresholdQuantile);
      return det;
    };
    auto without = [&](std::size_t d) {  // the training set without digit d
      const std::vector<std::size_t> keep = indices_where(train.labels, d, false);
      std::vector<std::size_t> labels;
      for (std::size_t i : keep) labels.push_back(train.labels[i]);
      return nn::Dataset{"mnist/train without " + std::to_string(d), rows(train.images, keep), labels};
    };
    // AUROC of digit d's test images against the other test digits, under the scores `err`.
    auto digit_auroc = [&](const std::vector<double>& err, std::size_t d) {
      return ae::auroc(pick(err, test.labels, d, true), pick(err, test.labels, d, false));
    };

    // The thirteen detectors train side by side, one thread each; each is used in turn below.
    Detector full, full8, focus32;
    std::vector<Detector> without_digit(10);
    std::vector<std::function<void()>> jobs{
        [&] {
          full = train_detector(train.images, train.labels, kFashionCode, "AE M=" + m_fashion + ", all digits",
                                "autoencoder_m" + m_fashion + ".npz",
                                "the 784-256-" + m_fashion + " autoencoder trained on all MNIST training digits (Fashion-MNIST detector)");
        },
        [&] {
          full8 = train_detector(train.images, train.labels, kDigitCode, "AE M=" + m_digit + ", all digits",
                                 "autoencoder_m" + m_digit + ".npz",
                                 "the 784-256-" + m_digit + " autoencoder trained on all MNIST training digits (the "
                                 "held-out digits' baseline: every digit seen)");
        }};
    for (std::size_t d = 0; d < 10; ++d)
      jobs.push_back([&, d] {
        const std::string ds = std::to_string(d);
        const nn::Dataset data = without(d);
        without_digit[d] = train_detector(data.images, data.labels, kDigitCode, "AE M=" + m_digit + ", without " + ds,
                                          "autoencoder_m" + m_digit + "_without_" + ds + ".npz",
                                          "the 784-256-" + m_digit + " autoencoder trained on the MNIST training digits without " +
                                              ds + " (held-out digit detector" + (d == kDefaultDigit ? ", the figures' model" : "") + ")");
      });
    const nn::Dataset train_without = without(kDefaultDigit);
    jobs.push_back([&] {  // the crossed pair: the held-out digit with the Fashion detector's code size
      focus32 = train_detector(train_without.images, train_without.labels, kFashionCode,
                               "AE M=" + m_fashion + ", without " + dd, "autoencoder_m" + m_fashion + "_without_" + dd + ".npz",
                               "the 784-256-" + m_fashion + " autoencoder trained on the MNIST training digits without " +
                                   dd + " (the crossed pair: the Fashion detector's code size on the held-out digit)");
    });
    L.concurrently(jobs);

    // ---- (1) MNIST against Fashion-MNIST ----
    const std::vector<double> digit_err = reconstruction_errors(*full.model, test.images);
    const std::vector<double> fashion_err = reconstruction_errors(*full.model, fashion.images);
    const double auroc_fashion = ae::auroc(fashion_err, digit_err);
    const double fashion_tpr = fraction_above(fashion_err, full.threshold), digit_fpr = fraction_above(digit_err, full.threshold);
    const double threshold_99 = ae::quantile(full.train_errors, 0.99);
    L.say("MNIST against Fashion-MNIST: AUROC " + fmt(auroc_fashion, 5) + "; at tau = " + fmt(full.threshold, 4) +
          " (95th percentile of training errors) TPR " + fmt(fashion_tpr, 4) + ", FPR " + fmt(digit_fpr, 4));

    // The course page's drawing panel scores a drawing with this detector and τ (test inputs: 3 digits, 3 clothes).
    PageExport(L)
        .model("anomaly_ae", {full.model->encoder, full.model->decoder},
               ad::concat<float>({rows(test.images, {0, 1, 2}), rows(fashion.images, {0, 1, 2})}, 0),
               "the Fashion detector, 784-256-" + m_fashion + "-256-784, trained on all MNIST training digits")
        .value("threshold", full.threshold).value("threshold_99", threshold_99)
        .text("threshold_rule",
              "the " + fmt(100 * kThresholdQuantile, 3) + "th percentile of its errors on its training digits")
        .array("fashion_items", rows(fashion.images, first_of_each_class(fashion))).write();

    // The held-out digit's baseline: the M=8 model trained on all digits (every digit seen).
    const std::vector<double> digit_err8 = reconstruction_errors(*full8.model, test.images);
    const double auroc_fashion_m8 = ae::auroc(reconstruction_errors(*full8.model, fashion.images), digit_err8);
    L.say("  the same with M=" + m_digit + ": AUROC " + fmt(auroc_fashion_m8, 5));

    L.say("PCA baselines on " + std::to_string(train.size()) + " training images");
    ae::PCA pca;
    pca.fit(train.images);
    const std::vector<double> pca_digit_err = ae::squared_error_per_row(test.images, pca.reconstruct(test.images, kFashionCode));
    const std::vector<double> pca_fashion_err = ae::squared_error_per_row(fashion.images, pca.reconstruct(fashion.images, kFashionCode));
    const double pca_auroc_fashion = ae::auroc(pca_fashion_err, pca_digit_err);

    // ---- (2) each digit held out in turn ----
    struct HeldOut {
      std::size_t digit;
      double auroc, auroc_seen, threshold, tpr, fpr, mean_heldout, mean_others;
    };
    std::vector<HeldOut> heldout;
    Detector focus;  // the model without kDefaultDigit, kept for the figures
    std::vector<double> focus_err;
    for (std::size_t d = 0; d < 10; ++d) {
      Detector& det = without_digit[d];
      const std::vector<double> err = reconstruction_errors(*det.model, test.images);
      const auto anomalies = pick(err, test.labels, d, true), normal = pick(err, test.labels, d, false);
      heldout.push_back({d, ae::auroc(anomalies, normal), digit_auroc(digit_err8, d), det.threshold,
                         fraction_above(anomalies, det.threshold), fraction_above(normal, det.threshold), mean(anomalies),
                         mean(normal)});
      const HeldOut& h = heldout.back();
      L.say("  digit " + std::to_string(d) + " held out: AUROC " + fmt(h.auroc, 4) + " (the model that saw it: " +
            fmt(h.auroc_seen, 4) + "); TPR " + fmt(h.tpr, 3) + " at FPR " + fmt(h.fpr, 3));
      if (d == kDefaultDigit) {
        focus = std::move(det);
        focus_err = err;
      }
    }
    const HeldOut& h = heldout[kDefaultDigit];
    const auto focus_anom = pick(focus_err, test.labels, kDefaultDigit, true);
    const auto focus_norm = pick(focus_err, test.labels, kDefaultDigit, false);

    // The crossed pair: the held-out digit with the Fashion detector's code size.
    const double auroc_heldout_m32 = digit_auroc(reconstruction_errors(*focus32.model, test.images), kDefaultDigit);
    L.say("  digit " + dd + " held out with M=" + m_fashion + ": AUROC " + fmt(auroc_heldout_m32, 4));

    // PCA baseline for the default digit: PCA fitted without it.
    ae::PCA pca_without;
    pca_without.fit(train_without.images);
    const auto pca_focus_err = ae::squared_error_per_row(test.images, pca_without.reconstruct(test.images, kDigitCode));
    const double pca_auroc_heldout = digit_auroc(pca_focus_err, kDefaultDigit);
    // ---- figures ----
    const std::size_t bins = 60;
    const double lo = -3.2, hi = -0.5;
    {
      const auto a = log10_of(digit_err), b = log10_of(fashion_err);
      const double top = std::max(tallest_bin(a, bins, lo, hi), tallest_bin(b, bins, lo, hi));
      const double t = std::log10(full.threshold);
      L.plot("error_histogram_fashion",
             Plot("Reconstruction error of the AE (M = " + m_fashion + ") trained on all MNIST digits", "reconstruction error per image (MSE per pixel, log scale)",
                  "fraction of images per bin")
                 .histogram("MNIST test digits (normal)", a, bins, lo, hi)
                 .histogram("Fashion-MNIST test items (anomalies)", b, bins, lo, hi)
                 .line("threshold tau = " + fmt(full.threshold, 3) + " (95th pct of training errors)", {t, t}, {0, top * 1.05}, false)
                 .command(kLogErrorTics)
                 .command("set xrange [" + fmt(lo) + ":" + fmt(hi) + "]")
                 .command("set yrange [0:" + fmt(top * 1.4, 4) + "]")
                 .command("set key inside left top")
                 .size(1000, 560),
             "Error histograms: MNIST test digits against Fashion-MNIST items, with the threshold",
             "001 \"Anomaly detection with AEs\"",
             "The two distributions barely overlap: the digits' median error is " + fmt(ae::quantile(digit_err, 0.5), 2) +
                 ", the clothes' " + fmt(ae::quantile(fashion_err, 0.5), 2) +
                 ", " + fmt(ae::quantile(fashion_err, 0.5) / ae::quantile(digit_err, 0.5), 2) + " times higher. Everything right of the threshold is flagged: " + fmt(100 * fashion_tpr, 3) +
                 "% of the Fashion items (true positives) and " + fmt(100 * digit_fpr, 3) +
                 "% of the normal test digits (false positives, close to the 5% the threshold was set for on the "
                 "training digits).");
    }
    {
      const auto a = log10_of(focus_norm), b = log10_of(focus_anom);
      const double top = std::max(tallest_bin(a, bins, lo, hi), tallest_bin(b, bins, lo, hi));
      const double t = std::log10(focus.threshold);
      L.plot("error_histogram_heldout_digit",
             Plot("Reconstruction error of the AE (M = " + m_digit + ") trained without digit " + dd,
                  "reconstruction error per image (MSE per pixel, log scale)", "fraction of images per bin")
                 .histogram("other test digits (normal)", a, bins, lo, hi)
                 .histogram("test digits " + dd + " (held out: anomalies)", b, bins, lo, hi)
                 .line("threshold tau = " + fmt(focus.threshold, 3) + " (95th pct of training errors)", {t, t}, {0, top * 1.05}, false)
                 .command(kLogErrorTics)
                 .command("set xrange [" + fmt(lo) + ":" + fmt(hi) + "]")
                 .command("set yrange [0:" + fmt(top * 1.4, 4) + "]")
                 .command("set key inside left top")
                 .size(1000, 560),
             "Error histograms: the held-out digit " + dd + " against the other test digits, with the threshold",
             "001 \"Anomaly detection with AEs\"",
             "The held-out digit is reconstructed worse than the digits the model saw, but the histograms overlap: an "
             "unseen digit shares strokes with the seen ones, and the decoder draws the nearest digit it knows (a 4 "
             "comes back as a 9). At the threshold " + fmt(100 * h.tpr, 3) + "% of the " + dd + "s are flagged, against " +
                 fmt(100 * h.fpr, 3) + "% of the other digits.");
    }
    {
      const ae::Roc rf = thin(ae::roc_curve(fashion_err, digit_err), 400);
      const ae::Roc rh = thin(ae::roc_curve(focus_anom, focus_norm), 400);
      const ae::Roc pf = thin(ae::roc_curve(pca_fashion_err, pca_digit_err), 400);
      const ae::Roc ph = thin(ae::roc_curve(pick(pca_focus_err, test.labels, kDefaultDigit, true), pick(pca_focus_err, test.labels, kDefaultDigit, false)), 400);
      L.plot("roc_curves",
             Plot("ROC curves of the reconstruction-error score", "false positive rate (normal digits flagged)",
                  "true positive rate (anomalies flagged)")
                 .line("AE M=" + m_fashion + ": Fashion-MNIST, AUC = " + fmt(auroc_fashion, 4), rf.fpr, rf.tpr, false)
                 .line("AE M=" + m_digit + ": held-out digit " + dd + ", AUC = " + fmt(h.auroc, 3), rh.fpr, rh.tpr, false)
                 .line("PCA-" + m_fashion + ": Fashion-MNIST, AUC = " + fmt(pca_auroc_fashion, 4), pf.fpr, pf.tpr, false)
                 .line("PCA-" + m_digit + ": held-out digit " + dd + ", AUC = " + fmt(pca_auroc_heldout, 3), ph.fpr, ph.tpr, false)
                 .line("chance, AUC = 0.5", {0, 1}, {0, 1}, false)
                 .scatter("operating points of tau (95th pct)", {digit_fpr, h.fpr}, {fashion_tpr, h.tpr}, 1.6)
                 .command("set xrange [0:1]")
                 .command("set yrange [0:1.01]")
                 .size(1100, 620),
             "ROC curves: true against false positive rate as the threshold sweeps, with the area under each",
             "001 \"Anomaly detection with AEs\"",
             "Fashion-MNIST hugs the top-left corner (AUC " + fmt(auroc_fashion, 4) +
                 "): almost every item scores above almost every digit. The held-out digit's curve is well above "
                 "chance but far from the corner (AUC " + fmt(h.auroc, 3) +
                 "). The two dots are the operating points of the 95th-percentile thresholds. PCA with as many "
                 "components as the code, the linear baseline, is below the autoencoder in both settings.");
    }
    {
      const std::size_t k = 12;
      const auto digits_ranked = by_score(digit_err, all_indices(test.size()));
      const auto fashion_ranked = by_score(fashion_err, all_indices(fashion.size()));
      const auto d_most = head(digits_ranked, k), d_least = tail(digits_ranked, k);
      const auto f_most = head(fashion_ranked, k), f_least = tail(fashion_ranked, k);
      auto rec = [&](ae::Autoencoder& m, const Tensor& x) {
        return ae::map_batches(x, [&](const Tensor& b) { return m.reconstruct(b); });
      };
      const Tensor dm = rows(test.images, d_most), fm = rows(fashion.images, f_most), fl = rows(fashion.images, f_least);
      L.grid("most_anomalous_fashion",
             {{"FASHION, MOST ANOMALOUS (" + score_range(fashion_err, f_most) + ")", fm},
              {"ITS RECONSTRUCTION", rec(*full.model, fm)},
              {"FASHION, LEAST ANOMALOUS (" + score_range(fashion_err, f_least) + ")", fl},
              {"ITS RECONSTRUCTION", rec(*full.model, fl)},
              {"MNIST, MOST ANOMALOUS (" + score_range(digit_err, d_most) + ")", dm},
              {"ITS RECONSTRUCTION", rec(*full.model, dm)},
              {"MNIST, LEAST ANOMALOUS (" + score_range(digit_err, d_least) + ")", rows(test.images, d_least)}},
             "The test images the AE trained on MNIST finds most and least anomalous, with their reconstructions "
             "(scores = MSE per pixel, left to right)",
             "001 \"Anomaly detection with AEs\"",
             "The most anomalous items are large bright garments and bags: the decoder can only draw digit strokes, "
             "so it returns a blob. The least anomalous Fashion items are *dark* ones (black T-shirts, sandals, "
             "sneakers): the score is a squared error per pixel, so an image with little ink has little to get wrong. "
             "These are the misses, and a reason to normalise the score by the image's energy in practice. The most "
             "anomalous MNIST digits are thick, wide or oddly written; the least anomalous are thin 1s. Scores of "
             "every shown image: most_anomalous.csv.");
      const auto heldout_ranked = by_score(focus_err, indices_where(test.labels, kDefaultDigit, true));
      const auto others_ranked = by_score(focus_err, indices_where(test.labels, kDefaultDigit, false));
      const auto h_most = head(heldout_ranked, k), h_least = tail(heldout_ranked, k), o_most = head(others_ranked, k);
      const Tensor hm = rows(test.images, h_most), hl = rows(test.images, h_least), om = rows(test.images, o_most);
      L.grid("most_anomalous_heldout_digit",
             {{"HELD-OUT " + dd + ", MOST ANOMALOUS (" + score_range(focus_err, h_most) + ")", hm},
              {"ITS RECONSTRUCTION", rec(*focus.model, hm)},
              {"HELD-OUT " + dd + ", LEAST ANOMALOUS (" + score_range(focus_err, h_least) + ")", hl},
              {"ITS RECONSTRUCTION", rec(*focus.model, hl)},
              {"OTHER DIGITS, MOST ANOMALOUS (" + score_range(focus_err, o_most) + ")", om},
              {"ITS RECONSTRUCTION", rec(*focus.model, om)}},
             "The AE trained without " + dd + ": its most and least anomalous " + dd + "s and other digits, with reconstructions",
             "001 \"Anomaly detection with AEs\"",
             "The decoder never learnt a " + dd + ", so it redraws each one as the nearest digit it knows. The " + dd +
                 "s it misses (least anomalous) are the ones a seen digit covers (a closed 4 is a 9, a thin one is nearly "
                 "a 1); the normal digits it flags are thick or odd ones, as in the other figure.");
      std::vector<std::vector<std::string>> table;
      auto add = [&](const std::string& set, const std::string& what, const std::vector<std::size_t>& idx,
                     const std::vector<double>& score, const std::vector<std::size_t>& labels, bool fashion_labels) {
        for (std::size_t r = 0; r < idx.size(); ++r)
          table.push_back({set, what, std::to_string(r + 1), std::to_string(idx[r]),
                           fashion_labels ? kFashionNames[labels[idx[r]]] : std::to_string(labels[idx[r]]), fmt(score[idx[r]], 6)});
      };
      add("fashion_vs_full_ae", "most", f_most, fashion_err, fashion.labels, true);
      add("fashion_vs_full_ae", "least", f_least, fashion_err, fashion.labels, true);
      add("mnist_vs_full_ae", "most", d_most, digit_err, test.labels, false);
      add("mnist_vs_full_ae", "least", d_least, digit_err, test.labels, false);
      add("heldout_" + dd + "_vs_ae_without_" + dd, "most", h_most, focus_err, test.labels, false);
      add("heldout_" + dd + "_vs_ae_without_" + dd, "least", h_least, focus_err, test.labels, false);
      add("others_vs_ae_without_" + dd, "most", o_most, focus_err, test.labels, false);
      L.csv("most_anomalous", "set,order,rank,test_index,label,score_mse_per_pixel", table,
            "the images shown in the two grids, in order, with their scores (index = row in the test set)");
    }
    {
      std::vector<std::string> cats;
      std::vector<double> digit_means, fashion_means;
      for (std::size_t c = 0; c < 10; ++c) {
        cats.push_back(std::to_string(c) + " / " + kFashionNames[c]);
        digit_means.push_back(mean(pick(digit_err, test.labels, c, true)));
        fashion_means.push_back(mean(pick(fashion_err, fashion.labels, c, true)));
      }
      L.plot("mean_error_per_class",
             Plot("Mean reconstruction error per class, AE (M = " + m_fashion + ") trained on all MNIST digits (dashed: threshold tau)", "class (digit / Fashion-MNIST class)",
                  "mean MSE per pixel")
                 .bars(cats, {{"MNIST test digit", digit_means}, {"Fashion-MNIST test item", fashion_means}})
                 .command("set arrow from graph 0, first " + fmt(full.threshold, 6) + " to graph 1, first " +
                          fmt(full.threshold, 6) + " nohead lw 2 dt 2 lc rgb 'black'")
                 .command("set yrange [0:" + fmt(1.25 * *std::max_element(fashion_means.begin(), fashion_means.end()), 4) + "]")
                 .command("set key inside right top")
                 .size(1100, 560),
             "Mean score per class: each digit and each Fashion-MNIST class under the AE trained on MNIST",
             "001 \"Anomaly detection with AEs\"",
             "Every Fashion class scores far above every digit class on average. Sandals and sneakers (small, thin, "
             "mostly dark) come closest to the digits and hold most of the misses; bags, T-shirts and pullovers "
             "(large bright areas) are the clearest anomalies. Among digits, 1 (the least ink) is the easiest to "
             "reconstruct, 8 and 2 the hardest.");
      std::vector<std::vector<std::string>> table;
      for (std::size_t c = 0; c < 10; ++c)
        table.push_back({std::to_string(c), fmt(digit_means[c], 6), kFashionNames[c], fmt(fashion_means[c], 6)});
      L.csv("mean_error_per_class_table", "digit,mnist_mean_mse,fashion_class,fashion_mean_mse", table,
            "mean score per class under the AE trained on all digits");
    }
    {
      std::vector<std::string> cats;
      std::vector<double> without, with;
      std::vector<std::vector<std::string>> table;
      std::string easy;
      for (const auto& r : heldout)
        if (r.auroc > 0.9) easy += (easy.empty() ? "" : ", ") + std::to_string(r.digit);
      easy = easy.empty() ? "No digit becomes" : easy + " become";
      for (const auto& r : heldout) {
        cats.push_back(std::to_string(r.digit));
        without.push_back(r.auroc);
        with.push_back(r.auroc_seen);
        table.push_back({std::to_string(r.digit), fmt(r.auroc, 5), fmt(r.auroc_seen, 5), fmt(r.threshold, 6),
                         fmt(r.tpr, 4), fmt(r.fpr, 4), fmt(r.mean_heldout, 6), fmt(r.mean_others, 6)});
      }
      L.csv("heldout_digit_auroc_table",
            "digit,auroc_trained_without,auroc_trained_with,threshold,tpr_at_threshold,fpr_at_threshold,"
            "mean_mse_heldout,mean_mse_others",
            table,
            "each digit held out in turn: AUROC of its test images against the other test digits, for the AE "
            "trained without it and (baseline) for the AE trained on all digits; the 95th-percentile threshold and "
            "its true/false positive rates");
      L.plot("heldout_digit_auroc",
             Plot("AUROC of each digit against the other digits (dashed: chance)", "digit d (the anomaly class)", "AUROC")
                 .bars(cats, {{"AE M=" + m_digit + " trained without d", without}, {"AE M=" + m_digit + " trained on all digits (d seen)", with}})
                 .command("set arrow from graph 0, first 0.5 to graph 1, first 0.5 nohead lw 2 dt 2 lc rgb 'black'")
                 .command("set yrange [0:1.3]")
                 .command("set ytics 0, 0.2, 1")
                 .command("set key inside left top")
                 .size(1000, 520),
             "AUROC with each digit held out in turn, against the same score from the model that saw it",
             "001 \"Anomaly detection with AEs\"",
             "Holding a digit out raises its AUROC for every digit: the model reconstructs only what it was shown. "
             "How far depends on the digit. " + easy + " easy to detect (AUROC above 0.9); 9 stays "
             "hard because a 9 is a 4 or a 7 closed at the top, which the model did see; and 1 stays *below* chance: "
             "a stroke that every other digit contains, with the least ink, is still reconstructed better than the "
             "average seen digit. (Green bars below 0.5 mean the class is easier to reconstruct than the rest, not "
             "that the score is inverted.)");
    }

    L.note("**Why two code sizes.** The run also trains the crossed pair. With the held-out digit's tight code "
           "(M = " + m_digit + "), Fashion-MNIST's AUROC is " + fmt(auroc_fashion_m8, 4) + " (against " +
           fmt(auroc_fashion, 4) + " at M = " + m_fashion + "): the digits themselves come back blurred, their errors "
           "rise toward the clothes'. With the Fashion detector's code (M = " + m_fashion + "), the held-out " + dd +
           "'s AUROC is " + fmt(auroc_heldout_m32, 3) + " (against " + fmt(h.auroc, 3) + " at M = " + m_digit +
           "): a wide code generalises to the unseen digit and reconstructs it well enough. A far anomaly needs a "
           "model that is good at the normal data; a near one needs a model that is good at *nothing else*.");
    L.note("**All ten digits.** Each digit is held out in turn in the default run (ten models of " + std::to_string(L.epochs()) +
           " epochs; there is no lesson-specific flag): heldout_digit_auroc_table.csv. The figures show digit " + dd +
           ", a mid-range case (neither one of the easiest nor one of the two hard digits, 1 and 9) whose failure "
           "is easy to see: the model without it redraws a 4 as the 9 it resembles, so the figures show both the effect "
           "and its limit. No published anchor is listed for this lesson; the references are "
           "the baselines trained in the same run (PCA, and the model that saw the digit).");
    L.note("**The threshold.** τ is the 95th percentile of the detector's errors on its own training images, so about "
           "5% of normal digits are flagged by construction (the false positive rate on the test digits confirms it: " +
           fmt(digit_fpr, 3) + " and " + fmt(h.fpr, 3) + "). The 99th percentile trades recall for fewer false "
           "alarms: Fashion TPR " + fmt(fraction_above(fashion_err, threshold_99), 3) + " at FPR " +
           fmt(fraction_above(digit_err, threshold_99), 3) + ". The AUROC does not depend on τ: it sums over all "
           "thresholds (the ROC curve).");
    L.metric("auroc_fashion", auroc_fashion,
             "AUROC (1 = perfect, 0.5 = chance): Fashion-MNIST test items (anomalies) against MNIST test digits, AE "
             "M=" + m_fashion + " trained on all MNIST digits. Target ≥ 0.99; baseline in this run: PCA-" + m_fashion +
                 " reconstruction error, " + fmt(pca_auroc_fashion, 4));
    L.metric("auroc_fashion_pca", pca_auroc_fashion, "the same AUROC with PCA-" + m_fashion + "'s reconstruction error (baseline)");
    L.metric("auroc_fashion_m" + m_digit, auroc_fashion_m8,
             "the same AUROC with the M=" + m_digit + " code of the held-out-digit detector (the crossed pair)");
    L.metric("auroc_heldout_digit", h.auroc,
             "AUROC: the test images of digit " + dd + " against the other test digits, AE M=" + m_digit +
                 " trained without " + dd + ". Baselines in this run: the same AE trained on all digits (" + dd +
                 " seen), " + fmt(h.auroc_seen, 3) + "; PCA-" + m_digit + " fitted without " + dd + ", " +
                 fmt(pca_auroc_heldout, 3));
    L.metric("heldout_digit", static_cast<double>(kDefaultDigit), "the digit held out for auroc_heldout_digit and the figures");
    L.metric("auroc_heldout_digit_seen", h.auroc_seen, "the same AUROC with the AE M=" + m_digit + " trained on all digits (digit seen)");
    L.metric("auroc_heldout_digit_pca", pca_auroc_heldout, "the same AUROC with PCA-" + m_digit + " fitted without the digit");
    L.metric("auroc_heldout_digit_m" + m_fashion, auroc_heldout_m32,
             "the same AUROC with the M=" + m_fashion + " code of the Fashion detector, trained without the digit (the crossed pair)");
    std::vector<double> all;
    for (const auto& r : heldout) {
      all.push_back(r.auroc);
      L.metric("auroc_heldout_" + std::to_string(r.digit), r.auroc, "AUROC with digit " + std::to_string(r.digit) + " held out (AE M=" + m_digit + ")");
    }
    L.metric("auroc_heldout_mean", mean(all), "mean AUROC over the ten held-out digits");
    L.metric("threshold_fashion", full.threshold, "τ of the Fashion detector: 95th percentile of its training digits' errors (MSE per pixel)");
    L.metric("tpr_fashion", fashion_tpr, "Fashion items flagged at τ (true positive rate)");
    L.metric("fpr_fashion", digit_fpr, "MNIST test digits flagged at τ (false positive rate; 0.05 by construction on the training digits)");
    L.metric("threshold_99_fashion", threshold_99, "the 99th percentile of the same training errors (MSE per pixel)");
    L.metric("tpr_fashion_99", fraction_above(fashion_err, threshold_99), "Fashion items flagged at the 99th percentile");
    L.metric("fpr_fashion_99", fraction_above(digit_err, threshold_99), "MNIST test digits flagged at the 99th percentile");
    L.metric("threshold_heldout_digit", focus.threshold, "τ of the AE trained without the digit: 95th percentile of its training errors (MSE per pixel)");
    L.metric("tpr_heldout_digit", h.tpr, "held-out digits flagged at τ (true positive rate)");
    L.metric("fpr_heldout_digit", h.fpr, "other test digits flagged at τ (false positive rate)");
    L.metric("mnist_test_mean_mse", mean(digit_err), "mean score of the MNIST test digits under the Fashion detector (MSE per pixel)");
    L.metric("fashion_test_mean_mse", mean(fashion_err), "mean score of the Fashion-MNIST test items under the Fashion detector (MSE per pixel)");
  });
}
