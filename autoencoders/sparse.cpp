#include "autoencoders/sparse.hpp"

#include "nn/losses.hpp"

namespace ae {

SparseAutoencoder::SparseAutoencoder(AutoencoderOptions architecture, SparsityOptions sparsity, ad::Generator& gen)
    : Autoencoder(std::move(architecture), gen), sparsity_(std::move(sparsity)) {
  if (sparsity_.penalty() == SparsityPenalty::KL && options_.code() != Activation::Sigmoid)
    throw ad::Error("SparseAutoencoder: the KL penalty needs sigmoid code units (activations in (0, 1))");
}

Tensor SparseAutoencoder::penalty(const Tensor& h) const {
  if (sparsity_.penalty() == SparsityPenalty::L1) return ad::mul(nn::l1_activity(h), static_cast<float>(sparsity_.lambda()));
  return ad::mul(nn::kl_sparsity(h, sparsity_.rho()), static_cast<float>(sparsity_.beta()));
}

void SparseAutoencoder::add_penalties(Loss& loss, const Tensor&, const Tensor& h) { loss.add("sparsity", penalty(h)); }

}  // namespace ae
