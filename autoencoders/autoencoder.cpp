#include "autoencoders/autoencoder.hpp"

#include <sstream>

namespace ae {

Autoencoder::Autoencoder(AutoencoderOptions options, ad::Generator& gen) : options_(std::move(options)) {
  const auto& s = options_.sizes();
  if (s.size() < 2) throw ad::Error("Autoencoder: sizes need at least {input, code}");
  encoder = register_module("encoder", std::make_shared<nn::Sequential>());
  decoder = register_module("decoder", std::make_shared<nn::Sequential>());
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    encoder_linear.push_back(std::make_shared<nn::Linear>(s[i], s[i + 1], gen));
    encoder->push_back(encoder_linear.back());
    encoder->push_back(make_activation(i + 2 == s.size() ? options_.code() : options_.hidden()));
  }
  for (std::size_t i = s.size() - 1; i > 0; --i) {
    const auto& mirror = *encoder_linear[i - 1];
    decoder_linear.push_back(options_.tied() ? nn::Linear::tied_to(mirror) : std::make_shared<nn::Linear>(s[i], s[i - 1], gen));
    decoder->push_back(decoder_linear.back());
    decoder->push_back(make_activation(i == 1 ? options_.output() : options_.hidden()));
  }
  noise_.seed(gen.next_u64());
}

Tensor Autoencoder::encode(const Tensor& x) { return (*encoder)(x); }
Tensor Autoencoder::decode(const Tensor& h) { return (*decoder)(h); }

Loss Autoencoder::loss(const Tensor& x) {
  const bool corrupting = is_training() && options_.corruption() != Corruption::None;
  return loss_on(corrupting ? corrupt(x, options_.corruption(), options_.noise_level(), noise_) : x, x);  // ξ' from ξ
}

Loss Autoencoder::loss_on(const Tensor& input, const Tensor& clean) {
  const Tensor h = encode(input);
  Loss l;
  l.add("reconstruction", decoder_loss(*decoder, h, clean, options_.loss()));  // L(ξ, g(f(ξ')))
  add_penalties(l, input, h);                                                   // + R
  return l;
}

std::string Autoencoder::describe() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < options_.sizes().size(); ++i) os << (i ? "-" : "") << options_.sizes()[i];
  if (options_.tied()) os << ", tied";
  return os.str();
}

Tensor Autoencoder::decoder_filters() const {
  const auto& last = *decoder_linear.back();
  // untied: W2 [input, hidden]; tied: the encoder's W1 [hidden, input], transposed
  return options_.tied() ? ad::transpose(last.weight) : last.weight;
}

Tensor Autoencoder::encoder_filters() const { return encoder_linear.front()->weight; }

}  // namespace ae
