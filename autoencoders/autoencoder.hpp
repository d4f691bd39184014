// The basic autoencoder, undercomplete (M < N) or overcomplete (M > N):
//   h = enc(x) = f(W1 x),  x' = dec(h) = g(W2 h),  E = Σ_μ ‖ξ_μ − dec(enc(ξ_μ))‖²
//   — slides 004 "AUTOENCODER BÁSICO"; 003 "Undercomplete: dim(z) ≤ dim(x) / Overcomplete: dim(z) ≥ dim(x)"
// Deeper encoders stack more layers (sizes {784, 256, 32}); the decoder mirrors them. With tied weights the
// decoder uses the encoder's transposed weights: W2 = W1ᵀ.
#pragma once

#include "autoencoders/model.hpp"

namespace ae {

struct AutoencoderConfig {
  std::vector<std::size_t> sizes{784, 32};  // input, hidden..., code
  Activation hidden = Activation::ReLU;     // between hidden layers
  Activation code = Activation::Sigmoid;    // f, on the code h
  Activation output = Activation::Sigmoid;  // g, on the reconstruction x'
  bool tied = false;
  Reconstruction loss = Reconstruction::MSE;
};

class Autoencoder : public AutoencoderModel {
 public:
  Autoencoder(AutoencoderConfig config, ad::Generator& gen);
  Tensor encode(const Tensor& x) override;
  Tensor decode(const Tensor& h) override;
  Loss loss(const Tensor& x) override;  // L(x, g(f(x)))
  std::string type_name() const override { return "Autoencoder"; }
  std::string describe() const override;

  const AutoencoderConfig& config() const { return config_; }
  std::size_t code_size() const { return config_.sizes.back(); }
  // The decoder's last weights [input, units of the last hidden layer]: each column is a "filter" image.
  Tensor decoder_filters() const;
  // The encoder's first weights [first hidden, input]: each row is a feature detector image.
  Tensor encoder_filters() const;

  std::shared_ptr<nn::Sequential> encoder, decoder;
  std::vector<std::shared_ptr<nn::Linear>> encoder_linear, decoder_linear;  // in order of application

 protected:
  AutoencoderConfig config_;
};

}  // namespace ae
