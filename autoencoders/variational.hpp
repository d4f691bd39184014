// Variational autoencoder: the encoder outputs a distribution q(z|x) = N(μ(x), σ²(x)), not a point; the
// decoder p(x|z) reconstructs from a sample z = μ + σ ⊙ ε, ε ~ N(0, I) (reparameterization: the sample is a
// differentiable function of μ and σ); the loss adds the KL divergence to the prior N(0, I):
//   L(x, x') = reconstruction + β · D_KL(N(μ_x, σ_x) ‖ N(0, I))
//   — slides 003 "Variational Autoencoder"; 000 "Variational"; 001 "Sample a point in the latent space and
//   pass it through the decoder"
// Bernoulli decoder: reconstruction = Σ BCE(x, x') (in nats); Gaussian decoder: Σ (x − x')².
// Reported per image: (Σ over the batch) / N, so the numbers read as nats per image.
// The KL to the prior is kl_to_prior(q): a subclass with another prior replaces it (and sample_prior).
// Departures from the slide: β weighs the KL (β-VAE; 1 is the slide's loss); the reconstruction is summed over
// pixels and the whole objective averaged over the batch (the slide leaves the scale open; this is the ELBO).
#pragma once

#include <memory>

#include "autoencoders/model.hpp"

namespace ae {

struct VAEOptions {
  AE_ARG(std::size_t, input) = 784;
  AE_ARG(std::vector<std::size_t>, hidden) = {400};
  AE_ARG(std::size_t, latent) = 20;
  AE_ARG(Reconstruction, likelihood) = Reconstruction::BCE;  // BCE: Bernoulli decoder; MSE: Gaussian decoder
  AE_ARG(double, beta) = 1.0;
};

class VariationalAutoencoder : public AutoencoderModel {
 public:
  VariationalAutoencoder(VAEOptions options, ad::Generator& gen);
  struct Posterior {
    Tensor mu, logvar;  // [N, latent]
  };
  Posterior posterior(const Tensor& x);                   // q(z|x)
  Tensor reparameterize(const Posterior& q);              // z = μ + exp(½ log σ²) ⊙ ε, ε ~ N(0, I)
  Tensor reparameterize(const Posterior& q, const Tensor& eps);  // the same for a given ε
  Tensor encode(const Tensor& x) override;                // μ(x): the code used for plots and retrieval
  Tensor decode(const Tensor& z) override;                // mean of p(x|z), in [0, 1] for Bernoulli
  Tensor decode_logits(const Tensor& z);                  // before the sigmoid (Bernoulli decoder)
  Tensor reconstruct(const Tensor& x) override;           // decode(z) with z sampled in training, μ in eval
  Loss loss(const Tensor& x) override;                    // terms: reconstruction, kl (per image)
  Loss loss(const Tensor& x, const Tensor& eps);          // the same for a given ε [N, latent]
  // D_KL(q(z|x) ‖ p(z)) summed over the batch: the closed form against N(0, I). Another prior overrides it.
  virtual Tensor kl_to_prior(const Posterior& q);
  virtual Tensor sample_prior(std::size_t n);             // z ~ p(z): N(0, I) here
  std::string type_name() const override { return "VariationalAutoencoder"; }
  std::string describe() const override;

  Tensor sample(std::size_t n);                                      // decode(z), z ~ N(0, I)
  Tensor interpolate(const Tensor& a, const Tensor& b, std::size_t steps);  // decode along μ(a) → μ(b)
  // Test negative ELBO in nats per image (one z sample per image, β = 1), like PyTorch's VAE example.
  double negative_elbo(const Tensor& data, std::size_t batch_size = 1000);
  std::size_t latent() const { return options_.latent(); }
  const VAEOptions& options() const { return options_; }

  std::shared_ptr<nn::Sequential> encoder, decoder;
  std::shared_ptr<nn::Linear> mu_head, logvar_head;

 private:
  Loss loss(const Tensor& x, const Posterior& q, const Tensor& eps);
  VAEOptions options_;

 protected:
  ad::Generator noise_;  // ε and the prior's samples, seeded from the constructor's generator
};

// Φ⁻¹(p), the inverse of the standard normal CDF, for p in (0, 1). It turns an evenly spaced grid of probabilities
// into a grid of z that covers N(0, 1) with equal mass per cell (the 2-D VAE's manifold, slides 001 "Sample a point
// in the latent space"): more points near 0, where the prior puts most of its codes.
double normal_quantile(double p);

}  // namespace ae
