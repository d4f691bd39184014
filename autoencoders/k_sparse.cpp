#include "autoencoders/k_sparse.hpp"

#include <cmath>
#include <sstream>

namespace ae {

KSparseAutoencoder::KSparseAutoencoder(KSparseOptions options, ad::Generator& gen) : options_(options), k_(options.k()) {
  if (options_.k() == 0 || options_.k() > options_.hidden())
    throw ad::Error("KSparseAutoencoder: k=" + std::to_string(options_.k()) + " must be between 1 and the " +
                    std::to_string(options_.hidden()) + " hidden units");
  encoder_linear = register_module("encoder", std::make_shared<nn::Linear>(options_.input(), options_.hidden(), gen));
  decoder_linear = register_module("decoder", options_.tied() ? nn::Linear::tied_to(*encoder_linear)
                                                           : std::make_shared<nn::Linear>(options_.hidden(), options_.input(), gen));
  output_activation = register_module("output", make_activation(options_.output()));
  // the schedule starts from k_start only when there is one (k_start without schedule_epochs is ignored)
  if (options_.k_start() > options_.k() && options_.schedule_epochs() > 0) k_ = std::min(options_.k_start(), options_.hidden());
}

std::size_t KSparseAutoencoder::active_units() const {
  // BEGIN EXERCISE k_sparse
  if (is_training()) return k_;
  return std::min<std::size_t>(options_.hidden(), static_cast<std::size_t>(std::lround(options_.alpha() * static_cast<double>(options_.k()))));
  // END EXERCISE k_sparse
}

void KSparseAutoencoder::set_epoch(std::size_t epoch) {
  if (options_.k_start() <= options_.k() || options_.schedule_epochs() == 0) return;
  const double t = std::min(1.0, static_cast<double>(epoch - 1) / static_cast<double>(options_.schedule_epochs()));
  k_ = static_cast<std::size_t>(std::lround(static_cast<double>(std::min(options_.k_start(), options_.hidden())) * (1 - t) +
                                            static_cast<double>(options_.k()) * t));
}

Tensor KSparseAutoencoder::encode(const Tensor& x) {
  return ad::topk_mask((*encoder_linear)(x), active_units());  // support: the k largest |z_i|
}

Tensor KSparseAutoencoder::decode(const Tensor& h) { return (*output_activation)((*decoder_linear)(h)); }

Tensor KSparseAutoencoder::reconstruct(const Tensor& x) { return decode(ad::topk_mask((*encoder_linear)(x), k_)); }

Loss KSparseAutoencoder::loss(const Tensor& x) {
  Loss l;
  l.add("reconstruction", reconstruction_loss(reconstruct(x), x, Reconstruction::MSE));
  return l;
}

std::string KSparseAutoencoder::describe() const {
  std::ostringstream os;
  os << options_.input() << "-" << options_.hidden() << ", k=" << k_ << ", alpha=" << options_.alpha();
  return os.str();
}

Tensor KSparseAutoencoder::decoder_filters() const {
  return options_.tied() ? ad::transpose(encoder_linear->weight) : decoder_linear->weight;
}

}  // namespace ae
