// Contractive autoencoder: L(x, x') + λ Σ_i ‖J_x h_i‖², i.e. λ ‖J_f(x)‖²_F
//   — slides 004 "AUTOENCODERS CONTRACTIVOS" ("forzar derivadas de las activaciones h a que sean pequeñas con
//   respecto a las entradas"; "contractive → extracción de características (encoder) robusta")
// Three ways to compute ‖J_f(x)‖²_F, averaged over the batch:
//   ClosedForm  one-layer sigmoid encoder h = σ(W x + b):  Σ_i (h_i(1 − h_i))² Σ_j W_ij²   (Rifai et al. 2011)
//   Exact       any encoder: one vector-Jacobian product per code unit, e_iᵀ J, by double backward
//   Hutchinson  any encoder: E_v ‖vᵀ J‖² = ‖J‖²_F with v ~ N(0, I), averaged over R projections
#pragma once

#include <functional>
#include <memory>

#include "autoencoders/autoencoder.hpp"

namespace ae {

enum class JacobianMode { ClosedForm, Exact, Hutchinson };
JacobianMode parse_jacobian_mode(const std::string& name);  // "closed_form", "exact", "hutchinson"

// (1/N) Σ_n Σ_i (h_ni(1 − h_ni))² Σ_j W_ij² for h = σ(x Wᵀ + b), W [M, N] (a Linear layer's weight).
template <class T>
ad::TensorT<T> contractive_penalty_closed_form(const ad::TensorT<T>& x, const ad::TensorT<T>& weight,
                                               const ad::TensorT<T>& bias);

// (1/N) Σ_n ‖∂f(x_n)/∂x_n‖²_F for any encoder f acting row by row, through double backward, so the result is
// differentiable in f's parameters (and in x). Hutchinson uses `projections` draws from `gen`.
template <class T>
ad::TensorT<T> jacobian_penalty(const std::function<ad::TensorT<T>(const ad::TensorT<T>&)>& encoder,
                                const ad::TensorT<T>& x, JacobianMode mode, std::size_t projections = 1,
                                ad::Generator* gen = nullptr);

struct ContractiveConfig {
  AutoencoderConfig architecture{{784, 256}};  // ClosedForm needs {input, code} with a sigmoid code
  double lambda = 0.1;
  JacobianMode mode = JacobianMode::ClosedForm;
  std::size_t projections = 4;  // for Hutchinson
};

class ContractiveAutoencoder : public Autoencoder {
 public:
  ContractiveAutoencoder(ContractiveConfig config, std::shared_ptr<ad::Generator> gen);
  Loss loss(const Tensor& x) override;  // L(x, x') + λ ‖J_f(x)‖²_F
  std::string type_name() const override { return "ContractiveAutoencoder"; }
  Tensor jacobian_norm_sq(const Tensor& x, JacobianMode mode);  // (1/N) Σ_n ‖J_f(x_n)‖²_F, any mode
  const ContractiveConfig& contractive_config() const { return contractive_; }

 private:
  ContractiveConfig contractive_;
  std::shared_ptr<ad::Generator> gen_;
};

}  // namespace ae
