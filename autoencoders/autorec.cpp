#include "autoencoders/autorec.hpp"

#include <sstream>

namespace ae {

namespace {
template <class T>
ad::TensorT<T> activate(const ad::TensorT<T>& x, Activation a) {
  switch (a) {
    case Activation::Identity: return x;
    case Activation::Sigmoid: return ad::sigmoid(x);
    case Activation::Tanh: return ad::tanh(x);
    case Activation::ReLU: return ad::relu(x);
    case Activation::LeakyReLU: return ad::leaky_relu(x, T(0.2));
    case Activation::Softplus: return ad::softplus(x);
  }
  throw ad::Error("AutoRec: unknown activation");
}
}  // namespace

template <class T>
ad::TensorT<T> autorec_reconstruct(const ad::TensorT<T>& input, const ad::TensorT<T>& V, const ad::TensorT<T>& mu,
                                   const ad::TensorT<T>& W, const ad::TensorT<T>& b, Activation g, Activation f) {
  return activate(ad::linear(activate(ad::linear(input, V, mu), g), W, b), f);  // f(W · g(V r + μ) + b)
}

template <class T>
ad::TensorT<T> masked_squared_error(const ad::TensorT<T>& prediction, const ad::TensorT<T>& target, const ad::TensorT<T>& mask) {
  if (prediction.shape() != target.shape() || mask.shape() != target.shape())
    throw ad::Error("masked_squared_error: prediction " + ad::shape_str(prediction.shape()) + ", target " +
                    ad::shape_str(target.shape()) + " and mask " + ad::shape_str(mask.shape()) + " differ");
  // BEGIN EXERCISE autorec_loss
  const ad::TensorT<T> error = ad::masked_mul(ad::sub(target, prediction), mask);  // (r − h) ⊙ m
  return ad::mul(ad::sum(ad::square(error)), T(1) / static_cast<T>(target.size(0)));
  // END EXERCISE autorec_loss
}

template <class T>
ad::TensorT<T> observed(const ad::TensorT<T>& x) {
  ad::TensorT<T> m = ad::TensorT<T>::zeros(x.shape());
  const T* v = x.data();
  for (std::size_t i = 0; i < x.numel(); ++i) m.data()[i] = v[i] != T(0) ? T(1) : T(0);
  return m;
}

AutoRec::AutoRec(AutoRecOptions options, ad::Generator& gen) : options_(std::move(options)) {
  if (options_.input() == 0 || options_.hidden() == 0) throw ad::Error("AutoRec: input and hidden sizes must be positive");
  if (options_.lambda() < 0) throw ad::Error("AutoRec: lambda must be non-negative");
  encoder = register_module("encoder", std::make_shared<nn::Linear>(options_.input(), options_.hidden(), gen));
  decoder = register_module("decoder", std::make_shared<nn::Linear>(options_.hidden(), options_.input(), gen));
}

Tensor AutoRec::encode(const Tensor& r) { return activate((*encoder)(r), options_.code()); }
Tensor AutoRec::decode(const Tensor& h) { return activate((*decoder)(h), options_.output()); }

Loss AutoRec::loss(const Tensor& r) { return loss(r, r, observed(r)); }

Loss AutoRec::loss(const Tensor& input, const Tensor& target, const Tensor& mask) {
  // BEGIN EXERCISE autorec_loss
  Loss l;
  l.add("reconstruction", masked_squared_error(reconstruct(input), target, mask));  // Σ_i ‖(r_i − h(r_i)) ⊙ m_i‖² / N
  const Tensor l2 = ad::add(ad::sum(ad::square(decoder->weight)), ad::sum(ad::square(encoder->weight)));
  l.add("l2", l2, options_.lambda() / 2);  // + (λ/2)(‖W‖² + ‖V‖²)
  return l;
  // END EXERCISE autorec_loss
}

std::string AutoRec::describe() const {
  std::ostringstream os;
  os << options_.input() << "-" << options_.hidden() << "-" << options_.input() << ", lambda " << options_.lambda();
  return os.str();
}

#define AE_AUTOREC(T)                                                                                                \
  template ad::TensorT<T> autorec_reconstruct(const ad::TensorT<T>&, const ad::TensorT<T>&, const ad::TensorT<T>&,  \
                                              const ad::TensorT<T>&, const ad::TensorT<T>&, Activation, Activation); \
  template ad::TensorT<T> masked_squared_error(const ad::TensorT<T>&, const ad::TensorT<T>&, const ad::TensorT<T>&); \
  template ad::TensorT<T> observed(const ad::TensorT<T>&);
AE_AUTOREC(float)
AE_AUTOREC(double)

}  // namespace ae
