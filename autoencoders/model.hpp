// What every autoencoder variant is: an encoder f, a decoder g, and a training objective on a batch.
//   h = f(x),  x' = g(h),  minimise L(x, x') + R   (slides 004 "AUTOENCODER BÁSICO"; 001 "E(x, x̂) + regularization")
// A new variant is one new file: derive from AutoencoderModel, write encode, decode and loss.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "nn/layers.hpp"

namespace ae {

using ad::Tensor;

// One batch's objective: the total to minimise, and its named terms (for logs and curves).
struct Loss {
  Tensor total;
  std::vector<std::pair<std::string, double>> terms;  // e.g. {"reconstruction", 0.021}, {"penalty", 0.003}
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
