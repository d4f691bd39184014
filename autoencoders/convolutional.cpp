#include "autoencoders/convolutional.hpp"

#include <sstream>

namespace ae {

ConvAutoencoder::ConvAutoencoder(ConvOptions options, ad::Generator& gen) : options_(std::move(options)) {
  if (options_.channels().empty()) throw ad::Error("ConvAutoencoder: needs at least one convolution block");
  const float slope = static_cast<float>(options_.negative_slope());
  encoder = register_module("encoder", std::make_shared<nn::Sequential>());
  decoder = register_module("decoder", std::make_shared<nn::Sequential>());
  std::size_t in = 1, size = options_.image();
  sizes_.push_back(size);
  for (auto c : options_.channels()) {
    convs.push_back(std::make_shared<nn::Conv2d>(in, c, 3, gen, nn::ConvOptions().stride(2).padding(1)));
    encoder->push_back(convs.back());
    encoder->push_back(std::make_shared<nn::BatchNorm2d>(c));
    encoder->push_back(std::make_shared<nn::LeakyReLU>(slope));
    size = (size + 2 - 3) / 2 + 1;
    sizes_.push_back(size);
    in = c;
  }
  const std::size_t flat = in * size * size;
  encoder->push_back(std::make_shared<nn::Flatten>());
  encoder->push_back(std::make_shared<nn::Linear>(flat, options_.code(), gen));

  decoder->push_back(std::make_shared<nn::Linear>(options_.code(), flat, gen));
  decoder->push_back(std::make_shared<nn::LeakyReLU>(slope));
  decoder->push_back(std::make_shared<nn::Unflatten>(ad::Shape{in, size, size}));
  for (std::size_t i = options_.channels().size(); i-- > 0;) {
    const std::size_t out = i == 0 ? 1 : options_.channels()[i - 1];
    // output_padding makes each transposed convolution land exactly on the encoder's size: (s−1)·2 − 2 + 3 + op
    const std::size_t target = sizes_[i], from = sizes_[i + 1];
    const std::size_t output_padding = target - (2 * from - 1);
    decoder->push_back(std::make_shared<nn::ConvTranspose2d>(
        options_.channels()[i], out, 3, gen, nn::ConvOptions().stride(2).padding(1).output_padding(output_padding)));
    if (i > 0) {
      decoder->push_back(std::make_shared<nn::BatchNorm2d>(out));
      decoder->push_back(std::make_shared<nn::LeakyReLU>(slope));
    }
  }
  decoder->push_back(std::make_shared<nn::Sigmoid>());
}

Tensor ConvAutoencoder::encode(const Tensor& x) {
  if (x.dim() != 2 || x.size(1) != options_.image() * options_.image())
    throw ad::Error("ConvAutoencoder: input " + ad::shape_str(x.shape()) + " should be [N, " +
                    std::to_string(options_.image() * options_.image()) + "]");
  return (*encoder)(ad::reshape(x, {x.size(0), 1, options_.image(), options_.image()}));
}

Tensor ConvAutoencoder::decode(const Tensor& h) {
  const Tensor images = (*decoder)(h);
  return ad::reshape(images, {h.size(0), options_.image() * options_.image()});
}

Loss ConvAutoencoder::loss(const Tensor& x) {
  Loss l;
  l.add("reconstruction", decoder_loss(*decoder, encode(x), x, options_.loss()));
  return l;
}

Tensor ConvAutoencoder::feature_maps(const Tensor& x, std::size_t blocks) {
  if (blocks == 0 || blocks > convs.size()) throw ad::Error("ConvAutoencoder::feature_maps: no block " + std::to_string(blocks));
  Tensor h = ad::reshape(x, {x.size(0), 1, options_.image(), options_.image()});
  for (std::size_t i = 0; i < 3 * blocks; ++i) h = (*(*encoder)[i])(h);
  return h;
}

std::string ConvAutoencoder::describe() const {
  std::ostringstream os;
  os << "channels";
  for (auto c : options_.channels()) os << " " << c;
  os << ", code " << options_.code();
  return os.str();
}

}  // namespace ae
