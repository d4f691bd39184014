// Lesson 10: the variational autoencoder and generation.
//   encoder → q(z|x) = N(μ_x, diag σ_x²)  (the encoder outputs a distribution, not a point)
//   z = μ_x + σ_x ⊙ ε,  ε ~ N(0, I)       (reparameterization: the sample stays differentiable in μ and σ)
//   L(x, x') = reconstruction(x, x') + D_KL(N(μ_x, σ_x) ‖ N(0, I))                 — slides 003 "Variational Autoencoder"
//   D_KL = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)   (closed form, summed over the latent dimensions)
//   "Sample a point in the latent space and pass it through the decoder"          — slides 001; 000 "Variational"
// Reconstruction: −log p(x|z) for a Bernoulli decoder, Σ over the 784 pixels of BCE(x, x'), in nats (the slide
// writes ‖x − x'‖₂: a Gaussian decoder, VAEOptions().likelihood(MSE)). L is then the negative evidence lower bound,
// −ELBO ≥ −log p(x), reported in nats per image.
// Reference: D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014; PyTorch's examples/vae
// (784-400-20, ReLU, summed BCE + KL, Adam 1e-3, batch 128): test loss 105.6 nats per image after 10 epochs
// (measured with reference/torch_reference.py on MNIST).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "autoencoders/anomaly.hpp"
#include "autoencoders/autoencoder.hpp"
#include "autoencoders/knn.hpp"
#include "autoencoders/variational.hpp"
#include "lessons/support.hpp"

using namespace lessons;

namespace {

constexpr double kPyTorchNegElbo = 105.6;  // nats per test image: PyTorch examples/vae, 784-400-20, 10 epochs
constexpr double kPixels = 784;
constexpr std::size_t kHidden = 400;
constexpr std::size_t kEpochs2dPerEpoch = 2;  // the 2-D models train for this many times --epochs
constexpr std::size_t kManifoldSide = 20;     // the manifold is a kManifoldSide × kManifoldSide grid of decoded z
constexpr std::size_t kGeneratedShown = 16;   // samples per row in the generation figures
constexpr std::size_t kHoleSamples = 2000;    // z drawn to measure how often a sampler lands in a hole

// Per epoch: the two terms of the objective, on the training batches (mean over the epoch) and on the test set
// (after the epoch), in nats per image.
struct TermCurves {
  std::vector<double> epoch, train_reconstruction, train_kl, test_reconstruction, test_kl;
};

// With --load the weights come from FILE instead (the curves stay empty).
std::unique_ptr<ae::VariationalAutoencoder> train_vae(Lesson& L, std::size_t latent, std::size_t epochs,
                                                      std::uint64_t seed, TermCurves& curves, const std::string& file) {
  const nn::Dataset& train = L.train_set();
  const nn::Dataset& test = L.test_set();
  ad::Generator gen(seed);
  auto model = std::make_unique<ae::VariationalAutoencoder>(
      ae::VAEOptions().input(784).hidden({kHidden}).latent(latent).likelihood(ae::Reconstruction::BCE), gen);
  ad::Generator order(seed + 1);
  nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
  nn::Adam adam(model->named_parameters(), L.options().lr);
  ae::Callbacks extra;
  extra.on_epoch = [&](const ae::EpochStats& s) {
    const ae::Terms t = ae::evaluate(*model, test.images);
    curves.epoch.push_back(static_cast<double>(s.epoch));
    curves.train_reconstruction.push_back(s.term("reconstruction"));
    curves.train_kl.push_back(s.term("kl"));
    curves.test_reconstruction.push_back(t["reconstruction"]);
    curves.test_kl.push_back(t["kl"]);
  };
  if (!L.load_model(*model, file)) ae::fit(*model, loader, adam, epochs, L.progress("VAE " + model->describe(), extra));
  model->eval();
  return model;
}

// The plain autoencoder with the VAE's layers: 784-400-code, ReLU, a free linear code (like the VAE's μ), a sigmoid
// output and the same Bernoulli reconstruction (BCE, here as a mean per pixel: ×784 gives nats per image).
std::unique_ptr<ae::Autoencoder> train_plain_ae(Lesson& L, std::size_t code, std::size_t epochs, std::uint64_t seed,
                                                const std::string& file) {
  const nn::Dataset& train = L.train_set();
  ad::Generator gen(seed);
  auto model = std::make_unique<ae::Autoencoder>(ae::AutoencoderOptions()
                                                     .sizes({784, kHidden, code})
                                                     .hidden(ae::Activation::ReLU)
                                                     .code(ae::Activation::Identity)
                                                     .output(ae::Activation::Sigmoid)
                                                     .loss(ae::Reconstruction::BCE),
                                                 gen);
  ad::Generator order(seed + 1);
  nn::DataLoader loader(train.images, train.labels, L.options().batch, order);
  nn::Adam adam(model->named_parameters(), L.options().lr);
  if (!L.load_model(*model, file)) ae::fit(*model, loader, adam, epochs, L.progress("plain AE " + model->describe()));
  model->eval();
  return model;
}

std::vector<double> column(const Tensor& codes, std::size_t j) {
  std::vector<double> c(codes.size(0));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = codes.data()[i * codes.size(1) + j];
  return c;
}

// A class scatter of 2-D codes (the support's: ten distinct colours, each digit's name written large at the
// median of its codes), with equal scales on both axes and no key (the big digits name the classes).
Plot code_scatter(const std::string& title, const std::string& xlabel, const std::string& ylabel, const Tensor& codes,
                  const std::vector<std::size_t>& labels) {
  std::vector<std::string> names;
  for (std::size_t c = 0; c < 10; ++c) names.push_back(std::to_string(c));
  return Plot(title, xlabel, ylabel)
      .command("set size ratio -1")
      .command("unset key")
      .scatter_by_class(column(codes, 0), column(codes, 1), labels, names)
      .size(950, 800);
}

// Marks points of the code plane with black rings and their numbers (the samples drawn in a generation figure).
void mark_points(Plot& plot, const Tensor& z, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::string at = fmt(z.data()[2 * i], 6) + "," + fmt(z.data()[2 * i + 1], 6);
    plot.command("set object " + std::to_string(i + 1) + " circle at " + at +
                 " size screen 0.008 front fillstyle empty border lc rgb 'black' lw 2");
    plot.command("set label " + std::to_string(100 + i) + " '" + std::to_string(i + 1) + "' at " + at +
                 " offset 0.9,0.6 front font 'Sans,10' textcolor rgb 'black'");
  }
}

