// Contractive autoencoder: L(x, x') + λ Σ_i ‖J_x h_i‖², i.e. λ ‖J_f(x)‖²_F
//   — slides 004 "AUTOENCODERS CONTRACTIVOS" ("forzar derivadas de las activaciones h a que sean pequeñas con
//   respecto a las entradas"; "contractive → extracción de características (encoder) robusta")
// Three ways to compute ‖J_f(x)‖²_F, averaged over the batch:
//   ClosedForm  one-layer sigmoid encoder h = σ(W x + b):  Σ_i (h_i(1 − h_i))² Σ_j W_ij²   (Rifai et al. 2011)
//   Exact       any encoder: one vector-Jacobian product per code unit, e_iᵀ J, by double backward
//   Hutchinson  any encoder: E_v ‖vᵀ J‖² = ‖J‖²_F with v ~ N(0, I), averaged over R projections
// Departures from the slide:
//   - the slide writes λ Σ_i ‖J_x h_i‖ without a square; the code uses the squared Frobenius norm, as Rifai et al.
//     (2011) do: smooth at J = 0, a closed form for a sigmoid layer, and an exact value by double backward.
//   - the penalty is averaged over the batch, like the reconstruction term.
#pragma once

#include <functional>
#include <memory>

#include "autoencoders/autoencoder.hpp"

namespace ae {

enum class JacobianMode { ClosedForm, Exact, Hutchinson };
JacobianMode parse_jacobian_mode(const std::string& name);  // "closed_form", "exact", "hutchinson"

// (1/N) Σ_n Σ_i (h_ni(1 − h_ni))² Σ_j W_ij² for h = σ(x Wᵀ + b), W [M, D] (a Linear layer's weight).
template <class T>
ad::TensorT<T> contractive_penalty_closed_form(const ad::TensorT<T>& x, const ad::TensorT<T>& weight,
                                               const ad::TensorT<T>& bias);
// The same from the code h [N, M] the layer computed, and W: what training has at hand after the forward pass.
template <class T>
ad::TensorT<T> contractive_penalty_from_code(const ad::TensorT<T>& h, const ad::TensorT<T>& weight);

// (1/N) Σ_n ‖∂f(x_n)/∂x_n‖²_F for any encoder f acting row by row, through double backward, so the result is
// differentiable in f's parameters (and in x). Hutchinson uses `projections` draws from `gen`.
template <class T>
ad::TensorT<T> jacobian_penalty(const std::function<ad::TensorT<T>(const ad::TensorT<T>&)>& encoder,
                                const ad::TensorT<T>& x, JacobianMode mode, std::size_t projections = 1,
                                ad::Generator* gen = nullptr);

struct ContractiveOptions {
  AE_ARG(double, lambda) = 0.1;
  AE_ARG(JacobianMode, mode) = JacobianMode::ClosedForm;  // ClosedForm needs sizes {input, code} and a sigmoid code
  AE_ARG(std::size_t, projections) = 4;                   // for Hutchinson
};

class ContractiveAutoencoder : public Autoencoder {
 public:
  ContractiveAutoencoder(AutoencoderOptions architecture, ContractiveOptions contractive, ad::Generator& gen);
  std::string type_name() const override { return "ContractiveAutoencoder"; }
  Tensor jacobian_norm_sq(const Tensor& x, JacobianMode mode);  // (1/N) Σ_n ‖J_f(x_n)‖²_F, any mode
  const ContractiveOptions& contractive() const { return contractive_; }

 protected:
  void add_penalties(Loss& loss, const Tensor& input, const Tensor& h) override;  // + "contractive": λ ‖J_f(x)‖²_F

 private:
  ContractiveOptions contractive_;
};

}  // namespace ae
