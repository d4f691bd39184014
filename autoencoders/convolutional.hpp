// Convolutional autoencoder: convolutions keep the 2-D structure of the image.
//   Encoder: [Conv2d(stride 2) + BatchNorm + LeakyReLU] × L, Flatten, Linear → code
//   Decoder: Linear + LeakyReLU, Unflatten, [ConvTranspose2d(stride 2) + BatchNorm + LeakyReLU] × (L−1),
//            ConvTranspose2d → 1 channel, sigmoid
//   — slides 001 "Deep Convolutional Autoencoder" ("Encoder: Convolution + Leaky Relu + Batch normalization;
//   Decoder: Convolution transpose + Leaky Relu + Batch normalization"); 000 "Autoencoder Convolutivo"
// With channels {16, 32} and code 16 this is the reference model of ../shared/reference/torch_reference.py.
// Departures from the slide: the slide lists Convolution + Leaky ReLU + Batch normalization; the blocks apply them
// in the order Conv → BatchNorm → LeakyReLU (as the reference model and DCGAN do), the last transposed convolution
// has no BatchNorm, and a sigmoid maps the output to the pixels' range.
#pragma once

#include "autoencoders/model.hpp"

namespace ae {

struct ConvOptions {
  AE_ARG(std::size_t, image) = 28;  // square images, one channel, given as rows of image² pixels
  AE_ARG(std::vector<std::size_t>, channels) = {16, 32};
  AE_ARG(std::size_t, code) = 16;
  AE_ARG(double, negative_slope) = 0.2;
  AE_ARG(Reconstruction, loss) = Reconstruction::MSE;
};

class ConvAutoencoder : public AutoencoderModel {
 public:
  ConvAutoencoder(ConvOptions options, ad::Generator& gen);
  Tensor encode(const Tensor& x) override;  // [N, image²] → [N, code]
  Tensor decode(const Tensor& h) override;  // [N, code] → [N, image²]
  Loss loss(const Tensor& x) override;
  std::string type_name() const override { return "ConvAutoencoder"; }
  std::string describe() const override;
  // The encoder's convolution blocks alone: [N, 1, H, W] → feature maps of block `blocks`.
  Tensor feature_maps(const Tensor& x, std::size_t blocks);
  const ConvOptions& options() const { return options_; }

  std::shared_ptr<nn::Sequential> encoder, decoder;
  std::vector<std::shared_ptr<nn::Conv2d>> convs;

 private:
  ConvOptions options_;
  std::vector<std::size_t> sizes_;  // spatial size after each encoder block
};

}  // namespace ae