// Decodes the straight line from enc(a) to enc(b) in code space: the same path as VariationalAutoencoder::interpolate.
Tensor interpolate_codes(ae::AutoencoderModel& model, const Tensor& a, const Tensor& b, std::size_t steps) {
  ad::NoGradGuard no_grad;
  const Tensor za = model.encode(ad::reshape(a, {1, 784})), zb = model.encode(ad::reshape(b, {1, 784}));
  std::vector<Tensor> path;
  for (std::size_t s = 0; s < steps; ++s) {
    const float t = static_cast<float>(s) / static_cast<float>(steps - 1);
    path.push_back(ad::add(ad::mul(za, 1.0f - t), ad::mul(zb, t)));
  }
  return model.decode(ad::concat(path, 0));
}

// The same blend in pixel space: (1 − t) a + t b, a cross-fade, for comparison.
Tensor interpolate_pixels(const Tensor& a, const Tensor& b, std::size_t steps) {
  std::vector<Tensor> path;
  for (std::size_t s = 0; s < steps; ++s) {
    const float t = static_cast<float>(s) / static_cast<float>(steps - 1);
    path.push_back(ad::reshape(ad::add(ad::mul(a, 1.0f - t), ad::mul(b, t)), {1, 784}));
  }
  return ad::concat(path, 0);
}

// n points of the Gaussian N(m, C) fitted to the rows of `codes` (mean and full covariance): z = m + L ε, L Lᵀ = C
// (Cholesky). The best a plain autoencoder offers for "sample a point in the latent space": it has no prior.
Tensor sample_fitted_gaussian(const Tensor& codes, std::size_t n, ad::Generator& gen) {
  const std::size_t N = codes.size(0), D = codes.size(1);
  const float* c = codes.data();
  std::vector<double> mean(D, 0.0), cov(D * D, 0.0), chol(D * D, 0.0);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < D; ++j) mean[j] += c[i * D + j] / static_cast<double>(N);
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < D; ++j)
      for (std::size_t k = 0; k <= j; ++k)
        cov[j * D + k] += (c[i * D + j] - mean[j]) * (c[i * D + k] - mean[k]) / static_cast<double>(N);
  for (std::size_t j = 0; j < D; ++j)
    for (std::size_t k = 0; k <= j; ++k) {
      double s = cov[j * D + k];
      for (std::size_t m = 0; m < k; ++m) s -= chol[j * D + m] * chol[k * D + m];
      chol[j * D + k] = j == k ? std::sqrt(std::max(s, 1e-12)) : s / chol[k * D + k];
    }
  std::vector<float> z(n * D);
  std::vector<double> eps(D);
  for (std::size_t i = 0; i < n; ++i) {
    for (auto& e : eps) e = gen.normal();
    for (std::size_t j = 0; j < D; ++j) {
      double v = mean[j];
      for (std::size_t k = 0; k <= j; ++k) v += chol[j * D + k] * eps[k];
      z[i * D + j] = static_cast<float>(v);
    }
  }
  return Tensor::from_vector(z, {n, D});
}

// n points uniform in the bounding box of the rows of `codes`.
Tensor sample_bounding_box(const Tensor& codes, std::size_t n, ad::Generator& gen) {
  const std::vector<double> x = column(codes, 0), y = column(codes, 1);
  const auto [x0, x1] = std::minmax_element(x.begin(), x.end());
  const auto [y0, y1] = std::minmax_element(y.begin(), y.end());
  std::vector<float> z(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    z[2 * i] = static_cast<float>(*x0 + (*x1 - *x0) * gen.uniform());
    z[2 * i + 1] = static_cast<float>(*y0 + (*y1 - *y0) * gen.uniform());
  }
  return Tensor::from_vector(z, {n, 2});
}

// Distance from each query row to its nearest database row.
std::vector<double> nearest_distance(const Tensor& database, const Tensor& queries) {
  const auto nn = ae::nearest_neighbours(database, queries, 1);
  const std::size_t dim = queries.size(1);
  std::vector<double> d(nn.size());
  for (std::size_t i = 0; i < nn.size(); ++i) {
    double s = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      const double diff = static_cast<double>(queries.data()[i * dim + j]) - database.data()[nn[i][0] * dim + j];
      s += diff * diff;
    }
    d[i] = std::sqrt(s);
  }
  return d;
}

