#include "autoencoders/denoising.hpp"

#include <algorithm>

namespace ae {

Tensor corrupt(const Tensor& x, Corruption kind, double level, ad::Generator& gen) {
  if (level < 0 || (kind != Corruption::Gaussian && level > 1))
    throw ad::Error("corrupt: noise level " + std::to_string(level) + " is out of range");
  Tensor out = x.detach();
  float* v = out.data();
  const std::size_t n = out.numel();
  switch (kind) {
    case Corruption::Gaussian:
      for (std::size_t i = 0; i < n; ++i) v[i] = std::clamp(v[i] + static_cast<float>(level * gen.normal()), 0.0f, 1.0f);
      break;
    case Corruption::Masking:
      for (std::size_t i = 0; i < n; ++i)
        if (gen.uniform() < level) v[i] = 0.0f;
      break;
    case Corruption::SaltAndPepper:
      for (std::size_t i = 0; i < n; ++i)
        if (gen.uniform() < level) v[i] = gen.uniform() < 0.5 ? 0.0f : 1.0f;
      break;
  }
  return out;
}

Corruption parse_corruption(const std::string& name) {
  if (name == "gaussian") return Corruption::Gaussian;
  if (name == "masking") return Corruption::Masking;
  if (name == "salt_and_pepper") return Corruption::SaltAndPepper;
  throw ad::Error("unknown corruption '" + name + "' (gaussian, masking, salt_and_pepper)");
}

DenoisingAutoencoder::DenoisingAutoencoder(DenoisingConfig config, std::shared_ptr<ad::Generator> gen)
    : Autoencoder(config.architecture, *gen), denoising_(std::move(config)), gen_(std::move(gen)) {}

Loss DenoisingAutoencoder::loss(const Tensor& x) {
  return loss_on(is_training() ? corrupt(x, denoising_.corruption, denoising_.level, *gen_) : x, x);  // ξ' from ξ
}

Loss DenoisingAutoencoder::loss_on(const Tensor& corrupted, const Tensor& clean) {
  const Tensor l = decoder_loss(*decoder, encode(corrupted), clean, config_.loss);  // L(g(f(ξ')), ξ)
  return {l, {{"reconstruction", l.item()}}};
}

}  // namespace ae
