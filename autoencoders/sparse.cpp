#include "autoencoders/sparse.hpp"

#include "nn/losses.hpp"

namespace ae {

SparseAutoencoder::SparseAutoencoder(SparseConfig config, ad::Generator& gen)
    : Autoencoder(config.architecture, gen), sparse_(std::move(config)) {
  if (sparse_.penalty == SparsityPenalty::KL && sparse_.architecture.code != Activation::Sigmoid)
    throw ad::Error("SparseAutoencoder: the KL penalty needs sigmoid code units (activations in (0, 1))");
}

Tensor SparseAutoencoder::penalty(const Tensor& h) const {
  if (sparse_.penalty == SparsityPenalty::L1) return ad::mul(nn::l1_activity(h), static_cast<float>(sparse_.lambda));
  return ad::mul(nn::kl_sparsity(h, sparse_.rho), static_cast<float>(sparse_.beta));
}

Loss SparseAutoencoder::loss(const Tensor& x) {
  const Tensor h = encode(x);
  const Tensor reconstruction = decoder_loss(*decoder, h, x, config_.loss);
  const Tensor r = penalty(h);
  return {ad::add(reconstruction, r), {{"reconstruction", reconstruction.item()}, {"sparsity", r.item()}}};
}

}  // namespace ae