// A "hole" of a code space: a place farther from every code the decoder was trained on than 99 % of the test
// images' codes are from them. A z there asks the decoder for something it never learned to draw.
class Holes {
 public:
  Holes(Tensor train_codes, const Tensor& test_codes)
      : train_(std::move(train_codes)), threshold_(ae::quantile(nearest_distance(train_, test_codes), 0.99)) {}
  double fraction(const Tensor& z) const {  // the share of the rows of z that lie in a hole
    const std::vector<double> d = nearest_distance(train_, z);
    return static_cast<double>(std::count_if(d.begin(), d.end(), [&](double v) { return v > threshold_; })) /
           static_cast<double>(d.size());
  }

 private:
  Tensor train_;
  double threshold_;
};

// The midpoints (a + b) / 2 of the codes of n random pairs of test images of different classes.
Tensor random_midpoints(const Tensor& codes, const std::vector<std::size_t>& labels, std::size_t n, std::uint64_t seed) {
  ad::Generator gen(seed);
  const std::size_t D = codes.size(1);
  std::vector<float> mid;
  while (mid.size() < n * D) {
    const std::size_t i = gen.randint(labels.size()), j = gen.randint(labels.size());
    if (labels[i] == labels[j]) continue;
    for (std::size_t k = 0; k < D; ++k) mid.push_back(0.5f * (codes.data()[i * D + k] + codes.data()[j * D + k]));
  }
  return Tensor::from_vector(mid, {n, D});
}

// Sets both axes' ranges to hold the codes and the first n points of z, with a margin.
void frame(Plot& plot, const Tensor& codes, const Tensor& z, std::size_t n) {
  std::vector<double> x = column(codes, 0), y = column(codes, 1);
  for (std::size_t i = 0; i < n; ++i) x.push_back(z.data()[2 * i]), y.push_back(z.data()[2 * i + 1]);
  const auto [x0, x1] = std::minmax_element(x.begin(), x.end());
  const auto [y0, y1] = std::minmax_element(y.begin(), y.end());
  const double mx = 0.05 * (*x1 - *x0), my = 0.05 * (*y1 - *y0);
  plot.command("set xrange [" + fmt(*x0 - mx, 6) + ":" + fmt(*x1 + mx, 6) + "]");
  plot.command("set yrange [" + fmt(*y0 - my, 6) + ":" + fmt(*y1 + my, 6) + "]");
}

Tensor first_rows(const Tensor& t, std::size_t n) { return ad::slice(t, 0, 0, std::min(n, t.size(0))); }

