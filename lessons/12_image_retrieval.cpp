// Lesson 12: image retrieval with an encoder and a k-nearest-neighbour search over its table of encodings.
//   "Utilizamos apenas o encoder já treinado e extraímos todos os encodings de nosso database de imagens.
//    Treinamos um KNN com nosso novo dataset de encodings.
//    Com uma imagem de referência conseguimos recuperar as imagens mais parecidas em nosso database."
//                                                          — slides 003 "Recuperação de Imagens"; 002 "Image search"
//   database:  h_i = f(x_i) for the 60,000 training images      (the slide's table: img_i, feat_1 … feat_M)
//   query:     h_q = f(x_q) for a test image;  retrieve the k images i with the smallest ‖h_q − h_i‖
//   precision@k = (1/|Q|) Σ_q |{ retrieved images with the label of q }| / k        (labels only score, never train)
// The same search runs in three spaces: the autoencoder's M-number code, PCA with M components, the 784 pixels.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <numeric>

#include "autodiff/parallel.hpp"
#include "autoencoders/autoencoder.hpp"
#include "autoencoders/knn.hpp"
#include "autoencoders/pca.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

constexpr std::size_t kCode = 16;   // M: the code size, and PCA's number of components
constexpr std::size_t kMaxK = 50;   // precision@k for k = 1 … 50
constexpr std::size_t kShown = 10;  // neighbours drawn per query

constexpr std::size_t kQueryBlock = 128;  // queries answered (encoded, then searched) at a time

struct Retrieval {
  std::string space;
  Tensor database;                                   // the encodings table of this space
  std::vector<std::vector<std::size_t>> neighbours;  // per query, its kMaxK nearest database rows, nearest first
  double ms_per_query = 0;        // encoding a block of queries and searching the table, per query (steady clock)
  double cpu_ms_per_query = 0;    // the same in processor time, summed over threads
  std::vector<double> precision;  // precision@k for k = 1 … kMaxK
};

// Answers the queries a block of 128 at a time: encode the block, search the table. Each block is timed on a
// steady clock and in processor time; the time per query is the median over the blocks (robust to another program
// taking the processor for a while). Then scores the neighbours by their labels.
Retrieval retrieve(const std::string& space, const Tensor& database, const Tensor& query_images,
                   const std::function<Tensor(const Tensor&)>& encode, const std::vector<std::size_t>& database_labels,
                   const std::vector<std::size_t>& query_labels) {
  Retrieval r;
  r.space = space;
  r.database = database;
  const ae::EncodingsTable table(database);
  std::vector<double> wall_ms, cpu_ms;  // per query, for each block
  for (std::size_t start = 0; start < query_images.size(0); start += kQueryBlock) {
    const std::size_t end = std::min(query_images.size(0), start + kQueryBlock);
    const auto wall_start = std::chrono::steady_clock::now();
    const std::clock_t cpu_start = std::clock();
    const auto found = table.nearest(encode(ad::slice(query_images, 0, start, end)), kMaxK);
    const std::clock_t cpu_end = std::clock();
    const std::chrono::duration<double, std::milli> wall = std::chrono::steady_clock::now() - wall_start;
    const double queries = static_cast<double>(end - start);
    wall_ms.push_back(wall.count() / queries);
    cpu_ms.push_back(1000.0 * static_cast<double>(cpu_end - cpu_start) / CLOCKS_PER_SEC / queries);
    r.neighbours.insert(r.neighbours.end(), found.begin(), found.end());
  }
  r.ms_per_query = median(wall_ms);
  r.cpu_ms_per_query = median(cpu_ms);
  r.precision = ae::precision_at_k(r.neighbours, database_labels, query_labels, kMaxK);
  return r;
}

