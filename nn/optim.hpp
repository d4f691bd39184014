// Optimizers with PyTorch's update rules, updating parameters in place on their contiguous buffers.
#pragma once

#include <string>
#include <vector>

#include "nn/module.hpp"

namespace nn {

template <class T>
class OptimizerT {
 public:
  explicit OptimizerT(Named<T> params, double lr);
  virtual ~OptimizerT() = default;
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // State (momenta, step count) by name, for checkpoints: "<param>.<slot>".
  virtual Named<T> state() const = 0;
  virtual void load_state(const Named<T>& state) = 0;

 protected:
  Named<T> params_;
  double lr_;
};

// SGD: d = g + wd·p;  v = μ v + d;  p −= lr·v  (μ = 0: plain gradient descent)
template <class T>
class SGDT : public OptimizerT<T> {
 public:
  SGDT(Named<T> params, double lr, double momentum = 0.0, double weight_decay = 0.0);
  void step() override;
  Named<T> state() const override;
  void load_state(const Named<T>& state) override;

 private:
  double momentum_, weight_decay_;
  std::vector<TensorT<T>> velocity_;
};

// Adam (Kingma & Ba): g += wd·p;  m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²;
// p −= lr · m̂ / (√v̂ + ε) with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t). One fused pass per parameter.
template <class T>
class AdamT : public OptimizerT<T> {
 public:
  AdamT(Named<T> params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0.0);
  void step() override;
  Named<T> state() const override;
  void load_state(const Named<T>& state) override;
  long steps() const { return t_; }

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  long t_ = 0;
  std::vector<TensorT<T>> m_, v_;
};

// lr = base · γ^⌊epoch / step_size⌋; call step() once per epoch.
template <class T>
class StepLRT {
 public:
  StepLRT(OptimizerT<T>& opt, std::size_t step_size, double gamma);
  void step();
  std::size_t epoch() const { return epoch_; }

 private:
  OptimizerT<T>& opt_;
  std::size_t step_size_;
  double gamma_, base_;
  std::size_t epoch_ = 0;
};

// Per batch: lr rises linearly over `warmup` steps, stays at its base value until half of `total`, then decays
// exponentially to base·final_fraction at `total`. Call step() once per batch.
template <class T>
class WarmupDecayLRT {
 public:
  WarmupDecayLRT(OptimizerT<T>& opt, std::size_t warmup, std::size_t total, double final_fraction = 0.01);
  void step();
  double factor(std::size_t step) const;

 private:
  OptimizerT<T>& opt_;
  std::size_t warmup_, total_;
  double final_, base_;
  std::size_t step_ = 0;
};

using Optimizer = OptimizerT<float>;
using SGD = SGDT<float>;
using Adam = AdamT<float>;
using StepLR = StepLRT<float>;
using WarmupDecayLR = WarmupDecayLRT<float>;

}  // namespace nn