std::string signed_fmt(double v) {  // +1.23
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Spec spec;
  spec.id = "10_variational";
  spec.title = "The variational autoencoder and generation";
  spec.summary =
      "A plain autoencoder maps each image to one point of its latent space; nothing says what the decoder does at "
      "the points between them, so a point picked at random may decode to a blot. The variational autoencoder (VAE) "
      "makes the encoder output a distribution q(z|x) = N(μ_x, σ_x²), decodes a sample z = μ_x + σ_x ε of it, and adds "
      "to the reconstruction error the KL divergence from q(z|x) to the prior N(0, I). The KL pulls every image's "
      "distribution toward the same standard normal, so the codes of all images fill one Gaussian blob with few "
      "holes, and the decoder learns to draw a digit from any z of it: sampling z ~ N(0, I) and decoding it "
      "*generates* new digits (slides 001 \"Sample a point in the latent space and pass it through the decoder\"). "
      "This lesson trains PyTorch's example VAE 784-400-20 and measures its test negative ELBO in nats per image "
      "against PyTorch's; then a 2-D VAE and a plain 2-D autoencoder with the same layers, whose latent spaces can be "
      "drawn: the VAE's manifold of digits, both latent scatters, samples and interpolations from both; and a plain "
      "20-D autoencoder, to set its samples beside the 20-D VAE's. `--epochs N` trains the 20-D models for N epochs "
      "and the 2-D models for " + std::to_string(kEpochs2dPerEpoch) + "N.";
  spec.slides = "003 \"Variational Autoencoder\" (the encoder outputs a distribution; L = reconstruction + D_KL(N(μ_x, σ_x) ‖ "
                "N(0, I))); 000 \"Variational Autoencoder: alla base di molte tecniche di generazione di dati\"; 001 \"Sample "
                "a point in the latent space and pass it through the decoder\"";
  spec.epochs = 10;
  spec.batch = 128;
  spec.lr = 1e-3;
  spec.datasets = false;  // the anchor, and the figures' story (digits morphing), are MNIST's
  spec.metrics = {"test_neg_elbo_nats", "test_neg_elbo_nats_2d"};
  return run(argc, argv, spec, [](Lesson& L) {
    const nn::Dataset& train = L.train_set();
    const nn::Dataset& test = L.test_set();
    const std::uint64_t seed = L.options().seed;
    const std::size_t epochs_2d = kEpochs2dPerEpoch * L.epochs();

    // The four models train side by side, one thread each (the longer 2-D ones first, so the threads finish together).
    TermCurves curves20, curves2;
    std::unique_ptr<ae::VariationalAutoencoder> vae20, vae2;
    std::unique_ptr<ae::Autoencoder> plain2, plain20;
    L.concurrently({[&] { vae2 = train_vae(L, 2, epochs_2d, seed + 10, curves2, "vae_2d.npz"); },
                    [&] { plain2 = train_plain_ae(L, 2, epochs_2d, seed + 20, "plain_ae_2d.npz"); },
                    [&] { vae20 = train_vae(L, 20, L.epochs(), seed, curves20, "vae_20d.npz"); },
                    [&] { plain20 = train_plain_ae(L, 20, L.epochs(), seed + 30, "plain_ae_20d.npz"); }});

    // ---- the 20-D VAE: PyTorch's example, the negative ELBO ----------------------------------------------------
    const double neg_elbo20 = vae20->negative_elbo(test.images);
    const ae::Terms terms20 = ae::evaluate(*vae20, test.images);
    L.say("  20-D VAE: test −ELBO " + fmt(neg_elbo20) + " nats per image (PyTorch's example: " + fmt(kPyTorchNegElbo) +
          " after 10 epochs)");
    L.save_model(*vae20, "vae_20d.npz", "the VAE 784-400-20 (encoder, mu and logvar heads, decoder giving logits)");

    // ---- the 2-D VAE and the plain 2-D autoencoder -------------------------------------------------------------
    const double neg_elbo2 = vae2->negative_elbo(test.images);
    const ae::Terms terms2 = ae::evaluate(*vae2, test.images);
    L.save_model(*vae2, "vae_2d.npz", "the VAE 784-400-2");

    const double plain_rec = kPixels * ae::evaluate(*plain2, test.images).loss();
    L.save_model(*plain2, "plain_ae_2d.npz", "the plain autoencoder 784-400-2 (ReLU, linear code, sigmoid output, BCE)");
    L.say("  2-D VAE: test −ELBO " + fmt(neg_elbo2) + " (reconstruction " + fmt(terms2["reconstruction"]) + " + KL " +
          fmt(terms2["kl"]) + "); plain 2-D AE: reconstruction " + fmt(plain_rec) + " nats per image");

    // ---- the plain 20-D autoencoder: what generation looks like without a prior -------------------------------
    const double plain_rec20 = kPixels * ae::evaluate(*plain20, test.images).loss();
    L.save_model(*plain20, "plain_ae_20d.npz", "the plain autoencoder 784-400-20 (ReLU, linear code, sigmoid output, BCE)");

    // ---- figures: the manifold and samples --------------------------------------------------------------------
    std::vector<double> grid_z;
    for (std::size_t i = 0; i < kManifoldSide; ++i)
      grid_z.push_back(ae::normal_quantile((static_cast<double>(i) + 0.5) / static_cast<double>(kManifoldSide)));
    std::vector<GridRow> manifold;
    for (std::size_t r = 0; r < kManifoldSide; ++r) {
      const double z2 = grid_z[kManifoldSide - 1 - r];  // the top row is the largest z2, as on a plot
      std::vector<float> z;
      for (double z1 : grid_z) z.push_back(static_cast<float>(z1)), z.push_back(static_cast<float>(z2));
      ad::NoGradGuard no_grad;
      manifold.push_back({"z2 " + signed_fmt(z2), vae2->decode(Tensor::from_vector(z, {kManifoldSide, 2}))});
    }
    L.grid("manifold_2d", manifold,
           "The 2-D VAE's decoder over its latent space: z = (Φ⁻¹(u1), Φ⁻¹(u2)) for u on an evenly spaced " +
               std::to_string(kManifoldSide) + " × " + std::to_string(kManifoldSide) + " grid in (0, 1)², z1 from " +
               signed_fmt(grid_z.front()) + " (left) to " + signed_fmt(grid_z.back()) + " (right)",
           "001 \"Sample a point in the latent space and pass it through the decoder\"; Kingma & Welling 2014, Fig. 4",
           "Each cell is the decoder's mean image at one z; Φ⁻¹ spaces the grid so that each cell holds the same "
           "prior mass, so the figure is the whole of N(0, I) seen through the decoder. Every z decodes to a "
           "digit-like image and neighbouring cells differ a little: one digit morphs into the next, through slant, "
           "width and a stroke added or dropped. In the default run all ten digits have a region (7 and 9 at the "
           "top left, 4 between them, 3 and 5 at the top right, 2 in the middle, 6 and 0 at the right, 8 and 1 at "
           "the bottom left); with fewer epochs 4 and 5 are absorbed by 9 and 3. Two numbers cannot hold every "
           "style, so the blends between regions are ambiguous.");

    const std::size_t prior_rows = 6;
    std::vector<GridRow> prior_grid;
    for (std::size_t r = 0; r < prior_rows; ++r) prior_grid.push_back({"", vae20->sample(kGeneratedShown)});
    L.grid("samples_prior_20d", prior_grid,
           "New digits from the 20-D VAE: z ~ N(0, I) through the decoder (mean images)",
           "001 \"Sample a point in the latent space and pass it through the decoder\"; 003 \"Modelo generativo\"",
           "None of these images is in the data set: each is the decoder's mean image at a random z. Most can be read "
           "as a digit; many are ambiguous blends of two digits, and some are pen strokes that are no digit. They are "
           "blurrier than real digits because each is the mean of p(x|z), the average of the images the decoder "
           "finds plausible at z, not one of them.");

    // Random z for every model, and how many of them land in a hole of its code space. A VAE's decoder was trained
    // on z = μ + σ ε, so its "training codes" are one such sample per training image; a plain AE's are its codes.
    ad::Generator sampler(seed + 40);
    const auto codes_of = [](ae::AutoencoderModel& m, const Tensor& images) {
      return ae::map_batches(images, [&](const Tensor& x) { return m.encode(x); });
    };
    const auto sampled_codes_of = [](ae::VariationalAutoencoder& m, const Tensor& images) {
      return ae::map_batches(images, [&](const Tensor& x) { return m.reparameterize(m.posterior(x)); });
    };
    const Tensor vae2_test_mu = codes_of(*vae2, test.images);
    const Tensor ae2_train_codes = codes_of(*plain2, train.images), ae2_test_codes = codes_of(*plain2, test.images);
    const Tensor ae20_train_codes = codes_of(*plain20, train.images);
    const Tensor z_vae20 = ad::randn<float>({kHoleSamples, 20}, sampler);
    const Tensor z_vae2 = ad::randn<float>({kHoleSamples, 2}, sampler);
    const Tensor z_ae20 = sample_fitted_gaussian(ae20_train_codes, kHoleSamples, sampler);
    const Tensor z_ae2 = sample_fitted_gaussian(ae2_train_codes, kHoleSamples, sampler);
    const Tensor z_ae2_box = sample_bounding_box(ae2_train_codes, kHoleSamples, sampler);
    const Holes vae2_holes(sampled_codes_of(*vae2, train.images), sampled_codes_of(*vae2, test.images));
    const Holes ae2_holes(ae2_train_codes, ae2_test_codes);
    const double holes_vae2 = vae2_holes.fraction(z_vae2);
    const double holes_ae2 = ae2_holes.fraction(z_ae2);
    const double holes_ae2_box = ae2_holes.fraction(z_ae2_box);
    // interpolation: the midpoints of the straight lines between random test pairs of different classes
    const double mid_holes_vae2 = vae2_holes.fraction(random_midpoints(vae2_test_mu, test.labels, kHoleSamples, seed + 41));
    const double mid_holes_ae2 = ae2_holes.fraction(random_midpoints(ae2_test_codes, test.labels, kHoleSamples, seed + 41));
    const auto pct = [](double f) { return fmt(100 * f, 3) + " %"; };
    {
      ad::NoGradGuard no_grad;
      L.grid("samples_vae_vs_plain_ae",
             {{"VAE 20-D, Z FROM N(0,I)", vae20->decode(first_rows(z_vae20, kGeneratedShown))},
              {"AE 20-D, Z FROM FITTED GAUSSIAN", plain20->decode(first_rows(z_ae20, kGeneratedShown))},
              {"VAE 2-D, Z FROM N(0,I)", vae2->decode(first_rows(z_vae2, kGeneratedShown))},
              {"AE 2-D, Z FROM FITTED GAUSSIAN", plain2->decode(first_rows(z_ae2, kGeneratedShown))},
              {"AE 2-D, Z UNIFORM IN BOX", plain2->decode(first_rows(z_ae2_box, kGeneratedShown))}},
             "Generated digits: random z through the decoders of the VAEs and of plain autoencoders with the same layers",
             "001 \"Sample a point in the latent space and pass it through the decoder\"; 003 \"em contrapartida ao "
             "Autoencoder tradicional conseguimos criar dados novos\"",
             "The VAE's prior is where its codes are, so nearly every sample is digit-like (blurry: the mean of p(x|z)). "
             "A plain autoencoder has no prior; the best one can do is fit a distribution to its codes afterwards (here "
             "a Gaussian with their mean and full covariance) or draw z uniformly over the box they span. Its samples "
             "are sharp where z lands among its codes, but a z in the empty space around them gives a saturated blot "
             "or a torn stroke (2-D rows; the box is mostly empty, so most of its z give the same few stretched "
             "strokes), and in 20-D more of them are broken strokes than the VAE's. Share of 2,000 random z that fall "
             "in a hole (farther from every training code than 99 % of the test images' codes are): VAE 2-D " +
             pct(holes_vae2) + ", plain AE 2-D " + pct(holes_ae2) + " (box " + pct(holes_ae2_box) +
             "). The 2-D rows' z are the numbered rings on the two scatters below.");
    }

    // ---- figures: the two latent spaces -----------------------------------------------------------------------
    Plot vae_scatter = code_scatter("2-D VAE: posterior means μ of the test images (dashed: radius 1, 2, 3 of N(0, I), holding 39, 86, 99 % of it)",
                                    "z1 (μ1)", "z2 (μ2)", vae2_test_mu, test.labels);
    for (int r = 1; r <= 3; ++r)
      vae_scatter.command("set object " + std::to_string(50 + r) + " circle at 0,0 size first " + std::to_string(r) +
                          " fillstyle empty border lc rgb '#444444' dt 2 lw 1.5 front");
    mark_points(vae_scatter, z_vae2, kGeneratedShown);
    frame(vae_scatter, vae2_test_mu, z_vae2, kGeneratedShown);
    L.plot("latent_2d_vae", vae_scatter, "The 2-D latent space of the VAE, test images coloured by class",
           "003 \"O VAE impõe uma restrição ao espaço latente forçando essa distribuição a ser normal padrão\"",
           "The KL term pulls every image's code toward N(0, I): the classes sit side by side in one round blob, "
           "nearly all inside the 3σ ring, centred on 0, with no large empty regions (1 spreads out to the left). "
           "The black numbered rings are the 16 z of the \"VAE 2-D\" row of the samples figure: they land among "
           "the codes, where the decoder has learned to draw.");
    Plot ae_scatter = code_scatter("Plain 2-D autoencoder: codes of the test images (same layers, no KL, no noise)",
                                   "code unit 1", "code unit 2", ae2_test_codes, test.labels);
    mark_points(ae_scatter, z_ae2, kGeneratedShown);
    frame(ae_scatter, ae2_test_codes, z_ae2, kGeneratedShown);
    L.plot("latent_2d_plain_ae", ae_scatter, "The 2-D latent space of the plain autoencoder, test images coloured by class",
           "001 \"The latent space keeps the most important attributes of the input data\"; 003 \"Modelo generativo, "
           "ou seja, em contrapartida ao Autoencoder tradicional...\"",
           "Nothing constrains where the plain autoencoder puts its codes: they take an arbitrary scale (tens of "
           "units, against the VAE's few), crowd most classes into a dense band, and stretch 1, 7 and 6 into long "
           "arms with empty wedges between them. The black numbered rings are the 16 z of the \"AE 2-D, z from "
           "fitted Gaussian\" row of the samples figure: a Gaussian over this shape puts many z in the empty space "
           "(in the default run 1, 4, 8, 10 and 14, above the band), and those decode to the blots and torn strokes "
           "of that row.");

    // ---- figures: interpolation -------------------------------------------------------------------------------
    const std::vector<std::pair<std::size_t, std::size_t>> pairs{{1, 0}, {4, 3}, {7, 1}};
    const auto firsts = first_of_each_class(test);
    std::vector<GridRow> interp;
    const std::size_t steps = 10;
    for (auto [from, to] : pairs) {
      const Tensor a = rows(test.images, {firsts[from]}), b = rows(test.images, {firsts[to]});
      const std::string tag = std::to_string(from) + " TO " + std::to_string(to);
      interp.push_back({"VAE 20-D " + tag, vae20->interpolate(a, b, steps)});
      interp.push_back({"AE 20-D " + tag, interpolate_codes(*plain20, a, b, steps)});
      interp.push_back({"VAE 2-D " + tag, vae2->interpolate(a, b, steps)});
      interp.push_back({"AE 2-D " + tag, interpolate_codes(*plain2, a, b, steps)});
      interp.push_back({"PIXELS " + tag, interpolate_pixels(a, b, steps)});
    }
    L.grid("interpolations", interp,
           "Interpolation between two test digits: decode the straight line from the code of a to the code of b (μ for "
           "the VAEs), 10 steps, for each model; last row of each group: the pixels cross-faded",
           "001 \"We can leverage the latent space to perform several interesting tasks\"; 000 \"Variational\"",
           "Decoding a straight line in a latent space gives digit-like images all the way, unlike the pixel "
           "cross-fade (two faint digits on top of each other): interpolating in a latent space is not blending "
           "images. The VAEs' paths change gradually. The plain autoencoders' are rougher: in 20-D their middle "
           "images are more often torn strokes (1 to 0 in the default run; both fade out halfway from 7 to 1), and in 2-D the line "
           "passes through whatever classes happen to lie between the two codes (7 to 1 goes through 9, 5 and 8), "
           "since nothing arranged its codes. The difference is smaller than for sampling: a line between two real "
           "codes mostly stays where the decoder has seen codes. Of the midpoints of 2,000 such lines between random "
           "test digits of different classes, " + pct(mid_holes_ae2) + " fall in a hole of the plain 2-D AE and " +
           pct(mid_holes_vae2) + " in one of the 2-D VAE, against " + pct(holes_ae2) + " and " + pct(holes_vae2) +
           " of random samples.");

    // ---- the course page's panels (latent explorer, interpolation): both 2-D decoders, test codes, one digit a class
    const std::size_t shown_codes = std::min<std::size_t>(2000, test.size());
    const auto probes = [&](const Tensor& codes) {  // test inputs: six codes, and two far outside (×3)
      return ad::concat<float>({first_rows(codes, 6), ad::mul(first_rows(codes, 2), 3.0f)}, 0);
    };
    PageExport(L)
        .model("vae_2d_decoder", {vae2->decoder, std::make_shared<nn::Sigmoid>()}, probes(vae2_test_mu),
               "the 2-D VAE's decoder, 2-400-784, mean image")
        .model("plain_ae_2d_decoder", {plain2->decoder}, probes(ae2_test_codes),
               "the plain 2-D AE's decoder, 2-400-784")
        .array("vae_codes", first_rows(vae2_test_mu, shown_codes))
        .array("plain_ae_codes", first_rows(ae2_test_codes, shown_codes))
        .labels("labels", {test.labels.begin(), test.labels.begin() + static_cast<std::ptrdiff_t>(shown_codes)})
        .array("digits", rows(test.images, firsts))
        .array("digit_vae_codes", rows(vae2_test_mu, firsts))
        .array("digit_plain_ae_codes", rows(ae2_test_codes, firsts))
        .write();

    // ---- figures: the two terms per epoch ---------------------------------------------------------------------
    const auto flat = [](const std::vector<double>& x, double v) { return std::vector<double>(x.size(), v); };
    std::vector<double> test_total20;
    for (std::size_t i = 0; i < curves20.epoch.size(); ++i)
      test_total20.push_back(curves20.test_reconstruction[i] + curves20.test_kl[i]);
    L.plot("loss_terms_20d",
           Plot("VAE 784-400-20: the two terms of the loss per epoch (nats per image)", "epoch", "nats per image")
               .line("reconstruction, train", curves20.epoch, curves20.train_reconstruction)
               .line("reconstruction, test", curves20.epoch, curves20.test_reconstruction)
               .line("KL to N(0,I), train", curves20.epoch, curves20.train_kl)
               .line("KL to N(0,I), test", curves20.epoch, curves20.test_kl)
               .line("-ELBO = reconstruction + KL, test", curves20.epoch, test_total20)
               .line("PyTorch example, -ELBO after 10 epochs: " + fmt(kPyTorchNegElbo), curves20.epoch,
                     flat(curves20.epoch, kPyTorchNegElbo), false)
               .command("set linetype 1 lc rgb '#1f77b4' dt 2")
               .command("set linetype 2 lc rgb '#1f77b4'")
               .command("set linetype 3 lc rgb '#d62728' dt 2")
               .command("set linetype 4 lc rgb '#d62728'")
               .command("set linetype 5 lc rgb '#000000'")
               .command("set linetype 6 lc rgb '#7f7f7f' dt 3")
               .command("set yrange [0:*]")
               .command("set xrange [1:*]")
               .command("set key below maxrows 3 width 2")
               .size(1000, 700),
           "Reconstruction and KL per epoch, 20-D VAE: training (mean over the epoch's batches) and test",
           "003 \"Função perda de reconstrução\" and \"Função perda de similaridade\" (the two terms of L)",
           "The reconstruction term falls the whole time; the KL term rises over the first epochs and then levels off: "
           "the encoder spends nats of information in z (KL is the price, in nats, of how far each q(z|x) moves away "
           "from the prior) where they buy a larger drop in reconstruction error. Their sum, the test −ELBO, ends "
           "beside PyTorch's 105.6 (grey).");
    L.plot("loss_terms_2d",
           Plot("VAE 784-400-2: the two terms of the loss per epoch (nats per image)", "epoch", "nats per image")
               .line("reconstruction, train", curves2.epoch, curves2.train_reconstruction)
               .line("reconstruction, test", curves2.epoch, curves2.test_reconstruction)
               .line("KL to N(0,I), train", curves2.epoch, curves2.train_kl)
               .line("KL to N(0,I), test", curves2.epoch, curves2.test_kl)
               .line("plain 2-D AE reconstruction, test (after training)", curves2.epoch, flat(curves2.epoch, plain_rec), false)
               .command("set linetype 1 lc rgb '#1f77b4' dt 2")
               .command("set linetype 2 lc rgb '#1f77b4'")
               .command("set linetype 3 lc rgb '#d62728' dt 2")
               .command("set linetype 4 lc rgb '#d62728'")
               .command("set linetype 5 lc rgb '#7f7f7f' dt 3")
               .command("set yrange [0:*]")
               .command("set xrange [1:*]")
               .command("set key below maxrows 3 width 2")
               .size(1000, 700),
           "Reconstruction and KL per epoch, 2-D VAE, against the plain 2-D autoencoder's reconstruction",
           "003 \"podemos pensar nessa restrição como sendo uma espécie de regularização\"",
           "With two dimensions the KL stays small (a few nats): z cannot carry much. The plain autoencoder, free of "
           "the KL and of the sampling noise, reconstructs better (grey): the VAE pays in reconstruction for a latent "
           "space it can sample from.");
    std::vector<std::vector<std::string>> table;  // empty under --load (no training history): then not written
    for (std::size_t i = 0; i < curves20.epoch.size(); ++i)
      table.push_back({"20", fmt(curves20.epoch[i], 3), fmt(curves20.train_reconstruction[i], 6), fmt(curves20.train_kl[i], 6),
                       fmt(curves20.test_reconstruction[i], 6), fmt(curves20.test_kl[i], 6)});
    for (std::size_t i = 0; i < curves2.epoch.size(); ++i)
      table.push_back({"2", fmt(curves2.epoch[i], 3), fmt(curves2.train_reconstruction[i], 6), fmt(curves2.train_kl[i], 6),
                       fmt(curves2.test_reconstruction[i], 6), fmt(curves2.test_kl[i], 6)});
    if (!table.empty())
      L.csv("loss_terms", "latent,epoch,train_reconstruction,train_kl,test_reconstruction,test_kl", table,
            "the two terms of each VAE's loss per epoch, nats per image");

    // ---- metrics ----------------------------------------------------------------------------------------------
    const std::string anchor = "PyTorch examples/vae, same setting: " + fmt(kPyTorchNegElbo) + " after 10 epochs";
    L.metric("test_neg_elbo_nats", neg_elbo20,
             "20-D VAE 784-400-20: test negative ELBO (summed BCE over 784 pixels + KL summed over 20 dims), nats per "
             "test image, one z sample per image; " + anchor);
    L.metric("test_neg_elbo_nats_2d", neg_elbo2,
             "2-D VAE 784-400-2 (" + std::to_string(epochs_2d) + " epochs): test negative ELBO, nats per image; "
             "baseline: the 20-D VAE above (two numbers carry less of each image)");
    L.metric("test_reconstruction_nats", terms20["reconstruction"], "20-D VAE: reconstruction term on the test set, nats per image");
    L.metric("test_kl_nats", terms20["kl"], "20-D VAE: KL term on the test set, nats per image");
    L.metric("test_reconstruction_nats_2d", terms2["reconstruction"], "2-D VAE: reconstruction term, nats per image");
    L.metric("test_kl_nats_2d", terms2["kl"], "2-D VAE: KL term, nats per image");
    L.metric("plain_ae_2d_reconstruction_nats", plain_rec,
             "plain 2-D AE 784-400-2: test BCE summed over the pixels, nats per image (its whole loss; compare with the "
             "2-D VAE's reconstruction term)");
    L.metric("plain_ae_20d_reconstruction_nats", plain_rec20,
             "plain 20-D AE 784-400-20: test BCE summed over the pixels, nats per image (compare with the 20-D VAE's "
             "reconstruction term)");
    L.metric("hole_fraction_vae_2d", holes_vae2,
             "share of 2,000 z ~ N(0, I) that land in a hole of the 2-D VAE's code space: farther from every training "
             "code z = μ + σ ε than 99 % of the test images' codes are");
    L.metric("hole_fraction_plain_ae_2d", holes_ae2, "the same for the plain 2-D AE, z from a Gaussian fitted to its codes");
    L.metric("hole_fraction_plain_ae_2d_box", holes_ae2_box,
             "the same for the plain 2-D AE, z uniform in the bounding box of its training codes");
    L.metric("midpoint_hole_fraction_vae_2d", mid_holes_vae2,
             "share of the midpoints of 2,000 interpolations between random test pairs of different classes (μ(a) + "
             "μ(b)) / 2 that lie in a hole of the 2-D VAE's code space");
    L.metric("midpoint_hole_fraction_plain_ae_2d", mid_holes_ae2, "the same for the plain 2-D AE's codes");

    // ---- notes ------------------------------------------------------------------------------------------------
    L.note("**Which loss is summed and which averaged.** For each image the reconstruction term is *summed* over its "
           "784 pixels (Σ_i BCE(x_i, x'_i), the negative log-likelihood of a Bernoulli decoder, in nats) and the KL "
           "term is *summed* over the latent dimensions (20 or 2); the two per-image sums are added and then "
           "*averaged* over the images of a batch. So every number here is in nats per image. This is the "
           "objective of Kingma & Welling (a sum per image), written as a mean over the batch so that the learning "
           "rate does not depend on the batch size. PyTorch's example computes `F.binary_cross_entropy(..., "
           "reduction='sum') + KLD`, summed over the whole batch, and prints the sum over all batches divided by the "
           "number of images in the data set: the same quantity, nats per image. A per-pixel mean BCE (Keras's "
           "default `binary_crossentropy`) would be this reconstruction term divided by 784, and adding an unscaled "
           "KL to it weighs the KL 784 times more: the usual reason a VAE port produces only blurry averages.");
    L.note("**Against PyTorch.** The same network, loss, optimiser, batch and epochs as PyTorch's examples/vae: its "
           "test loss after 10 epochs is " + fmt(kPyTorchNegElbo) + " nats per image (measured with "
           "reference/torch_reference.py on MNIST); this run: " + fmt(neg_elbo20, 4) + " (reconstruction " +
           fmt(terms20["reconstruction"], 4) + " + KL " + fmt(terms20["kl"], 4) + ", from another draw of ε, so their "
           "sum differs in the first decimal). Both evaluate the loss with one z sample per test image, so the last "
           "digit moves with the seed. The −ELBO is an upper bound on −log p(x): "
           "the true negative log-likelihood of the test digits under this model is lower (importance sampling with "
           "many z would tighten it by a few nats).");
    L.note("**Why the plain autoencoder generates badly.** Its loss only asks that each training image's code decode "
           "back to that image; where the codes lie, and what the decoder does between them, is left to chance. The "
           "VAE's KL term asks the whole set of codes to look like N(0, I) (and its noise asks every neighbourhood of "
           "a code to decode to the same digit), so sampling the prior lands where the decoder knows what to draw. "
           "In this run, of 2,000 random z, " + pct(holes_vae2) + " fell in a hole of the 2-D VAE's code space "
           "against " + pct(holes_ae2) + " for the plain 2-D AE sampled from the Gaussian fitted to its codes, and of "
           "the midpoints of 2,000 interpolations between test digits of different classes " + pct(mid_holes_vae2) +
           " against " + pct(mid_holes_ae2) + ". The price: the plain AE reconstructs better (" +
           fmt(plain_rec20, 4) + " against " + fmt(terms20["reconstruction"], 4) + " nats per image in 20-D, " +
           fmt(plain_rec, 4) + " against " + fmt(terms2["reconstruction"], 4) + " nats per image for the 2-D VAE's reconstruction term).");
    L.note("**Departure from the slide.** Slide 003 writes the reconstruction term as ‖x − x'‖₂ (a Gaussian decoder); "
           "this lesson uses the Bernoulli decoder of Kingma & Welling and PyTorch's example, whose loss is in nats and "
           "can be compared with theirs. `ae::VAEOptions().likelihood(ae::Reconstruction::MSE)` gives the slide's "
           "version. The encoder's log σ² is a linear head beside μ, as in PyTorch's example.");
    if (L.loaded())
      L.note("**Loaded models and random draws.** Each VAE draws its ε (the sample z = μ + σ ε) from its own "
             "generator, seeded when the model is made. Training advances it; a loaded model starts it afresh. So with "
             "`--load` the weights are the saved run's but the numbers that take one sample of z per image (the "
             "−ELBO and its reconstruction term, and the 2-D VAE's hole fractions, measured against sampled codes) "
             "differ slightly from the saved run's, and samples_prior_20d.png shows other digits. "
             "Everything else is the saved run's: the KL terms (closed form), the plain autoencoders, the manifold, "
             "the scatters, the interpolations and samples_vae_vs_plain_ae.png (its z come from the lesson's own "
             "generator).");
    if (L.quick())
      L.note("**--quick.** 2,000 training images and one epoch are a smoke test: the models have barely started to "
             "learn, the manifold is mostly blurs and the −ELBO is far above the full run's.");
  });
}
