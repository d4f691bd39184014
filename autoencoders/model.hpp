// What every autoencoder variant is: an encoder f, a decoder g, and a training objective on a batch.
//   h = f(x),  x' = g(h),  minimise L(x, x') + R   (slides 004 "AUTOENCODER BÁSICO"; 001 "E(x, x̂) + regularization")
// The objective is a sum of named terms: the reconstruction L, then the variant's penalties R (Loss::add).
// A new variant is one new file: derive from AutoencoderModel (or from Autoencoder, and add penalty terms).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autodiff/arg.hpp"
#include "nn/layers.hpp"

namespace ae {

using ad::Tensor;

// Named numbers, in the order they were added ("loss" first where there is a total): a batch's terms, an
// epoch's means, a data set's evaluation.
struct Terms {
  std::vector<std::pair<std::string, double>> values;
  double operator[](const std::string& name) const;  // throws naming the terms there are
  double loss() const;                                // the first value (the total)
  bool has(const std::string& name) const;
};

// One batch's objective: the total to minimise, built term by term.
//   Loss l;  l.add("reconstruction", L);  l.add("kl", KL, β);   →  l.total = L + β KL; terms L and KL by name
struct Loss {
  Tensor total;
  Terms terms;
  Loss& add(const std::string& name, const Tensor& term, double weight = 1.0);  // records the unweighted value
  double term(const std::string& name) const { return terms[name]; }
};

class AutoencoderModel : public nn::Module {
 public:
  virtual Tensor encode(const Tensor& x) = 0;  // h = f(x)
  virtual Tensor decode(const Tensor& h) = 0;  // x' = g(h)
  virtual Tensor reconstruct(const Tensor& x) { return decode(encode(x)); }
  Tensor forward(const Tensor& x) override { return reconstruct(x); }
  virtual Loss loss(const Tensor& x) = 0;      // the variant's objective, as its slide writes it
};

// Reconstruction error kinds shared by the variants.
enum class Reconstruction { MSE, BCE };

// L(x, x'): MSE per pixel (slides 003 "Arquitetura"), or BCE per pixel for outputs in [0, 1].
Tensor reconstruction_loss(const Tensor& reconstruction, const Tensor& x, Reconstruction kind);

// L(x, g(h)) for a decoder whose last layer is its output activation. BCE after a sigmoid is computed from the
// logits before it (bce_with_logits, as PyTorch's binary_cross_entropy_with_logits): the same value, stable, and a
// saturated wrong pixel keeps its gradient, which σ followed by BCE loses in float once |logit| ≳ 17.
Tensor decoder_loss(nn::Sequential& decoder, const Tensor& h, const Tensor& x, Reconstruction kind);

// LeakyReLU has slope 0.2, as in the slides' convolutional autoencoder (001 "Deep Convolutional Autoencoder").
enum class Activation { Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softplus };
std::shared_ptr<nn::Module> make_activation(Activation a);
Activation parse_activation(const std::string& name);  // "relu", "sigmoid", ... (throws on an unknown name)

}  // namespace ae
