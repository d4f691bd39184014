// Stacked (deep) autoencoder trained greedily, one layer at a time, then fine-tuned end to end:
//   "ENTRENAMIENTO: De a una capa por vez → salida de un AE = entrada del siguiente.
//    Luego: backfitting → ajuste supervisado de toda la red"   — slides 004 "AUTOENCODERS PROFUNDOS"
//   "Si podemos concatenarlos o apilarlos (stack) → estructura jerárquica"  — slides 004; 003 "Unsupervised pretraining"
// Layer i is a shallow autoencoder h_i = f(W_i h_{i−1}), h'_{i−1} = g(W'_i h_i) trained on the codes of the
// frozen layers below it (optionally denoising them); then the layers are unrolled into one deep autoencoder
// x → h_1 → … → h_L → … → x' and fine-tuned; the encoder can also carry a softmax head for labels.
#pragma once

#include "autoencoders/denoising.hpp"
#include "autoencoders/trainer.hpp"

namespace ae {

struct StackedConfig {
  std::vector<std::size_t> sizes{784, 1000, 500, 250, 30};
  Activation hidden = Activation::Sigmoid;  // every hidden code
  Activation code = Activation::Identity;   // the top code (Hinton & Salakhutdinov use a linear code)
  Activation output = Activation::Sigmoid;  // the reconstruction of x
  double mask_noise = 0.0;                  // > 0: greedy layers are denoising (masking noise ν)
};

class StackedAutoencoder : public AutoencoderModel {
 public:
  StackedAutoencoder(StackedConfig config, std::shared_ptr<ad::Generator> gen);
  std::size_t depth() const { return encoders_.size(); }
  Tensor encode(const Tensor& x) override;       // x → h_L
  Tensor decode(const Tensor& h) override;       // h_L → x'
  Tensor encode_to(const Tensor& x, std::size_t layers);  // x → h_layers
  Loss loss(const Tensor& x) override;           // the unrolled deep autoencoder's L(x, x')
  std::string type_name() const override { return "StackedAutoencoder"; }
  std::string describe() const override;

  // Greedy phase: layer i's shallow autoencoder on the codes of layers 0..i−1 (computed without a graph:
  // they stay frozen). Its parameters are encoders_[i] and decoders_[i] only.
  Loss layer_loss(std::size_t i, const Tensor& x);
  nn::Named<float> layer_parameters(std::size_t i) const;
  std::vector<EpochStats> pretrain_layer(std::size_t i, nn::DataLoader& loader, std::size_t epochs, double lr,
                                         const Callbacks& callbacks = {});

  // The encoder with a linear softmax head, sharing the encoder's parameters (supervised fine-tuning).
  class Classifier : public nn::Module {
   public:
    Classifier(StackedAutoencoder& stack, std::size_t classes, ad::Generator& gen);
    Tensor forward(const Tensor& x) override;  // logits
    std::string type_name() const override { return "StackedClassifier"; }
    std::shared_ptr<nn::Linear> head;

   private:
    StackedAutoencoder& stack_;
  };
  std::shared_ptr<Classifier> classifier(std::size_t classes, ad::Generator& gen);

  const std::vector<std::shared_ptr<nn::Linear>>& encoders() const { return encoders_; }
  const std::vector<std::shared_ptr<nn::Linear>>& decoders() const { return decoders_; }

 private:
  Tensor apply_encoder(std::size_t i, const Tensor& h);
  Tensor apply_decoder(std::size_t i, const Tensor& h);
  StackedConfig config_;
  std::shared_ptr<ad::Generator> gen_;
  std::vector<std::shared_ptr<nn::Linear>> encoders_, decoders_;  // decoders_[i] maps h_{i+1} back to h_i
  std::vector<std::shared_ptr<nn::Module>> encoder_act_, decoder_act_;
};

}  // namespace ae
