// The basic autoencoder, undercomplete (M < N) or overcomplete (M > N):
//   h = enc(x) = f(W1 x),  x' = dec(h) = g(W2 h),  E = Σ_μ ‖ξ_μ − dec(enc(ξ_μ))‖²
//   — slides 004 "AUTOENCODER BÁSICO"; 003 "Undercomplete: dim(z) ≤ dim(x) / Overcomplete: dim(z) ≥ dim(x)"
// Deeper encoders stack more layers (sizes {784, 256, 32}); the decoder mirrors them. With tied weights the
// decoder uses the encoder's transposed weights: W2 = W1ᵀ.
// It is also the base of the regularised variants: its objective is the reconstruction term, then whatever
// penalty terms a variant adds (add_penalties), on an input that any variant can corrupt (denoising).
// Departures from the slide:
//   - E is reported as the mean over pixels and samples, not the sum (003 "Arquitetura" writes the mean): the
//     same minimiser, and a learning rate that does not depend on the batch or image size.
//   - With a sigmoid output and BCE, the loss is taken from the logits (decoder_loss): the same value, stable.
#pragma once

#include "autoencoders/corruption.hpp"
#include "autoencoders/model.hpp"

namespace ae {

struct AutoencoderOptions {
  AE_ARG(std::vector<std::size_t>, sizes) = {784, 32};  // input, hidden..., code
  AE_ARG(Activation, hidden) = Activation::ReLU;        // between hidden layers
  AE_ARG(Activation, code) = Activation::Sigmoid;       // f, on the code h
  AE_ARG(Activation, output) = Activation::Sigmoid;     // g, on the reconstruction x'
  AE_ARG(bool, tied) = false;                           // W2 = W1ᵀ
  AE_ARG(Reconstruction, loss) = Reconstruction::MSE;
  AE_ARG(Corruption, corruption) = Corruption::None;    // training input ξ' ~ R(ξ'|ξ) (denoising)
  AE_ARG(double, noise_level) = 0.0;                    // σ, ν or p of the corruption
};

class Autoencoder : public AutoencoderModel {
 public:
  Autoencoder(AutoencoderOptions options, ad::Generator& gen);
  Tensor encode(const Tensor& x) override;
  Tensor decode(const Tensor& h) override;
  // L(ξ, g(f(ξ'))) + the variant's penalties, with ξ' = the corrupted ξ when training with a corruption, else ξ.
  Loss loss(const Tensor& x) override;
  // The same objective for a given input ξ' (corrupted or not) and the clean target ξ.
  Loss loss_on(const Tensor& input, const Tensor& clean);
  std::string type_name() const override { return "Autoencoder"; }
  std::string describe() const override;

  const AutoencoderOptions& options() const { return options_; }
  std::size_t code_size() const { return options_.sizes().back(); }
  // The decoder's last weights [input, units of the last hidden layer]: each column is a "filter" image.
  Tensor decoder_filters() const;
  // The encoder's first weights [first hidden, input]: each row is a feature detector image.
  Tensor encoder_filters() const;

  std::shared_ptr<nn::Sequential> encoder, decoder;
  std::vector<std::shared_ptr<nn::Linear>> encoder_linear, decoder_linear;  // in order of application

 protected:
  // R: the penalty terms a variant adds to the reconstruction, given the input the encoder saw and its code.
  virtual void add_penalties(Loss& loss, const Tensor& input, const Tensor& h) {
    (void)loss, (void)input, (void)h;
  }
  AutoencoderOptions options_;
  ad::Generator noise_;  // the corruption's draws, seeded from the constructor's generator
};

}  // namespace ae
