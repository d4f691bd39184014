// Grader of the exercise vae_reparam_kl (coursework/exercises/vae_reparam_kl.md): the VAE's reparameterisation
// z = μ + σ ⊙ ε with σ = exp(½ log σ²) (VariationalAutoencoder::reparameterize, autoencoders/variational.cpp) and the
// closed-form KL to N(0, I), D_KL = −½ Σ (1 + log σ² − μ² − σ²) (nn::kl_normal, nn/losses.cpp)
//                                                                      — slides 003 "Variational Autoencoder"
#include <cmath>

#include "autodiff/ops.hpp"
#include "autoencoders/variational.hpp"
#include "coursework/grader.hpp"
#include "nn/losses.hpp"

namespace {

using ad::Tensor;
using ad::Tensor64;

ae::VariationalAutoencoder small_vae(ad::Generator& gen) {
  return ae::VariationalAutoencoder(ae::VAEOptions().input(4).hidden({3}).latent(3), gen);
}

}  // namespace

int main() {
  grader::Grader g("vae_reparam_kl");

  g.check("z = mu + exp(logvar / 2) * eps on a case worked by hand", 2, [](grader::Check& c) {
    ad::Generator gen(1);
    auto vae = small_vae(gen);
    // σ = exp(½ log σ²) = 1, 2, 1/2 for log σ² = 0, 2 ln 2, −2 ln 2; z = μ + σ ε = 0 + 1, 1 − 2, −2 + 1
    const float ln2 = std::log(2.0f);
    ae::VariationalAutoencoder::Posterior q{Tensor::from_vector({0, 1, -2}, {1, 3}), Tensor::from_vector({0, 2 * ln2, -2 * ln2}, {1, 3})};
    const Tensor eps = Tensor::from_vector({1, -1, 2}, {1, 3});
    c.all_near(vae.reparameterize(q, eps), Tensor::from_vector({1, -1, -1}, {1, 3}), 1e-6, 1e-6, "z for mu = [0, 1, -2]");
    // ε = 0 gives the mean itself
    c.all_near(vae.reparameterize(q, Tensor::zeros({1, 3})), q.mu, 0, 0, "z for eps = 0");
  });

  g.check("z is differentiable in mu and logvar: dz/dmu = 1, dz/dlogvar = sigma eps / 2", 2, [](grader::Check& c) {
    ad::Generator gen(2);
    auto vae = small_vae(gen);
    Tensor mu = ad::randn<float>({2, 3}, gen).set_requires_grad(true);
    Tensor logvar = ad::rand_uniform<float>({2, 3}, gen, -1.0f, 1.0f).set_requires_grad(true);
    const Tensor eps = ad::randn<float>({2, 3}, gen);
    ad::sum(vae.reparameterize({mu, logvar}, eps)).backward();
    if (!mu.grad().defined() || !logvar.grad().defined()) {
      c.expect(false, "no gradient reached mu or logvar: z must be built from them with autodiff ops");
      return;
    }
    c.all_near(mu.grad(), Tensor::ones({2, 3}), 1e-6, 1e-6, "d sum(z) / d mu");
    Tensor want = Tensor::zeros({2, 3});
    for (std::size_t i = 0; i < 6; ++i) want.data()[i] = 0.5f * std::exp(0.5f * logvar.data()[i]) * eps.data()[i];
    c.all_near(logvar.grad(), want, 1e-5, 1e-6, "d sum(z) / d logvar");
  });

  g.check("KL on cases worked by hand, summed over the latent units and the batch (Sum) or averaged over rows (Mean)", 2,
          [](grader::Check& c) {
            // row 1: μ = [0, 1], log σ² = [0, ln 4]: −½[(1 + 0 − 0 − 1) + (1 + ln 4 − 1 − 4)] = 2 − ln 2
            // row 2: μ = [2, 0], log σ² = [0, 0]:     −½[(1 − 4 − 1) + (1 − 1)]               = 2
            const Tensor64 mu = Tensor64::from_vector({0, 1, 2, 0}, {2, 2});
            const Tensor64 logvar = Tensor64::from_vector({0, std::log(4.0), 0, 0}, {2, 2});
            const double row1 = 2 - std::log(2.0), row2 = 2;
            c.near(nn::kl_normal(mu, logvar, nn::Reduction::Sum).item(), row1 + row2, 1e-12, "KL, Sum over the batch");
            c.near(nn::kl_normal(mu, logvar, nn::Reduction::Mean).item(), (row1 + row2) / 2, 1e-12, "KL, Mean over the 2 rows");
            c.near(nn::kl_normal(ad::slice(mu, 0, 0, 1), ad::slice(logvar, 0, 0, 1), nn::Reduction::Sum).item(), row1, 1e-12,
                   "KL of row 1 alone");
          });

  g.check("KL is 0 at the prior and positive elsewhere", 1, [](grader::Check& c) {
    c.near(nn::kl_normal(Tensor64::zeros({3, 4}), Tensor64::zeros({3, 4}), nn::Reduction::Sum).item(), 0.0, 0,
           "KL(N(0, I) || N(0, I))", 1e-15);
    ad::Generator gen(3);
    for (int t = 0; t < 5; ++t) {
      const Tensor64 mu = Tensor64::from_vector(grader::uniform(6, gen, -2, 2), {2, 3});
      const Tensor64 logvar = Tensor64::from_vector(grader::uniform(6, gen, -3, 3), {2, 3});
      const double kl = nn::kl_normal(mu, logvar, nn::Reduction::Sum).item();
      c.expect(kl > 0, "KL of a random Gaussian to N(0, I) is " + grader::Check::str(kl) + ", should be positive");
    }
  });

  g.check("KL's gradient in mu and logvar against central differences (float64)", 1, [](grader::Check& c) {
    ad::Generator gen(4);
    const Tensor64 mu = Tensor64::from_vector(grader::uniform(8, gen, -2, 2), {2, 4});
    const Tensor64 logvar = Tensor64::from_vector(grader::uniform(8, gen, -2, 2), {2, 4});
    c.gradcheck([](const std::vector<Tensor64>& in) { return nn::kl_normal(in[0], in[1], nn::Reduction::Sum); }, {mu, logvar},
                "d KL / d(mu, logvar), Sum");
    c.gradcheck([](const std::vector<Tensor64>& in) { return nn::kl_normal(in[0], in[1], nn::Reduction::Mean); }, {mu, logvar},
                "d KL / d(mu, logvar), Mean");
  });

  g.check("milestone: lesson 10 --quick, -ELBO below 784 ln 2 = 543.4 nats (the uniform decoder's) with KL > 0", 2,
          [](grader::Check& c) {
            auto m = grader::run_lesson("10_variational");
            if (!grader::has_metrics(c, m, "10", {"test_neg_elbo_nats", "test_reconstruction_nats", "test_kl_nats"}))
              return;
            // q(z|x) = N(0, I) with a decoder that says ½ for every pixel has KL 0 and −log p(x|z) = 784 ln 2: a VAE
            // whose bound is not below that has learned nothing from the digits.
            const double bound = 784 * std::log(2.0);
            c.expect(m["test_neg_elbo_nats"] < bound, "test -ELBO is " + grader::Check::str(m["test_neg_elbo_nats"]) +
                                                          " nats per image, expected below 784 ln 2 = 543.4");
            c.expect(m["test_kl_nats"] > 0, "test KL is " + grader::Check::str(m["test_kl_nats"]) + " nats, expected > 0");
            c.near(m["test_neg_elbo_nats"], m["test_reconstruction_nats"] + m["test_kl_nats"], 0.02,
                   "-ELBO against reconstruction + KL");
          });

  return g.finish();
}
