#include "autoencoders/stacked.hpp"

#include <sstream>

#include "nn/losses.hpp"

namespace ae {

StackedAutoencoder::StackedAutoencoder(StackedConfig config, std::shared_ptr<ad::Generator> gen)
    : config_(std::move(config)), gen_(std::move(gen)) {
  const auto& s = config_.sizes;
  if (s.size() < 2) throw ad::Error("StackedAutoencoder: sizes need at least {input, code}");
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    encoders_.push_back(register_module("encoder" + std::to_string(i), std::make_shared<nn::Linear>(s[i], s[i + 1], *gen_)));
    decoders_.push_back(register_module("decoder" + std::to_string(i), std::make_shared<nn::Linear>(s[i + 1], s[i], *gen_)));
    encoder_act_.push_back(make_activation(i + 2 == s.size() ? config_.code : config_.hidden));
    decoder_act_.push_back(make_activation(i == 0 ? config_.output : config_.hidden));
  }
}

Tensor StackedAutoencoder::apply_encoder(std::size_t i, const Tensor& h) { return (*encoder_act_[i])((*encoders_[i])(h)); }
Tensor StackedAutoencoder::apply_decoder(std::size_t i, const Tensor& h) { return (*decoder_act_[i])((*decoders_[i])(h)); }

Tensor StackedAutoencoder::encode_to(const Tensor& x, std::size_t layers) {
  if (layers > depth()) throw ad::Error("StackedAutoencoder: asked for layer " + std::to_string(layers) + " of " + std::to_string(depth()));
  Tensor h = x;
  for (std::size_t i = 0; i < layers; ++i) h = apply_encoder(i, h);
  return h;
}

Tensor StackedAutoencoder::encode(const Tensor& x) { return encode_to(x, depth()); }

Tensor StackedAutoencoder::decode(const Tensor& h) {
  Tensor r = h;
  for (std::size_t i = depth(); i-- > 0;) r = apply_decoder(i, r);
  return r;
}

Loss StackedAutoencoder::loss(const Tensor& x) {
  const Tensor l = nn::mse_loss(reconstruct(x), x);
  return {l, {{"reconstruction", l.item()}}};
}

Loss StackedAutoencoder::layer_loss(std::size_t i, const Tensor& x) {
  Tensor below;
  {
    ad::NoGradGuard frozen;  // "salida de un AE = entrada del siguiente": the lower layers only feed this one
    below = encode_to(x, i);
  }
  const Tensor input = is_training() && config_.mask_noise > 0 ? corrupt(below, Corruption::Masking, config_.mask_noise, *gen_) : below;
  const Tensor l = nn::mse_loss(apply_decoder(i, apply_encoder(i, input)), below);
  return {l, {{"reconstruction", l.item()}}};
}

nn::Named<float> StackedAutoencoder::layer_parameters(std::size_t i) const {
  nn::Named<float> p;
  for (auto& [n, t] : encoders_.at(i)->named_parameters()) p.emplace_back("encoder" + std::to_string(i) + "." + n, t);
  for (auto& [n, t] : decoders_.at(i)->named_parameters()) p.emplace_back("decoder" + std::to_string(i) + "." + n, t);
  return p;
}

namespace {
// Layer i of the stack seen as a shallow autoencoder, so the shared fit() can train it.
class GreedyLayer : public AutoencoderModel {
 public:
  GreedyLayer(StackedAutoencoder& stack, std::size_t i) : stack_(stack), i_(i) {}
  Tensor encode(const Tensor& x) override { return stack_.encode_to(x, i_ + 1); }
  Tensor decode(const Tensor&) override { throw ad::Error("GreedyLayer: decode is not used"); }
  Loss loss(const Tensor& x) override { return stack_.layer_loss(i_, x); }
  void train(bool on) override {
    nn::Module::train(on);
    stack_.train(on);
  }
  std::string type_name() const override { return "GreedyLayer"; }

 private:
  StackedAutoencoder& stack_;
  std::size_t i_;
};
}  // namespace

std::vector<EpochStats> StackedAutoencoder::pretrain_layer(std::size_t i, nn::DataLoader& loader, std::size_t epochs,
                                                           double lr, const Callbacks& callbacks) {
  if (i >= depth()) throw ad::Error("StackedAutoencoder: no layer " + std::to_string(i));
  GreedyLayer layer(*this, i);
  nn::Adam adam(layer_parameters(i), lr);
  return fit(layer, loader, adam, epochs, callbacks);
}

std::string StackedAutoencoder::describe() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < config_.sizes.size(); ++i) os << (i ? "-" : "") << config_.sizes[i];
  return os.str();
}

StackedAutoencoder::Classifier::Classifier(StackedAutoencoder& stack, std::size_t classes, ad::Generator& gen)
    : stack_(stack) {
  // The encoder's layers are registered here too, so this module's parameters are encoder + head.
  for (std::size_t i = 0; i < stack.depth(); ++i) register_module("encoder" + std::to_string(i), stack.encoders()[i]);
  head = register_module("head", std::make_shared<nn::Linear>(stack.config_.sizes.back(), classes, gen));
}

Tensor StackedAutoencoder::Classifier::forward(const Tensor& x) { return (*head)(stack_.encode(x)); }

std::shared_ptr<StackedAutoencoder::Classifier> StackedAutoencoder::classifier(std::size_t classes, ad::Generator& gen) {
  return std::make_shared<Classifier>(*this, classes, gen);
}

}  // namespace ae
