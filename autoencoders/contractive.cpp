#include "autoencoders/contractive.hpp"

namespace ae {

JacobianMode parse_jacobian_mode(const std::string& name) {
  if (name == "closed_form") return JacobianMode::ClosedForm;
  if (name == "exact") return JacobianMode::Exact;
  if (name == "hutchinson") return JacobianMode::Hutchinson;
  throw ad::Error("unknown Jacobian mode '" + name + "' (closed_form, exact, hutchinson)");
}

template <class T>
ad::TensorT<T> contractive_penalty_from_code(const ad::TensorT<T>& h, const ad::TensorT<T>& weight) {
  // BEGIN EXERCISE contractive
  // ∂h_i/∂x_j = h_i(1 − h_i) W_ij, so ‖J‖²_F = Σ_i (h_i(1 − h_i))² Σ_j W_ij²
  const ad::TensorT<T> slope_sq = ad::square(ad::mul(h, ad::rsub(T(1), h)));  // (h(1−h))², [N, M]
  const ad::TensorT<T> row_norms = ad::sum(ad::square(weight), {1});          // Σ_j W_ij², [M]
  return ad::mul(ad::sum(ad::mul(slope_sq, row_norms)), T(1) / static_cast<T>(h.size(0)));
  // END EXERCISE contractive
}

template <class T>
ad::TensorT<T> contractive_penalty_closed_form(const ad::TensorT<T>& x, const ad::TensorT<T>& weight,
                                               const ad::TensorT<T>& bias) {
  const ad::TensorT<T> h = ad::sigmoid(ad::add(ad::matmul(x, weight, false, true), bias));  // [N, M]
  return contractive_penalty_from_code(h, weight);
}

template <class T>
ad::TensorT<T> jacobian_penalty(const std::function<ad::TensorT<T>(const ad::TensorT<T>&)>& encoder,
                                const ad::TensorT<T>& x, JacobianMode mode, std::size_t projections, ad::Generator* gen) {
  if (mode == JacobianMode::ClosedForm)
    throw ad::Error("jacobian_penalty: the closed form needs the layer's weights; call contractive_penalty_closed_form");
  // The Jacobian needs a graph from x to h even when the caller records none (evaluation).
  ad::EnableGradGuard with_grad;
  // The Jacobian is taken w.r.t. the input: it must be part of the graph.
  const ad::TensorT<T> input = x.requires_grad() ? x : x.detach().set_requires_grad(true);
  const ad::TensorT<T> h = encoder(input);
  const std::size_t n = x.size(0), m = h.size(1);
  ad::TensorT<T> total = ad::TensorT<T>::scalar(T(0));
  if (mode == JacobianMode::Exact) {
    // Row i of every sample's Jacobian at once: e_iᵀ J = ∂(Σ_n h_ni)/∂x, since sample n's code depends only on x_n.
    for (std::size_t i = 0; i < m; ++i) {
      ad::TensorT<T> e = ad::TensorT<T>::zeros(h.shape());
      for (std::size_t r = 0; r < n; ++r) e.data()[r * m + i] = T(1);
      const ad::TensorT<T> row = ad::grad(h, {input}, e, true, true)[0];
      total = ad::add(total, ad::sum(ad::square(row)));
    }
    return ad::mul(total, T(1) / static_cast<T>(n));
  }
  if (!gen) throw ad::Error("jacobian_penalty: the Hutchinson estimate needs a generator");
  if (projections == 0) throw ad::Error("jacobian_penalty: the Hutchinson estimate needs at least one projection");
  for (std::size_t r = 0; r < projections; ++r) {
    const ad::TensorT<T> v = ad::randn<T>(h.shape(), *gen);
    const ad::TensorT<T> vjp = ad::grad(h, {input}, v, true, true)[0];  // vᵀ J per sample
    total = ad::add(total, ad::sum(ad::square(vjp)));
  }
  return ad::mul(total, T(1) / static_cast<T>(n * projections));
}

ContractiveAutoencoder::ContractiveAutoencoder(AutoencoderOptions architecture, ContractiveOptions contractive,
                                               ad::Generator& gen)
    : Autoencoder(std::move(architecture), gen), contractive_(std::move(contractive)) {
  if (contractive_.mode() == JacobianMode::ClosedForm &&
      (options_.sizes().size() != 2 || options_.code() != Activation::Sigmoid))
    throw ad::Error("ContractiveAutoencoder: the closed form needs a one-layer sigmoid encoder; use the exact or hutchinson mode");
}

Tensor ContractiveAutoencoder::jacobian_norm_sq(const Tensor& x, JacobianMode mode) {
  if (mode == JacobianMode::ClosedForm) {
    if (options_.sizes().size() != 2 || options_.code() != Activation::Sigmoid)
      throw ad::Error("ContractiveAutoencoder: the closed form needs a one-layer sigmoid encoder");
    return contractive_penalty_closed_form(x, encoder_linear[0]->weight, encoder_linear[0]->bias);
  }
  return jacobian_penalty<float>([this](const Tensor& in) { return encode(in); }, x, mode, contractive_.projections(), &noise_);
}

void ContractiveAutoencoder::add_penalties(Loss& loss, const Tensor& input, const Tensor& h) {
  // the closed form takes the code the forward pass computed (h = σ(W x + b)) rather than running the layer again
  const Tensor penalty = contractive_.mode() == JacobianMode::ClosedForm
                             ? contractive_penalty_from_code(h, encoder_linear[0]->weight)
                             : jacobian_norm_sq(input, contractive_.mode());
  loss.add("contractive", ad::mul(penalty, static_cast<float>(contractive_.lambda())));
}

#define AE_CONTRACTIVE(T)                                                                                             \
  template ad::TensorT<T> contractive_penalty_closed_form(const ad::TensorT<T>&, const ad::TensorT<T>&,               \
                                                          const ad::TensorT<T>&);                                     \
  template ad::TensorT<T> contractive_penalty_from_code(const ad::TensorT<T>&, const ad::TensorT<T>&);                \
  template ad::TensorT<T> jacobian_penalty(const std::function<ad::TensorT<T>(const ad::TensorT<T>&)>&,               \
                                           const ad::TensorT<T>&, JacobianMode, std::size_t, ad::Generator*);
AE_CONTRACTIVE(float)
AE_CONTRACTIVE(double)

}  // namespace ae