// The query, a grey gap, then its nearest neighbours; a neighbour with another label is drawn inverted.
GridRow neighbour_row(const std::string& caption, const Tensor& query, const nn::Dataset& database,
                      const std::vector<std::size_t>& neighbours, std::size_t query_label, std::size_t* wrong) {
  const std::size_t pixels = query.size(0);
  Tensor row = Tensor::zeros({kShown + 2, pixels});
  float* out = row.data();
  std::copy(query.data(), query.data() + pixels, out);
  std::fill(out + pixels, out + 2 * pixels, 200.0f / 255.0f);  // the grid's background grey
  *wrong = 0;
  for (std::size_t j = 0; j < kShown; ++j) {
    const float* image = database.images.data() + neighbours[j] * pixels;
    float* cell = out + (j + 2) * pixels;
    const bool same = database.labels[neighbours[j]] == query_label;
    for (std::size_t p = 0; p < pixels; ++p) cell[p] = same ? image[p] : 1.0f - image[p];
    *wrong += !same;
  }
  return {caption + " (" + std::to_string(*wrong) + " wrong)", row};
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "12_image_retrieval";
  spec.title = "Image retrieval: an encodings table and k nearest neighbours";
  spec.summary =
      "The slide's recipe: train an autoencoder, keep only its encoder, encode the whole database (the 60,000 "
      "training images) into a table of codes img_i → (feat_1 … feat_M), and answer a query image (a test image) with "
      "the database images whose codes are nearest to its code. The autoencoder is a 784-256-16 network (a ReLU "
      "hidden layer, a linear 16-number code, a mirrored decoder with a sigmoid output, per-pixel binary "
      "cross-entropy, Adam), trained without labels; the labels only score the answers (precision@k: the fraction of "
      "the k retrieved images that show the query's digit). The same exhaustive Euclidean search runs in three spaces: the 16-number code, PCA "
      "with 16 components (the best linear code of that size), and the 784 raw pixels. The code keeps the pixels' "
      "retrieval quality with a 49× smaller table, and its queries are about ten times faster.";
  spec.slides = "003 \"Recuperação de Imagens\" (encodings table, KNN, query image); 002 \"Image search\"";
  spec.epochs = 20;
  spec.batch = 128;
  spec.lr = 1e-3;
  spec.quick_epochs = 10;
  spec.metrics = {"precision_at_10_code", "precision_at_10_pca", "precision_at_10_pixels", "query_ms_code",
                  "query_ms_pixels"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();  // the database
    const nn::Dataset& test = L.test_set();    // the queries
    const std::uint64_t seed = L.options().seed;

    // ---- the encoder: an autoencoder trained on the database images, without their labels -------------------
    ad::Generator gen(seed);
    ae::Autoencoder model(ae::AutoencoderOptions()
                              .sizes({784, 256, kCode})
                              .hidden(ae::Activation::ReLU)
                              .code(ae::Activation::Identity)
                              .output(ae::Activation::Sigmoid)
                              .loss(ae::Reconstruction::BCE),
                          gen);
    ad::Generator order(seed + 1);
    nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
    nn::Adam adam(model.named_parameters(), L.options().lr);
    const std::string file = "retrieval_autoencoder_m16.npz";
    if (!L.load_model(model, file)) ae::fit(model, loader, adam, L.epochs(), L.progress(model.describe()));
    model.eval();
    L.save_model(model, file,
                 "the autoencoder 784-256-16 whose encoder makes the encodings table (ReLU hidden layer, linear code, "
                 "sigmoid output, BCE)");
    auto encode = [&](const Tensor& x) { return ae::map_batches(x, [&](const Tensor& b) { return model.encode(b); }); };

    L.say("PCA on " + std::to_string(train.size()) + " database images");
    ae::PCA pca;
    pca.fit(train.images);

    // ---- the encodings tables, and the queries in each space -------------------------------------------------
    L.say("retrieving the " + std::to_string(kMaxK) + " nearest of " + std::to_string(train.size()) +
          " images for each of " + std::to_string(test.size()) + " queries, in three spaces");
    std::vector<Retrieval> spaces;
    spaces.push_back(retrieve("code", encode(train.images), test.images, encode, train.labels, test.labels));
    spaces.push_back(retrieve(
        "PCA", pca.transform(train.images, kCode), test.images,
        [&](const Tensor& x) { return pca.transform(x, kCode); }, train.labels, test.labels));
    spaces.push_back(retrieve(
        "pixels", train.images, test.images, [](const Tensor& x) { return x; }, train.labels, test.labels));
    const Retrieval &code = spaces[0], &pcas = spaces[1], &pixels = spaces[2];
    for (const auto& s : spaces)
      L.say("  " + s.space + ": precision@1 " + fmt(s.precision[0]) + ", @10 " + fmt(s.precision[9]) + ", @50 " +
            fmt(s.precision[kMaxK - 1]) + "; " + fmt(s.ms_per_query, 3) + " ms per query");

    // ---- the slide's table of encodings --------------------------------------------------------------------
    std::string header = "img_i";
    for (std::size_t j = 1; j <= kCode; ++j) header += ",feat_" + std::to_string(j);
    std::vector<std::vector<std::string>> table;
    for (std::size_t i = 0; i < train.size(); ++i) {
      std::vector<std::string> row{"img_" + std::to_string(i + 1)};
      for (std::size_t j = 0; j < kCode; ++j) row.push_back(fmt(code.database.data()[i * kCode + j], 4));
      table.push_back(row);
    }
    L.csv("encodings", header, table,
          "the slide's table of encodings: one row per database image (img_i is training image i, counted from 1 in "
          "the MNIST file), its " +
              std::to_string(kCode) + " code numbers feat_1 … feat_" + std::to_string(kCode) +
              " (4 significant digits)");

    // ---- figures -----------------------------------------------------------------------------------------------
    const auto queries = first_of_each_class(test);
    std::vector<GridRow> grid;
    std::vector<std::size_t> wrong_total(spaces.size(), 0);
    for (std::size_t c = 0; c < queries.size(); ++c) {
      const std::size_t q = queries[c];
      const Tensor query = ad::reshape(ad::slice(test.images, 0, q, q + 1), {784});
      for (std::size_t s = 0; s < spaces.size(); ++s) {
        std::size_t wrong = 0;
        grid.push_back(neighbour_row("digit " + std::to_string(test.labels[q]) + ", " + spaces[s].space, query, train,
                                     spaces[s].neighbours[q], test.labels[q], &wrong));
        wrong_total[s] += wrong;
      }
    }
    L.grid(
        "query_neighbours", grid,
        "The first test image of each digit (left), a grey gap, then its " + std::to_string(kShown) +
            " nearest database images, nearest first, in code space (" + std::to_string(kCode) +
            " numbers), PCA space (" + std::to_string(kCode) +
            " components) and pixel space (784); a neighbour with another label is drawn "
            "inverted (white background). Wrong neighbours among these " +
            std::to_string(kShown * queries.size()) + ": code " + std::to_string(wrong_total[0]) + ", PCA " +
            std::to_string(wrong_total[1]) + ", pixels " + std::to_string(wrong_total[2]) + ".",
        "003 \"Recuperação de Imagens\" (\"Com uma imagem de referência conseguimos recuperar as imagens mais "
        "parecidas\")",
        "Most queries get ten neighbours of their own digit in every space, often drawn in the same style (slant, "
        "stroke width, size). The mistakes are confusions a person could make: an 8 answered with 2s that have a loop "
        "at the bottom, a 9 with a 3 or a 5. In the default run PCA's 16 linear numbers make the most of them (a "
        "tilted 5 finds 2s, 8s and 9s) and the autoencoder's 16 numbers the fewest, fewer than the 784 pixels.");

    // where the code's curve passes the pixels' (if it does): from this k on, the code retrieves at least as well
    std::size_t from = kMaxK;
    while (from > 0 && code.precision[from - 1] >= pixels.precision[from - 1]) --from;
    const std::string crossing =
        from == 0 ? "The 16-number code retrieves at least as well as the 784 pixels at every k."
        : from == kMaxK
            ? "The raw pixels stay ahead of the 16-number code at every k."
            : "For the nearest few images (k ≤ " + std::to_string(from) + ") the raw pixels are slightly ahead (" +
                  fmt(pixels.precision[0], 3) + " against " + fmt(code.precision[0], 3) +
                  " at k = 1); from k = " + std::to_string(from + 1) +
                  " on, the 16-number code is, and its lead grows with k (" + fmt(code.precision[kMaxK - 1], 3) +
                  " against " + fmt(pixels.precision[kMaxK - 1], 3) + " at k = " + std::to_string(kMaxK) +
                  "): farther out, a code neighbourhood stays within one digit more often.";
    std::vector<double> ks;
    for (std::size_t k = 1; k <= kMaxK; ++k) ks.push_back(static_cast<double>(k));
    L.plot(
        "precision_at_k",
        Plot("Precision at k: " + std::to_string(test.size()) + " test queries, " + std::to_string(train.size()) +
                 " database images",
             "k (images retrieved per query)", "precision at k (fraction with the query's label)")
            .line("autoencoder code, " + std::to_string(kCode) + " numbers", ks, code.precision, false)
            .line("PCA, " + std::to_string(kCode) + " components", ks, pcas.precision, false)
            .line("pixels, 784 numbers", ks, pixels.precision, false)
            .command("set key inside bottom left"),
        "Precision@k, k = 1 … " + std::to_string(kMaxK) + ", in code space, PCA space and pixel space",
        "003 \"Recuperação de Imagens\" (a KNN over the encodings); 002 \"Image search\"",
        "Precision falls slowly as k grows: the k-th neighbour is farther away, more often another digit. " + crossing +
            (pcas.precision[9] < code.precision[9]
                 ? " PCA with as many numbers falls below the code: a linear projection to 16 dimensions mixes digits "
                   "that the nonlinear code keeps apart."
                 : " Here PCA with as many numbers retrieves better than the code (the autoencoder is undertrained)."));
    const std::string threads = std::to_string(ad::num_threads()) + " thread(s)";
    L.plot(
        "query_time",
        Plot("Time per query: encode it, then search the " + std::to_string(train.size()) +
                 "-row table (k = " + std::to_string(kMaxK) + ")",
             "space", "milliseconds per query")
            .bars({"code (" + std::to_string(kCode) + ")", "PCA (" + std::to_string(kCode) + ")", "pixels (784)"},
                  {{"wall clock, " + threads, {code.ms_per_query, pcas.ms_per_query, pixels.ms_per_query}},
                   {"processor time", {code.cpu_ms_per_query, pcas.cpu_ms_per_query, pixels.cpu_ms_per_query}}})
            .command("set yrange [0:*]")
            .command("set key inside top left"),
        "Time per query in each space: the median, over the blocks of 128 of the " + std::to_string(test.size()) +
            " test queries, of a block's time (encoding and search) divided by its queries",
        "003 \"Recuperação de Imagens\" (the table of encodings is what the search reads)",
        "An exhaustive search costs one dot product per database row, proportional to the number of features, plus "
        "picking the k smallest of the " +
            std::to_string(train.size()) +
            " distances, which does not depend on them: "
            "with 16 features instead of 784 the products become cheap and that selection is about half of what is "
            "left, which is why the speed-up stays near 10× and not 784/16 = 49×. Processor time (summed over threads) "
            "is what the work costs; wall-clock time is what a user waits, and grows when other programs share the "
            "cores.");

    // ---- metrics -----------------------------------------------------------------------------------------------
    L.metric(
        "precision_at_10_code", code.precision[9],
        "precision@10 in the autoencoder's 16-number code space: the fraction of the 10 retrieved database images "
        "with the query's label, mean over the test queries. Target: within 0.02 of pixel space's (below) or better");
    L.metric("precision_at_10_pca", pcas.precision[9],
             "precision@10 with PCA's 16 components (baseline fitted in the same run)");
    L.metric("precision_at_10_pixels", pixels.precision[9],
             "precision@10 on the 784 raw pixels (baseline in the same run)");
    L.metric("query_ms_code", code.ms_per_query,
             "milliseconds per query in code space, wall clock on " + threads +
                 ": encoding the query and searching the " + std::to_string(train.size()) + "-row table for its " +
                 std::to_string(kMaxK) + " nearest rows");
    L.metric("query_ms_pca", pcas.ms_per_query,
             "milliseconds per query with PCA's 16 components, measured the same way");
    L.metric("query_ms_pixels", pixels.ms_per_query,
             "milliseconds per query on the raw pixels, measured the same way (nothing to encode)");
    L.metric("query_time_ratio_pixels_to_code", pixels.ms_per_query / code.ms_per_query,
             "wall-clock time per query, pixel space over code space. Target ≥ 10");
    L.metric("query_cpu_ms_code", code.cpu_ms_per_query,
             "processor milliseconds per query in code space (summed over threads)");
    L.metric("query_cpu_ms_pca", pcas.cpu_ms_per_query, "processor milliseconds per query with PCA's 16 components");
    L.metric("query_cpu_ms_pixels", pixels.cpu_ms_per_query, "processor milliseconds per query on the raw pixels");
    L.metric("query_cpu_ratio_pixels_to_code", pixels.cpu_ms_per_query / code.cpu_ms_per_query,
             "processor time per query, pixel space over code space: the same ratio, less sensitive to a busy machine");
    for (const auto& s : spaces) {
      const std::string key = s.space == "code" ? "code" : s.space == "PCA" ? "pca" : "pixels";
      L.metric(
          "precision_at_1_" + key, s.precision[0],
          "precision@1: the nearest database image has the query's label (= 1-NN classification accuracy)" +
              std::string(key == "pixels" ? "; LeCun, Cortes & Burges's MNIST page lists a 3.09 % test error for a "
                                            "Euclidean k-NN on raw pixels (K. Wilder), i.e. 0.9691"
                                          : ""));
      L.metric("precision_at_50_" + key, s.precision[kMaxK - 1], "precision@50");
    }
    L.metric("code_size", static_cast<double>(kCode),
             "numbers per image in the encodings table (784 pixels: 49× smaller)");

    L.note("**How the query time is measured.** For each space the " + std::to_string(test.size()) +
           " test queries are answered in blocks of 128: encode the block (the encoder's forward pass; PCA's "
           "projection; nothing for the pixels), then search the " + std::to_string(train.size()) +
           "-row table for each query's " + std::to_string(kMaxK) + " nearest rows. Each block is timed on "
           "std::chrono::steady_clock (wall clock) and by std::clock (processor time of all threads); a query's time "
           "is the median over the blocks of the block's time divided by its queries, so that another program taking "
           "the processor for a moment does not count. Measured on " + threads + " (`--threads N`; the default is "
           "every core). Preparing a table (its rows' squared norms) is done once, before, like computing the table "
           "itself. All three spaces use the same exhaustive search, ae::EncodingsTable (autoencoders/knn.hpp): the "
           "distances ‖d‖² − 2 q·d from matrix products, the queries against 4096 table rows at a time, each query "
           "keeping its k nearest so far in a heap. (A first version multiplied 512 queries by the whole table and "
           "partially sorted all 60,000 rows per query: the selection, which does not shrink with the code, then "
           "dominated, and the code-space query was only about 4× faster than pixel space.) "
           "Timings vary with the machine and its load (this machine was shared while the lesson was written); the "
           "ratio between the spaces is the point.");
    L.note(
        "**Choosing the autoencoder** (precision@10 on the full test set, seed 1; pixels: 0.9475). 784-512-256-32, "
        "BCE: 0.903 after 1 epoch, 0.960 after 10 (MSE instead of BCE: 0.957), but PCA with 32 components already "
        "reaches 0.957: at 32 numbers a linear code retrieves as well, and better than the pixels (dropping the "
        "low-variance directions drops noise). At 16 numbers PCA falls to 0.939 while a nonlinear code does not: "
        "784-512-256-16, BCE: 0.893 after 1 epoch, 0.953 after 10; 784-256-16, BCE: 0.938 after 3 epochs, 0.945 "
        "after 10, 0.949 after 20, the lesson's choice: one hidden layer makes encoding a query 2.6× cheaper than the "
        "deeper encoder (0.21 against 0.54 million multiply-adds; about 0.02 ms per query for the deeper one, which "
        "pulled the speed-up down to about 10×), and trains in about 2 s "
        "per epoch on one thread. The labels are never used to train.");
  });
}
