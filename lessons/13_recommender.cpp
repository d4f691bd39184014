// Lesson 13: a recommender system, an autoencoder over a ratings matrix with missing entries.
//   — slides 003 "Sistemas de Recomendação" (the users × items ratings matrix in, the completed matrix out; the
//   deck's reference [3], Ferreira et al. 2020, "Recommendation System Using Autoencoders")
// I-AutoRec (Sedhain et al. 2015), autoencoders/autorec.hpp: one input per item, its ratings by every user,
//   min_θ Σ_i ‖(r_i − h(r_i; θ)) ⊙ m_i‖² + (λ/2)(‖W‖² + ‖V‖²),   h(r) = W · sigmoid(V r + μ) + b
// the error counted on the observed ratings only. Held-out RMSE against predicting the global mean rating and
// each item's mean rating. By default the ratings are a synthetic low-rank matrix made from the seed
// (nn/ratings.hpp); --ratings FILE reads MovieLens' u.data, ratings.dat or ratings.csv instead.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "autoencoders/autorec.hpp"
#include "lessons/support.hpp"
#include "nn/ratings.hpp"

using namespace lessons;

namespace {

// A block of the ratings matrix as a greyscale image: rows are users, columns items; a rating v in [lo, hi] is
// drawn from dark grey (lo) to white (hi), a missing entry black.
Tensor matrix_block(const std::vector<std::size_t>& users, const std::vector<std::size_t>& items,
                    const std::function<double(std::size_t, std::size_t)>& value, double lo, double hi) {
  Tensor img = Tensor::zeros({1, users.size() * items.size()});
  for (std::size_t y = 0; y < users.size(); ++y)
    for (std::size_t x = 0; x < items.size(); ++x) {
      const double v = value(users[y], items[x]);
      img.data()[y * items.size() + x] = std::isnan(v) ? 0.0f : static_cast<float>(0.25 + 0.75 * (std::clamp(v, lo, hi) - lo) / (hi - lo));
    }
  return img;
}

constexpr double kNotRated = std::numeric_limits<double>::quiet_NaN();

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "13_recommender";
  spec.title = "A recommender system: I-AutoRec on a ratings matrix with missing entries";
  spec.summary =
      "A recommender fills in a users × items ratings matrix of which only a few percent is known (slides 003 "
      "\"Sistemas de Recomendação\"). I-AutoRec (Sedhain et al. 2015) is an autoencoder whose input is one item: its "
      "ratings by every user, 0 where the user did not rate it. It encodes the item into a code of k = 500 sigmoid "
      "units and decodes a rating for every user, h(r) = W · sigmoid(V r + μ) + b; the error is counted only on the "
      "ratings that were observed (a missing rating is not a rating of 0), plus an L2 penalty on W and V. The "
      "prediction for user u and item i is entry u of the decoded item i. 10 % of the known ratings are held out; "
      "the model is judged by its RMSE on them, against two baselines: the mean of all training ratings, and each "
      "item's mean training rating. By default the ratings are SYNTHETIC: a low-rank matrix made from the seed, "
      "the size and sparsity of MovieLens 100K (943 users × 1682 items, 100,000 ratings, 6.3 % observed, ratings "
      "1–5). Give --ratings FILE to train on a MovieLens file instead (u.data, ratings.dat or ratings.csv).";
  spec.slides = "003 \"Sistemas de Recomendação\" (the ratings matrix through an autoencoder; ref. [3] Ferreira et al. 2020)";
  spec.epochs = 80;
  spec.batch = 32;
  spec.lr = 3e-4;
  spec.datasets = false;
  spec.reads_images = false;
  spec.quick_epochs = 40;
  spec.metrics = {"test_rmse", "baseline_rmse_global_mean", "baseline_rmse_item_mean", "data_source"};
  spec.flags = {{"--ratings", "FILE", "a MovieLens ratings file (u.data, ratings.dat or ratings.csv); default: a synthetic low-rank matrix", ""}};
  return run(argc, argv, spec, [](Lesson& L) {
    const std::uint64_t seed = L.options().seed;
    const std::string file = L.flag("--ratings");

    // ---- the ratings: a MovieLens file, or a synthetic low-rank matrix made from the seed ----
    nn::Ratings all;
    std::vector<double> scores;  // the synthetic matrix's noise-free scores, for the oracle reference
    std::string source;
    if (!file.empty()) {
      all = nn::read_ratings(file);
      source = "MovieLens file " + all.source;
      L.say("Ratings from " + all.source);
    } else {
      auto options = nn::SyntheticRatingsOptions();
      if (L.quick()) options.users(300).items(500).density(0.1);
      nn::SyntheticRatings synthetic = nn::synthetic_ratings(options, seed);
      all = std::move(synthetic.ratings);
      scores = std::move(synthetic.scores);
      source = all.source;
      L.say("No --ratings file given: the ratings are SYNTHETIC, a low-rank matrix made from the seed (" + all.source + ")");
    }
    L.say(std::to_string(all.users) + " users x " + std::to_string(all.items) + " items, " + std::to_string(all.size()) +
          " ratings (" + fmt(100 * all.density(), 3) + " % observed)");
    const nn::RatingsSplit split = nn::split_ratings(all, 0.1, seed + 1);
    const nn::Ratings& train = split.train;
    const nn::Ratings& test = split.test;
    double lo = all.entries.front().value, hi = lo;
    for (const nn::Rating& r : all.entries) lo = std::min<double>(lo, r.value), hi = std::max<double>(hi, r.value);

    // ---- the baselines ----
    const double mu = nn::global_mean(train);
    const std::vector<double> item_mean = nn::item_means(train);
    const double rmse_global = nn::rmse(test, [&](std::size_t, std::size_t) { return mu; });
    const double rmse_item = nn::rmse(test, [&](std::size_t, std::size_t i) { return item_mean[i]; });
    L.say("baselines on the held-out ratings: global mean RMSE " + fmt(rmse_global) + ", item mean RMSE " + fmt(rmse_item));

    // Users or items without a training rating get the item mean (the global mean for an item): the autoencoder
    // has nothing to go on for them (the paper predicts 3).
    std::vector<std::size_t> user_count(all.users, 0), item_count(all.items, 0);
    for (const nn::Rating& r : train.entries) ++user_count[r.user], ++item_count[r.item];
    std::size_t cold = 0;
    for (const nn::Rating& r : test.entries) cold += user_count[r.user] == 0 || item_count[r.item] == 0;

    // ---- I-AutoRec: one row per item, its ratings by every user ----
    const Tensor train_items = nn::item_vectors(train);  // [items, users], 0 where not rated
    ad::Generator init(seed + 2), order(seed + 3);
    const double lambda = 0.1;  // λ_paper = 0.1 × 1682 items ≈ 170, in the paper's grid {0.001, ..., 100, 1000}
    ae::AutoRec model(ae::AutoRecOptions().input(all.users).hidden(500).lambda(lambda), init);
    auto predictions = [&]() {  // h(r_i) for every item, clipped to the ratings' range: [items, users]
      model.eval();
      Tensor p = ae::map_batches(train_items, [&](const Tensor& x) { return model.reconstruct(x); });
      model.train();
      return p;
    };
    auto predictor = [&](const Tensor& p) {
      return [&, p](std::size_t u, std::size_t i) {
        if (user_count[u] == 0 || item_count[i] == 0) return item_mean[i];
        return std::clamp<double>(p.data()[i * all.users + u], lo, hi);
      };
    };
    std::vector<double> epochs_axis, train_rmse, test_rmse;
    ae::Callbacks extra;
    extra.on_epoch = [&](const ae::EpochStats& s) {
      const Tensor p = predictions();
      epochs_axis.push_back(static_cast<double>(s.epoch));
      train_rmse.push_back(nn::rmse(train, predictor(p)));
      test_rmse.push_back(nn::rmse(test, predictor(p)));
    };
    nn::DataLoader loader(train_items, {}, L.options().batch, order);
    nn::Adam adam(model.named_parameters(), L.options().lr);
    const std::string model_file = "i_autorec.npz";
    bool loaded = false;
    try {
      loaded = L.load_model(model, model_file);
    } catch (const ad::Error& e) {  // a shape that does not fit: the saved model saw another number of users
      if (std::string(e.what()).find("shape") == std::string::npos) throw;
      throw ad::Error(std::string(e.what()) + " (--load needs the same ratings as the run that saved the model: the "
                      "same --ratings FILE, or none for the synthetic matrix, and the same --seed and --quick)");
    }
    if (!loaded) ae::fit(model, loader, adam, L.epochs(), L.progress("I-AutoRec", extra));
    const Tensor final_predictions = predictions();
    const auto predict = predictor(final_predictions);
    // the final model's RMSEs (the last epoch's entries of the curves when it was trained here; none under --load)
    const double final_test_rmse = loaded ? nn::rmse(test, predict) : test_rmse.back();
    const double final_train_rmse = loaded ? nn::rmse(train, predict) : train_rmse.back();
    L.say("I-AutoRec: held-out RMSE " + fmt(final_test_rmse) + " (train " + fmt(final_train_rmse) + ")");
    if (loaded)
      L.note("**Loaded model.** The ratings are not stored with the model: `--load` rebuilds them from the same data "
             "source, so give it the flags of the run that saved `" + model_file + "` (this run: " +
             (file.empty() ? std::string("no --ratings, the synthetic matrix from --seed ") + std::to_string(seed) +
                                 (L.quick() ? " with --quick" : "")
                           : "--ratings " + file) +
             "). With other ratings the held-out split, and so every number here, would not be the one the model was "
             "trained and judged on.");
    L.save_model(model, model_file,
                 "I-AutoRec, " + model.describe() + ": encoder.weight is V [500, users], decoder.weight is W [users, 500]");

    // ---- figures ----
    // the synthetic matrix's own noise-free scores: the floor no model beats on average (noise and rounding)
    const double oracle = scores.empty() ? 0.0 : nn::rmse(test, [&](std::size_t u, std::size_t i) {
      return std::clamp(scores[u * all.items + i], lo, hi);
    });
    const double last = epochs_axis.empty() ? static_cast<double>(L.epochs()) : epochs_axis.back();
    Plot curves("I-AutoRec: RMSE per epoch against the baselines", "epoch", "RMSE (rating points)");
    curves.line("I-AutoRec, train ratings", epochs_axis, train_rmse)
        .line("I-AutoRec, held-out ratings", epochs_axis, test_rmse)
        .line("global mean, held-out", {1, last}, {rmse_global, rmse_global}, false)
        .line("item mean, held-out", {1, last}, {rmse_item, rmse_item}, false);
    if (!scores.empty()) curves.line("noise-free scores S, held-out (the floor)", {1, last}, {oracle, oracle}, false);
    L.plot("rmse_per_epoch", curves,
           "Root mean squared error per epoch on the training and the held-out ratings, against the two baselines",
           "003 \"Sistemas de Recomendação\"",
           "The held-out RMSE falls through the global-mean line and then through the item-mean line: the code has "
           "learned more than each item's average, namely which users like which items. The train RMSE keeps falling "
           "below the held-out one while the held-out RMSE levels off: the L2 penalty (λ) keeps the gap from turning "
           "into overfitting (with a smaller λ the held-out curve turns back up after about 20 epochs)." +
               std::string(scores.empty() ? "" : " The lowest line is the synthetic matrix's own noise-free scores: what is "
                                                 "left between it and I-AutoRec is what 90 ratings per item cannot pin down."));

    // predicted against true on the held-out ratings: every rating (jittered sideways) and the mean per true value
    ad::Generator jitter(seed + 4);
    std::vector<double> true_x, pred_y;
    std::map<double, std::pair<double, double>> by_value_autorec, by_value_item;  // true value → (sum, count)
    for (const nn::Rating& r : test.entries) {
      const double p = predict(r.user, r.item);
      true_x.push_back(r.value + 0.3 * (jitter.uniform() - 0.5));
      pred_y.push_back(p);
      by_value_autorec[r.value].first += p, by_value_autorec[r.value].second += 1;
      by_value_item[r.value].first += item_mean[r.item], by_value_item[r.value].second += 1;
    }
    std::vector<double> values, mean_autorec, mean_item;
    for (const auto& [v, sc] : by_value_autorec) {
      values.push_back(v);
      mean_autorec.push_back(sc.first / sc.second);
      mean_item.push_back(by_value_item[v].first / by_value_item[v].second);
    }
    L.plot("predicted_vs_true",
           Plot("Held-out ratings: predicted against true", "true rating (jittered sideways)", "predicted rating")
               .scatter("I-AutoRec, each held-out rating", true_x, pred_y, 0.3)
               .line("I-AutoRec, mean prediction per true rating", values, mean_autorec)
               .line("item mean, mean prediction per true rating", values, mean_item)
               .line("perfect prediction (y = x)", {lo, hi}, {lo, hi}, false)
               .command("set xrange [" + fmt(lo - 0.5, 3) + ":" + fmt(hi + 0.5, 3) + "]")
               .command("set yrange [" + fmt(lo - 0.5, 3) + ":" + fmt(hi + 0.5, 3) + "]"),
           "I-AutoRec's predictions for the held-out ratings against the true ratings", "003 \"Sistemas de Recomendação\"",
           "The clouds climb with the true rating: items a user rated 5 are predicted higher than items they rated 1. "
           "Both methods pull towards the middle (the means lie above y = x for low ratings and below it for high "
           "ones), but I-AutoRec's means are steeper than the item mean's: it separates what this user likes from "
           "what everyone likes.");

    // the matrix itself: the busiest users and most rated items, then random ones
    std::vector<std::size_t> users(all.users), items(all.items);
    std::iota(users.begin(), users.end(), 0);
    std::iota(items.begin(), items.end(), 0);
    const std::size_t side = std::min<std::size_t>({64, all.users, all.items});
    std::vector<std::size_t> busy_users = users, busy_items = items;
    std::stable_sort(busy_users.begin(), busy_users.end(), [&](std::size_t a, std::size_t b) { return user_count[a] > user_count[b]; });
    std::stable_sort(busy_items.begin(), busy_items.end(), [&](std::size_t a, std::size_t b) { return item_count[a] > item_count[b]; });
    busy_users.resize(side), busy_items.resize(side);
    ad::Generator pick(seed + 5);
    pick.shuffle(users.begin(), users.end());
    pick.shuffle(items.begin(), items.end());
    users.resize(side), items.resize(side);
    std::sort(users.begin(), users.end());
    std::sort(items.begin(), items.end());
    const Tensor train_users = nn::user_vectors(train), test_users = nn::user_vectors(test);
    auto known = [&](const Tensor& m) {
      return [&m, &all](std::size_t u, std::size_t i) {
        const float v = m.data()[u * all.items + i];
        return v == 0 ? kNotRated : static_cast<double>(v);
      };
    };
    auto row = [&](const std::string& caption, const std::function<double(std::size_t, std::size_t)>& value) {
      return GridRow{caption, ad::concat(std::vector<Tensor>{matrix_block(busy_users, busy_items, value, lo, hi),
                                                             matrix_block(users, items, value, lo, hi)},
                                         0)};
    };
    std::vector<GridRow> matrix_rows{row("training ratings", known(train_users)), row("held-out ratings", known(test_users)),
                                     row("I-AutoRec, every entry", predict)};
    if (!scores.empty())
      matrix_rows.push_back(row("noise-free scores (synthetic)", [&](std::size_t u, std::size_t i) { return scores[u * all.items + i]; }));
    L.grid("ratings_matrix", matrix_rows,
           "Blocks of the ratings matrix (rows: users, columns: items; black: not rated; dark grey " + fmt(lo, 2) +
               " to white " + fmt(hi, 2) + "). Left: the " + std::to_string(side) + " users with the most ratings × the " +
               std::to_string(side) + " most rated items; right: " + std::to_string(side) + " random users × " +
               std::to_string(side) + " random items",
           "003 \"Sistemas de Recomendação\" (the ratings matrix with missing entries, completed by the autoencoder)",
           "Most of the matrix is black: even the busiest corner has holes, and a random block is almost empty. The "
           "autoencoder fills every entry; where there is a held-out rating, compare its shade. In the busy corner its "
           "completed matrix has the texture of the ratings" +
               std::string(scores.empty() ? "" : " and of the noise-free scores they were drawn from") +
               ". In the random block it shows horizontal stripes, one shade per user: those items have only a "
               "handful of ratings, so the code says little about them and the prediction falls back on each user's "
               "output bias b_u (the user's usual rating). Item-based AutoRec knows an item only through its "
               "ratings: the cold-start problem.",
           side);

    // ---- tables and metrics ----
    if (!epochs_axis.empty()) {  // a training history: none under --load
      std::vector<std::vector<std::string>> per_epoch;
      for (std::size_t e = 0; e < epochs_axis.size(); ++e)
        per_epoch.push_back({fmt(epochs_axis[e], 4), fmt(train_rmse[e], 6), fmt(test_rmse[e], 6), fmt(rmse_global, 6), fmt(rmse_item, 6)});
      L.csv("rmse_table", "epoch,train_rmse,test_rmse,baseline_global_mean_test_rmse,baseline_item_mean_test_rmse", per_epoch,
            "RMSE per epoch, train and held-out, and the two baselines");
    }
    L.csv("published_anchors", "model,rmse,data_set",
          {{"I-AutoRec (this run)", fmt(final_test_rmse, 4), source},
           {"I-AutoRec (Sedhain et al. 2015)", "0.831", "MovieLens-1M, 90/10 split"},
           {"U-AutoRec (Sedhain et al. 2015)", "0.874", "MovieLens-1M, 90/10 split"},
           {"biased MF (Sedhain et al. 2015)", "0.845", "MovieLens-1M, 90/10 split"}},
          "this run's held-out RMSE beside the published AutoRec numbers (on another data set)");

    const bool synthetic = file.empty();
    L.metric("data_source", synthetic ? source + "; not MovieLens" : source,
             "where the ratings came from");
    L.metric("test_rmse", final_test_rmse,
             "I-AutoRec's RMSE on the held-out 10 % of ratings, in rating points; hold it against the two baselines "
             "below (same run, same split) and against the published I-AutoRec RMSE 0.831 on MovieLens-1M (Sedhain et "
             "al. 2015; U-AutoRec 0.874, biased MF 0.845), which is ANOTHER data set" +
                 std::string(synthetic ? " (this run's ratings are synthetic)" : ""));
    L.metric("baseline_rmse_item_mean", rmse_item, "held-out RMSE of predicting each item's mean training rating (rating points)");
    L.metric("baseline_rmse_global_mean", rmse_global, "held-out RMSE of predicting the mean training rating (rating points)");
    L.metric("train_rmse", final_train_rmse, "I-AutoRec's RMSE on the training ratings (rating points)");
    L.metric("published_i_autorec_rmse_movielens_1m", 0.831, "Sedhain et al. 2015, Table 1 (MovieLens-1M, 90/10): another data set");
    if (!scores.empty())
      L.metric("oracle_rmse_noise_free_scores", oracle,
               "held-out RMSE of the synthetic matrix's own noise-free scores S (clipped to 1–5): the floor set by the "
               "noise and rounding, which no model can beat on average");
    L.metric("users", static_cast<double>(all.users), "users (the autoencoder's input and output size)");
    L.metric("items", static_cast<double>(all.items), "items (the autoencoder's training examples)");
    L.metric("ratings", static_cast<double>(all.size()), "observed ratings, train and held-out");
    L.metric("density", all.density(), "observed fraction of the users × items matrix");
    L.metric("lambda", lambda, "the L2 weight λ on W and V, per item (λ_paper = λ × items)");
    L.metric("cold_test_ratings", static_cast<double>(cold),
             "held-out ratings whose user or item has no training rating: predicted by the item (or global) mean");
    L.note(std::string(synthetic ? "**The ratings here are synthetic**, not MovieLens: a low-rank matrix made from the seed (nn/ratings.hpp, "
                                   "synthetic_ratings): S_ui = μ + b_u + c_i + p_u · q_i with rank-10 interactions, "
                                   "r_ui = clip(round(S_ui + ε), 1, 5) with ε ~ N(0, 0.5²), and the observed entries drawn "
                                   "with MovieLens-like skew (a few items rated by many users, most by few). Run with "
                                   "`--ratings path/to/u.data` (or ratings.dat, ratings.csv) for real ratings. "
                                 : "") +
           "The published I-AutoRec RMSE, 0.831, is on MovieLens-1M (Sedhain et al. 2015, 90/10 split; U-AutoRec 0.874, "
           "biased matrix factorisation 0.845): another data set, so hold this run's RMSE against the two baselines "
           "trained in the same run, and read the published number only as the order of magnitude a tuned I-AutoRec "
           "reaches on real ratings.");
    L.say("published: I-AutoRec 0.831 on MovieLens-1M (Sedhain et al. 2015; U-AutoRec 0.874, biased MF 0.845) — another "
          "data set; this run: " + fmt(final_test_rmse) + " on " + (synthetic ? "synthetic ratings" : all.source));
  });
}
