// k-sparse autoencoder (Makhzani & Frey 2013): keep only the k largest hidden activations of each sample
// ("conservando las k mayores activaciones en módulo" — slides 004 "SPARSE AUTOENCODERS").
//   z = W x + b,  h = topk(z, k),  x' = Wᵀ h + b'   (tied weights),  L = ‖x − x'‖²
// In training k units are kept; when encoding features, α·k (the paper's α > 1). An optional schedule
// starts with more units (k_start) and lowers k linearly to k, which avoids dead units early on.
// Departures from the slide: the slide gives the rule only; the tied weights, the linear decoder, α·k when
// encoding and the schedule of k are the paper's choices. The error is the mean over pixels (see autoencoder.hpp).
#pragma once

#include "autoencoders/model.hpp"

namespace ae {

struct KSparseOptions {
  AE_ARG(std::size_t, input) = 784;
  AE_ARG(std::size_t, hidden) = 1000;
  AE_ARG(std::size_t, k) = 25;
  AE_ARG(double, alpha) = 3.0;              // encoding keeps min(hidden, round(α k))
  AE_ARG(std::size_t, k_start) = 0;         // 0: no schedule; else k falls linearly from k_start to k
  AE_ARG(std::size_t, schedule_epochs) = 0;
  AE_ARG(bool, tied) = true;
  AE_ARG(Activation, output) = Activation::Identity;  // the paper's linear decoder
};

class KSparseAutoencoder : public AutoencoderModel {
 public:
  KSparseAutoencoder(KSparseOptions options, ad::Generator& gen);
  Tensor encode(const Tensor& x) override;  // top-k in training, top-αk in eval
  Tensor decode(const Tensor& h) override;
  Tensor reconstruct(const Tensor& x) override;  // always from the k largest units (α·k is for features)
  Loss loss(const Tensor& x) override;
  std::string type_name() const override { return "KSparseAutoencoder"; }
  std::string describe() const override;

  std::size_t active_units() const;      // k now (training) or α·k (eval)
  void set_epoch(std::size_t epoch);     // applies the k schedule (1-based epoch about to run)
  std::size_t k() const { return k_; }
  Tensor decoder_filters() const;        // [input, hidden]
  const KSparseOptions& options() const { return options_; }

  std::shared_ptr<nn::Linear> encoder_linear, decoder_linear;
  std::shared_ptr<nn::Module> output_activation;

 private:
  KSparseOptions options_;
  std::size_t k_;
};

}  // namespace ae
