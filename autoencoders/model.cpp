#include "autoencoders/model.hpp"

#include "nn/losses.hpp"

namespace ae {

double Terms::operator[](const std::string& name) const {
  std::string known;
  for (auto& [n, v] : values) {
    if (n == name) return v;
    known += (known.empty() ? "" : ", ") + n;
  }
  throw ad::Error("no term '" + name + "' (the terms are: " + known + ")");
}

double Terms::loss() const {
  if (values.empty()) throw ad::Error("Terms::loss: no terms");
  return values.front().second;
}

bool Terms::has(const std::string& name) const {
  for (auto& [n, v] : values)
    if (n == name) return true;
  return false;
}

Loss& Loss::add(const std::string& name, const Tensor& term, double weight) {
  const Tensor weighted = weight == 1.0 ? term : ad::mul(term, static_cast<float>(weight));
  total = total.defined() ? ad::add(total, weighted) : weighted;
  terms.values.emplace_back(name, term.item());
  return *this;
}

Tensor reconstruction_loss(const Tensor& reconstruction, const Tensor& x, Reconstruction kind) {
  return kind == Reconstruction::MSE ? nn::mse_loss(reconstruction, x) : nn::bce_loss(reconstruction, x);
}

Tensor decoder_loss(nn::Sequential& decoder, const Tensor& h, const Tensor& x, Reconstruction kind) {
  const bool sigmoid_out = decoder.size() > 0 && dynamic_cast<nn::Sigmoid*>(decoder[decoder.size() - 1].get());
  if (kind != Reconstruction::BCE || !sigmoid_out) {
    const Tensor out = decoder(h);
    return reconstruction_loss(out.shape() == x.shape() ? out : ad::reshape(out, x.shape()), x, kind);
  }
  Tensor logits = h;
  for (std::size_t i = 0; i + 1 < decoder.size(); ++i) logits = (*decoder[i])(logits);
  return nn::bce_with_logits_loss(logits.shape() == x.shape() ? logits : ad::reshape(logits, x.shape()), x);
}

std::shared_ptr<nn::Module> make_activation(Activation a) {
  switch (a) {
    case Activation::Identity: return std::make_shared<nn::Identity>();
    case Activation::ReLU: return std::make_shared<nn::ReLU>();
    case Activation::LeakyReLU: return std::make_shared<nn::LeakyReLU>(0.2);
    case Activation::Sigmoid: return std::make_shared<nn::Sigmoid>();
    case Activation::Tanh: return std::make_shared<nn::Tanh>();
    case Activation::Softplus: return std::make_shared<nn::Softplus>();
  }
  throw ad::Error("make_activation: unknown activation");
}

Activation parse_activation(const std::string& name) {
  if (name == "identity" || name == "linear") return Activation::Identity;
  if (name == "relu") return Activation::ReLU;
  if (name == "leaky_relu") return Activation::LeakyReLU;
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "tanh") return Activation::Tanh;
  if (name == "softplus") return Activation::Softplus;
  throw ad::Error("unknown activation '" + name + "' (identity, relu, leaky_relu, sigmoid, tanh, softplus)");
}

}  // namespace ae
