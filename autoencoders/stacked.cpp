#include "autoencoders/stacked.hpp"

#include <sstream>

#include "nn/losses.hpp"

namespace ae {

StackedAutoencoder::StackedAutoencoder(StackedOptions options, ad::Generator& gen) : options_(std::move(options)) {
  const auto& s = options_.sizes();
  if (s.size() < 2) throw ad::Error("StackedAutoencoder: sizes need at least {input, code}");
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    encoders_.push_back(register_module("encoder" + std::to_string(i), std::make_shared<nn::Linear>(s[i], s[i + 1], gen)));
    decoders_.push_back(register_module("decoder" + std::to_string(i), std::make_shared<nn::Linear>(s[i + 1], s[i], gen)));
    encoder_act_.push_back(make_activation(i + 2 == s.size() ? options_.code() : options_.hidden()));
    decoder_act_.push_back(make_activation(i == 0 ? options_.output() : options_.hidden()));
  }
  noise_.seed(gen.next_u64());
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
  Loss l;
  l.add("reconstruction", nn::mse_loss(reconstruct(x), x));
  return l;
}

Loss StackedAutoencoder::layer_loss(std::size_t i, const Tensor& x) {
  if (i >= depth()) throw ad::Error("StackedAutoencoder: no layer " + std::to_string(i));
  // BEGIN EXERCISE greedy_step
  Tensor below;
  {
    ad::NoGradGuard frozen;  // "salida de un AE = entrada del siguiente": the lower layers only feed this one
    below = encode_to(x, i);
  }
  const bool noisy = is_training() && options_.mask_noise() > 0;
  const Tensor input = noisy ? corrupt(below, Corruption::Masking, options_.mask_noise(), noise_) : below;
  Loss l;
  l.add("reconstruction", nn::mse_loss(apply_decoder(i, apply_encoder(i, input)), below));
  return l;
  // END EXERCISE greedy_step
}

nn::Named<float> StackedAutoencoder::layer_parameters(std::size_t i) const {
  nn::Named<float> p;
  for (auto& [n, t] : encoders_.at(i)->named_parameters()) p.emplace_back("encoder" + std::to_string(i) + "." + n, t);
  for (auto& [n, t] : decoders_.at(i)->named_parameters()) p.emplace_back("decoder" + std::to_string(i) + "." + n, t);
  return p;
}

std::vector<EpochStats> StackedAutoencoder::pretrain_layer(std::size_t i, nn::DataLoader& loader, const PhaseOptions& phase) {
  if (i >= depth()) throw ad::Error("StackedAutoencoder: no layer " + std::to_string(i));
  // BEGIN EXERCISE greedy_step
  nn::Adam adam(layer_parameters(i), phase.lr());
  return fit(*this, loader, adam, phase.epochs(), [this, i](const nn::Batch& b) { return layer_loss(i, b.x); },
             phase.callbacks());
  // END EXERCISE greedy_step
}

std::vector<std::vector<EpochStats>> StackedAutoencoder::pretrain(nn::DataLoader& loader, const PhaseOptions& phase) {
  std::vector<std::vector<EpochStats>> layers;
  for (std::size_t i = 0; i < depth(); ++i) layers.push_back(pretrain_layer(i, loader, phase));
  return layers;
}

std::vector<EpochStats> StackedAutoencoder::fine_tune(nn::DataLoader& loader, const PhaseOptions& phase) {
  nn::Adam adam(named_parameters(), phase.lr());
  return fit(*this, loader, adam, phase.epochs(), phase.callbacks());
}

std::vector<EpochStats> StackedAutoencoder::backfit(Classifier& classifier, nn::DataLoader& loader, const PhaseOptions& phase) {
  nn::Adam adam(classifier.named_parameters(), phase.lr());
  return fit(classifier, loader, adam, phase.epochs(), [&classifier](const nn::Batch& b) { return classifier.loss(b); },
             phase.callbacks());
}

std::string StackedAutoencoder::describe() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < options_.sizes().size(); ++i) os << (i ? "-" : "") << options_.sizes()[i];
  return os.str();
}

StackedAutoencoder::Classifier::Classifier(StackedAutoencoder& stack, std::size_t classes, ad::Generator& gen)
    : stack_(stack) {
  // The encoder's layers are registered here too, so this module's parameters are encoder + head.
  for (std::size_t i = 0; i < stack.depth(); ++i) register_module("encoder" + std::to_string(i), stack.encoders()[i]);
  head = register_module("head", std::make_shared<nn::Linear>(stack.options_.sizes().back(), classes, gen));
}

Tensor StackedAutoencoder::Classifier::forward(const Tensor& x) { return (*head)(stack_.encode(x)); }

Loss StackedAutoencoder::Classifier::loss(const nn::Batch& batch) {
  if (batch.labels.size() != batch.x.size(0))
    throw ad::Error("StackedClassifier: the batch has " + std::to_string(batch.labels.size()) + " labels for " +
                    std::to_string(batch.x.size(0)) + " images (give the DataLoader the labels)");
  Loss l;
  l.add("cross_entropy", nn::cross_entropy_loss((*this)(batch.x), batch.labels));
  return l;
}

std::shared_ptr<StackedAutoencoder::Classifier> StackedAutoencoder::classifier(std::size_t classes, ad::Generator& gen) {
  return std::make_shared<Classifier>(*this, classes, gen);
}

}  // namespace ae
