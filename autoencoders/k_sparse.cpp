#include "autoencoders/k_sparse.hpp"

#include <cmath>
#include <sstream>

namespace ae {

KSparseAutoencoder::KSparseAutoencoder(KSparseConfig config, ad::Generator& gen) : config_(config), k_(config.k) {
  if (config_.k == 0 || config_.k > config_.hidden)
    throw ad::Error("KSparseAutoencoder: k=" + std::to_string(config_.k) + " must be between 1 and the " +
                    std::to_string(config_.hidden) + " hidden units");
  encoder_linear = register_module("encoder", std::make_shared<nn::Linear>(config_.input, config_.hidden, gen));
  decoder_linear = register_module("decoder", config_.tied ? nn::Linear::tied_to(*encoder_linear)
                                                           : std::make_shared<nn::Linear>(config_.hidden, config_.input, gen));
  output_activation = register_module("output", make_activation(config_.output));
  if (config_.k_start > config_.k) k_ = std::min(config_.k_start, config_.hidden);
}

std::size_t KSparseAutoencoder::active_units() const {
  if (is_training()) return k_;
  return std::min<std::size_t>(config_.hidden, static_cast<std::size_t>(std::lround(config_.alpha * static_cast<double>(config_.k))));
}

void KSparseAutoencoder::set_epoch(std::size_t epoch) {
  if (config_.k_start <= config_.k || config_.schedule_epochs == 0) return;
  const double t = std::min(1.0, static_cast<double>(epoch - 1) / static_cast<double>(config_.schedule_epochs));
  k_ = static_cast<std::size_t>(std::lround(static_cast<double>(std::min(config_.k_start, config_.hidden)) * (1 - t) +
                                            static_cast<double>(config_.k) * t));
}

Tensor KSparseAutoencoder::encode(const Tensor& x) {
  return ad::topk_mask((*encoder_linear)(x), active_units());  // support: the k largest |z_i|
}

Tensor KSparseAutoencoder::decode(const Tensor& h) { return (*output_activation)((*decoder_linear)(h)); }

Tensor KSparseAutoencoder::reconstruct(const Tensor& x) { return decode(ad::topk_mask((*encoder_linear)(x), k_)); }

Loss KSparseAutoencoder::loss(const Tensor& x) {
  const Tensor l = reconstruction_loss(reconstruct(x), x, Reconstruction::MSE);
  return {l, {{"reconstruction", l.item()}}};
}

std::string KSparseAutoencoder::describe() const {
  std::ostringstream os;
  os << config_.input << "-" << config_.hidden << ", k=" << k_ << ", alpha=" << config_.alpha;
  return os.str();
}

Tensor KSparseAutoencoder::decoder_filters() const {
  return config_.tied ? ad::transpose(encoder_linear->weight) : decoder_linear->weight;
}

}  // namespace ae
