// AutoRec: an autoencoder over a ratings matrix with missing entries, trained on the observed entries only
//   — slides 003 "Sistemas de Recomendação" (the ratings matrix in, the completed matrix out; the deck's
//   reference [3], Ferreira et al. 2020, "Recommendation System Using Autoencoders"), after
//   Sedhain, Menon, Sanner & Xie (2015), "AutoRec: Autoencoders Meet Collaborative Filtering":
//     min_θ  Σ_i ‖(r_i − h(r_i; θ)) ⊙ m_i‖²  +  (λ/2) (‖W‖²_F + ‖V‖²_F)
//     h(r; θ) = f(W · g(V r + μ) + b),   g = sigmoid, f = identity,   θ = {W, V, μ, b}
// Item-based (I-AutoRec): r_i ∈ R^users is item i's column of the ratings matrix, 0 where not rated, and m_i marks
// the observed entries (m_ui = 1 when user u rated item i): only they are errors, so a missing rating is not read
// as a zero rating. The prediction for user u and item i is h(r_i)_u.
// Departures from the paper:
//   - the error term is averaged over the batch's items, not summed over all items (mini-batches and Adam, not
//     L-BFGS): the same minimiser with λ here = λ_paper / number of items.
//   - loss(x) takes the mask from the input (x ≠ 0, ratings are positive); loss(input, target, mask) takes it given.
#pragma once

#include <memory>

#include "autoencoders/model.hpp"

namespace ae {

struct AutoRecOptions {
  AE_ARG(std::size_t, input) = 943;    // users (one item's ratings by every user)
  AE_ARG(std::size_t, hidden) = 500;   // k, the code size (the paper's 500)
  AE_ARG(double, lambda) = 1e-3;       // the L2 weight on W and V (per item: λ_paper / items)
  AE_ARG(Activation, code) = Activation::Sigmoid;     // g
  AE_ARG(Activation, output) = Activation::Identity;  // f
};

// h(r) = f(W · g(V r + μ) + b) for rows r of `input` [N, users]; V [k, users], μ [k], W [users, k], b [users].
template <class T>
ad::TensorT<T> autorec_reconstruct(const ad::TensorT<T>& input, const ad::TensorT<T>& V, const ad::TensorT<T>& mu,
                                   const ad::TensorT<T>& W, const ad::TensorT<T>& b, Activation g = Activation::Sigmoid,
                                   Activation f = Activation::Identity);
// (1/N) Σ_i ‖(r_i − h_i) ⊙ m_i‖²: the squared error on the observed entries, per item (row) of the batch.
// The mask is a constant of 0s and 1s: an entry with m = 0 adds nothing, and no gradient, whatever its target.
template <class T>
ad::TensorT<T> masked_squared_error(const ad::TensorT<T>& prediction, const ad::TensorT<T>& target, const ad::TensorT<T>& mask);
// The observed entries of a ratings batch: 1 where x ≠ 0.
template <class T>
ad::TensorT<T> observed(const ad::TensorT<T>& x);

class AutoRec : public AutoencoderModel {
 public:
  AutoRec(AutoRecOptions options, ad::Generator& gen);
  Tensor encode(const Tensor& r) override;  // g(V r + μ)
  Tensor decode(const Tensor& h) override;  // f(W h + b)
  // terms: "reconstruction" (1/N) Σ_i ‖(r_i − h(r_i)) ⊙ m_i‖², "l2" ‖W‖² + ‖V‖² (weighted λ/2 in the total)
  Loss loss(const Tensor& r) override;      // target r, mask r ≠ 0
  Loss loss(const Tensor& input, const Tensor& target, const Tensor& mask);
  std::string type_name() const override { return "AutoRec"; }
  std::string describe() const override;
  const AutoRecOptions& options() const { return options_; }

  std::shared_ptr<nn::Linear> encoder;  // V, μ
  std::shared_ptr<nn::Linear> decoder;  // W, b

 private:
  AutoRecOptions options_;
};

}  // namespace ae
