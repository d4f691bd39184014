#include "autoencoders/variational.hpp"

#include <cmath>

#include <sstream>

#include "nn/losses.hpp"

namespace ae {

VariationalAutoencoder::VariationalAutoencoder(VAEOptions options, ad::Generator& gen) : options_(std::move(options)) {
  if (options_.latent() == 0) throw ad::Error("VariationalAutoencoder: latent size must be positive");
  encoder = register_module("encoder", std::make_shared<nn::Sequential>());
  std::size_t prev = options_.input();
  for (auto h : options_.hidden()) {
    encoder->push_back(std::make_shared<nn::Linear>(prev, h, gen));
    encoder->push_back(std::make_shared<nn::ReLU>());
    prev = h;
  }
  mu_head = register_module("mu", std::make_shared<nn::Linear>(prev, options_.latent(), gen));
  logvar_head = register_module("logvar", std::make_shared<nn::Linear>(prev, options_.latent(), gen));
  decoder = register_module("decoder", std::make_shared<nn::Sequential>());
  prev = options_.latent();
  for (auto it = options_.hidden().rbegin(); it != options_.hidden().rend(); ++it) {
    decoder->push_back(std::make_shared<nn::Linear>(prev, *it, gen));
    decoder->push_back(std::make_shared<nn::ReLU>());
    prev = *it;
  }
  decoder->push_back(std::make_shared<nn::Linear>(prev, options_.input(), gen));
  noise_.seed(gen.next_u64());
}

Tensor VariationalAutoencoder::kl_to_prior(const Posterior& q) { return nn::kl_normal(q.mu, q.logvar, nn::Reduction::Sum); }

Tensor VariationalAutoencoder::sample_prior(std::size_t n) { return ad::randn<float>({n, options_.latent()}, noise_); }

VariationalAutoencoder::Posterior VariationalAutoencoder::posterior(const Tensor& x) {
  const Tensor h = (*encoder)(x);
  return {(*mu_head)(h), (*logvar_head)(h)};
}

Tensor VariationalAutoencoder::reparameterize(const Posterior& q) {
  return reparameterize(q, ad::randn<float>(q.mu.shape(), noise_));
}

Tensor VariationalAutoencoder::reparameterize(const Posterior& q, const Tensor& eps) {
  if (eps.shape() != q.mu.shape())
    throw ad::Error("VariationalAutoencoder: noise " + ad::shape_str(eps.shape()) + " should be " + ad::shape_str(q.mu.shape()));
  // BEGIN EXERCISE vae_reparam_kl
  return ad::add(q.mu, ad::mul(ad::exp(ad::mul(q.logvar, 0.5f)), eps));  // μ + σ ⊙ ε
  // END EXERCISE vae_reparam_kl
}

Tensor VariationalAutoencoder::encode(const Tensor& x) { return posterior(x).mu; }

Tensor VariationalAutoencoder::decode_logits(const Tensor& z) { return (*decoder)(z); }

Tensor VariationalAutoencoder::decode(const Tensor& z) {
  const Tensor out = decode_logits(z);
  return options_.likelihood() == Reconstruction::BCE ? ad::sigmoid(out) : out;
}

Tensor VariationalAutoencoder::reconstruct(const Tensor& x) {
  const Posterior q = posterior(x);
  return decode(is_training() ? reparameterize(q) : q.mu);
}

Loss VariationalAutoencoder::loss(const Tensor& x) {
  const Posterior q = posterior(x);
  return loss(x, q, ad::randn<float>(q.mu.shape(), noise_));  // sampled in eval too: the loss is the ELBO estimate
}

Loss VariationalAutoencoder::loss(const Tensor& x, const Tensor& eps) { return loss(x, posterior(x), eps); }

Loss VariationalAutoencoder::loss(const Tensor& x, const Posterior& q, const Tensor& eps) {
  const Tensor z = reparameterize(q, eps);
  const Tensor out = decode_logits(z);
  const Tensor reconstruction = options_.likelihood() == Reconstruction::BCE
                                    ? nn::bce_with_logits_loss(out, x, nn::Reduction::Sum)  // −log p(x|z), Bernoulli
                                    : nn::mse_loss(out, x, nn::Reduction::Sum);
  const float per_image = 1.0f / static_cast<float>(x.size(0));
  Loss l;
  l.add("reconstruction", ad::mul(reconstruction, per_image));
  l.add("kl", ad::mul(kl_to_prior(q), per_image), options_.beta());  // + β D_KL(q(z|x) ‖ p(z)), recorded without β
  return l;
}

Tensor VariationalAutoencoder::sample(std::size_t n) {
  ad::NoGradGuard no_grad;
  return decode(sample_prior(n));
}

Tensor VariationalAutoencoder::interpolate(const Tensor& a, const Tensor& b, std::size_t steps) {
  ad::NoGradGuard no_grad;
  if (steps < 2) throw ad::Error("interpolate: needs at least 2 steps");
  const Tensor za = encode(ad::reshape(a, {1, options_.input()})), zb = encode(ad::reshape(b, {1, options_.input()}));
  std::vector<Tensor> path;
  for (std::size_t s = 0; s < steps; ++s) {
    const float t = static_cast<float>(s) / static_cast<float>(steps - 1);
    path.push_back(ad::add(ad::mul(za, 1.0f - t), ad::mul(zb, t)));
  }
  return decode(ad::concat(path, 0));
}

double VariationalAutoencoder::negative_elbo(const Tensor& data, std::size_t batch_size) {
  const bool was_training = is_training();
  eval();
  ad::NoGradGuard no_grad;
  const double saved_beta = options_.beta();
  options_.beta(1.0);
  double total = 0;
  for (std::size_t start = 0; start < data.size(0); start += batch_size) {
    const std::size_t end = std::min(data.size(0), start + batch_size);
    total += loss(ad::slice(data, 0, start, end)).total.item() * static_cast<double>(end - start);
  }
  options_.beta(saved_beta);
  train(was_training);
  return total / static_cast<double>(data.size(0));
}

std::string VariationalAutoencoder::describe() const {
  std::ostringstream os;
  os << options_.input();
  for (auto h : options_.hidden()) os << "-" << h;
  os << "-" << options_.latent() << (options_.likelihood() == Reconstruction::BCE ? ", Bernoulli" : ", Gaussian");
  if (options_.beta() != 1.0) os << ", beta=" << options_.beta();
  return os.str();
}

// P. J. Acklam's rational approximation (relative error < 1.2e-9), polished by one Halley step on
// Φ(x) = ½ erfc(−x/√2).
double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw ad::Error("normal_quantile: p = " + std::to_string(p) + " is not in (0, 1)");
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
  const double p_low = 0.02425;
  const auto tail = [&](double q) {  // q = √(−2 log p) in the lower tail
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  };
  double x;
  if (p < p_low) {
    x = tail(std::sqrt(-2 * std::log(p)));
  } else if (p > 1 - p_low) {
    x = -tail(std::sqrt(-2 * std::log(1 - p)));
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;  // Halley: x ← x − u / (1 + x u / 2)
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace ae
