#include "autoencoders/denoising.hpp"

namespace ae {

DenoisingAutoencoder::DenoisingAutoencoder(AutoencoderOptions architecture, DenoisingOptions denoising, ad::Generator& gen)
    : Autoencoder(architecture.corruption(denoising.corruption()).noise_level(denoising.level()), gen) {
  if (denoising.corruption() == Corruption::None) throw ad::Error("DenoisingAutoencoder: needs a corruption");
}

}  // namespace ae
