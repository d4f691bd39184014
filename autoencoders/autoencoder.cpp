#include "autoencoders/autoencoder.hpp"

#include <sstream>

namespace ae {

Autoencoder::Autoencoder(AutoencoderConfig config, ad::Generator& gen) : config_(std::move(config)) {
  const auto& s = config_.sizes;
  if (s.size() < 2) throw ad::Error("Autoencoder: sizes need at least {input, code}");
  encoder = register_module("encoder", std::make_shared<nn::Sequential>());
  decoder = register_module("decoder", std::make_shared<nn::Sequential>());
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    encoder_linear.push_back(std::make_shared<nn::Linear>(s[i], s[i + 1], gen));
    encoder->push_back(encoder_linear.back());
    encoder->push_back(make_activation(i + 2 == s.size() ? config_.code : config_.hidden));
  }
  for (std::size_t i = s.size() - 1; i > 0; --i) {
    const auto& mirror = *encoder_linear[i - 1];
    decoder_linear.push_back(config_.tied ? nn::Linear::tied_to(mirror) : std::make_shared<nn::Linear>(s[i], s[i - 1], gen));
    decoder->push_back(decoder_linear.back());
    decoder->push_back(make_activation(i == 1 ? config_.output : config_.hidden));
  }
}

Tensor Autoencoder::encode(const Tensor& x) { return (*encoder)(x); }
Tensor Autoencoder::decode(const Tensor& h) { return (*decoder)(h); }

Loss Autoencoder::loss(const Tensor& x) {
  const Tensor l = decoder_loss(*decoder, encode(x), x, config_.loss);
  return {l, {{"reconstruction", l.item()}}};
}

std::string Autoencoder::describe() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < config_.sizes.size(); ++i) os << (i ? "-" : "") << config_.sizes[i];
  if (config_.tied) os << ", tied";
  return os.str();
}

Tensor Autoencoder::decoder_filters() const {
  const auto& last = *decoder_linear.back();
  // untied: W2 [input, hidden]; tied: the encoder's W1 [hidden, input], transposed
  return config_.tied ? ad::transpose(last.weight) : last.weight;
}

Tensor Autoencoder::encoder_filters() const { return encoder_linear.front()->weight; }

}  // namespace ae
