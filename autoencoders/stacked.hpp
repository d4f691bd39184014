// Stacked (deep) autoencoder trained greedily, one layer at a time, then fine-tuned end to end:
//   "ENTRENAMIENTO: De a una capa por vez → salida de un AE = entrada del siguiente.
//    Luego: backfitting → ajuste supervisado de toda la red"   — slides 004 "AUTOENCODERS PROFUNDOS"
//   "Si podemos concatenarlos o apilarlos (stack) → estructura jerárquica"  — slides 004; 003 "Unsupervised pretraining"
// The slide's steps are named methods:
//   pretrain      greedy: layer i is a shallow autoencoder h_i = f(W_i h_{i−1}), h'_{i−1} = g(W'_i h_i) trained
//                 on the codes of the frozen layers below it (optionally denoising them)
//   fine_tune     the layers unrolled into one deep autoencoder x → h_1 → … → h_L → … → x', trained end to end
//   backfit       supervised: the encoder with a softmax head (classifier()) trained on labels, encoder included
// Departures from the slide: "backfitting" is read as supervised fine-tuning of the whole encoder (the slide's
// gloss); fine_tune, the unsupervised end-to-end step of Hinton & Salakhutdinov (2006), is offered besides it.
#pragma once

#include "autoencoders/corruption.hpp"
#include "autoencoders/trainer.hpp"

namespace ae {

struct StackedOptions {
  AE_ARG(std::vector<std::size_t>, sizes) = {784, 1000, 500, 250, 30};
  AE_ARG(Activation, hidden) = Activation::Sigmoid;  // every hidden code
  AE_ARG(Activation, code) = Activation::Identity;   // the top code (Hinton & Salakhutdinov use a linear code)
  AE_ARG(Activation, output) = Activation::Sigmoid;  // the reconstruction of x
  AE_ARG(double, mask_noise) = 0.0;                  // > 0: greedy layers are denoising (masking noise ν)
};

// How each phase trains: epochs, Adam's learning rate, callbacks.
struct PhaseOptions {
  AE_ARG(std::size_t, epochs) = 1;
  AE_ARG(double, lr) = 1e-3;
  AE_ARG(Callbacks, callbacks) = {};
};

class StackedAutoencoder : public AutoencoderModel {
 public:
  StackedAutoencoder(StackedOptions options, ad::Generator& gen);
  std::size_t depth() const { return encoders_.size(); }
  Tensor encode(const Tensor& x) override;       // x → h_L
  Tensor decode(const Tensor& h) override;       // h_L → x'
  Tensor encode_to(const Tensor& x, std::size_t layers);  // x → h_layers
  Loss loss(const Tensor& x) override;           // the unrolled deep autoencoder's L(x, x')
  std::string type_name() const override { return "StackedAutoencoder"; }
  std::string describe() const override;
  const StackedOptions& options() const { return options_; }

  // The encoder with a linear softmax head, sharing the encoder's parameters (supervised backfitting).
  class Classifier : public nn::Module {
   public:
    Classifier(StackedAutoencoder& stack, std::size_t classes, ad::Generator& gen);
    Tensor forward(const Tensor& x) override;  // logits
    Loss loss(const nn::Batch& batch);          // "cross_entropy" of the logits against batch.labels
    std::string type_name() const override { return "StackedClassifier"; }
    std::shared_ptr<nn::Linear> head;

   private:
    StackedAutoencoder& stack_;
  };
  std::shared_ptr<Classifier> classifier(std::size_t classes, ad::Generator& gen);

  // 1. Greedy: every layer in turn (the stats of each layer's epochs), or one layer i. Only that layer's
  //    parameters change (layer_parameters(i)); the layers below feed it without a graph.
  std::vector<std::vector<EpochStats>> pretrain(nn::DataLoader& loader, const PhaseOptions& phase);
  std::vector<EpochStats> pretrain_layer(std::size_t i, nn::DataLoader& loader, const PhaseOptions& phase);
  Loss layer_loss(std::size_t i, const Tensor& x);  // layer i's shallow autoencoder on the frozen codes
  nn::Named<float> layer_parameters(std::size_t i) const;
  // 2. Unsupervised fine-tuning of the unrolled deep autoencoder (all parameters).
  std::vector<EpochStats> fine_tune(nn::DataLoader& loader, const PhaseOptions& phase);
  // 3. Backfitting: supervised fine-tuning of the encoder and the head on the loader's labels.
  std::vector<EpochStats> backfit(Classifier& classifier, nn::DataLoader& loader, const PhaseOptions& phase);

  const std::vector<std::shared_ptr<nn::Linear>>& encoders() const { return encoders_; }
  const std::vector<std::shared_ptr<nn::Linear>>& decoders() const { return decoders_; }

 private:
  Tensor apply_encoder(std::size_t i, const Tensor& h);
  Tensor apply_decoder(std::size_t i, const Tensor& h);
  StackedOptions options_;
  ad::Generator noise_;  // the greedy layers' masking noise
  std::vector<std::shared_ptr<nn::Linear>> encoders_, decoders_;  // decoders_[i] maps h_{i+1} back to h_i
  std::vector<std::shared_ptr<nn::Module>> encoder_act_, decoder_act_;
};

}  // namespace ae
