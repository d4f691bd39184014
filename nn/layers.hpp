// Layers, with PyTorch's names, weight layouts and default initialisation, so a checkpoint reads like
// a PyTorch state_dict. Each layer's forward is a few autodiff ops: the gradients come from autodiff/.
#pragma once

#include <memory>

#include "nn/module.hpp"

namespace nn {

// y = x Wᵀ + b, W [out, in] (PyTorch's layout). Default init: U(±1/√in) for W and b.
template <class T>
class LinearT : public ModuleT<T> {
 public:
  LinearT(std::size_t in_features, std::size_t out_features, ad::Generator& gen, bool bias = true);
  // The tied decoder of `encoder` (in → out becomes out → in): y = x W_enc + b, sharing W_enc, with its own bias.
  static std::shared_ptr<LinearT> tied_to(const LinearT& encoder, bool bias = true);
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return tied_ ? "Linear(tied)" : "Linear"; }
  std::string describe() const override;
  std::size_t in_features() const { return in_; }
  std::size_t out_features() const { return out_; }

  TensorT<T> weight;  // [out, in]; for a tied layer, the encoder's [in, out] weight
  TensorT<T> bias;    // [out], undefined without bias

 private:
  LinearT() = default;
  std::size_t in_ = 0, out_ = 0;
  bool tied_ = false;
};

// How a convolution layer strides and pads: ConvOptions().stride(2).padding(1).
struct ConvOptions {
  AE_ARG(std::size_t, stride) = 1;
  AE_ARG(std::size_t, padding) = 0;
  AE_ARG(std::size_t, output_padding) = 0;  // ConvTranspose2d only: added to one side of the output
  AE_ARG(bool, bias) = true;
};

// NCHW convolution; W [out, in, k, k]. Default init U(±1/√(in·k·k)).
template <class T>
class Conv2dT : public ModuleT<T> {
 public:
  Conv2dT(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_size, ad::Generator& gen,
          ConvOptions options = {});
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return "Conv2d"; }
  std::string describe() const override;
  TensorT<T> weight, bias;
  ad::Conv2dOptions options;
};

// The transpose (adjoint) of a convolution; W [in, out, k, k] as in PyTorch.
// Output size (H − 1)·stride − 2·padding + k + output_padding.
template <class T>
class ConvTranspose2dT : public ModuleT<T> {
 public:
  ConvTranspose2dT(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_size, ad::Generator& gen,
                   ConvOptions options = {});
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return "ConvTranspose2d"; }
  std::string describe() const override;
  TensorT<T> weight, bias;
  ad::Conv2dOptions options;
  std::size_t output_padding;
};

// Batch normalisation over the batch (and spatial) axes: y = γ (x − μ)/√(σ² + ε) + β.
// Training uses the batch statistics and updates running = (1 − momentum)·running + momentum·batch
// (unbiased variance for the running value), as PyTorch does; eval uses the running statistics.
// num_batches_tracked counts training batches, as PyTorch's buffer does (for state_dict compatibility; the
// momentum is fixed, so nothing reads it).
template <class T>
class BatchNormT : public ModuleT<T> {
 public:
  BatchNormT(std::size_t num_features, std::size_t spatial_dims, double eps = 1e-5, double momentum = 0.1);
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return spatial_dims_ == 0 ? "BatchNorm1d" : "BatchNorm2d"; }
  std::string describe() const override { return std::to_string(features_); }
  TensorT<T> weight, bias;                 // γ, β
  TensorT<T> running_mean, running_var;    // buffers
  TensorT<T> num_batches_tracked;          // buffer, shape []

 private:
  std::size_t features_, spatial_dims_;
  double eps_, momentum_;
};

template <class T>
class BatchNorm1dT : public BatchNormT<T> {  // input [N, F]
 public:
  explicit BatchNorm1dT(std::size_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNormT<T>(num_features, 0, eps, momentum) {}
};
template <class T>
class BatchNorm2dT : public BatchNormT<T> {  // input [N, C, H, W]
 public:
  explicit BatchNorm2dT(std::size_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNormT<T>(num_features, 2, eps, momentum) {}
};

// Activations and shape layers.
#define NN_ELEMENTWISE_LAYER(NAME)                                                 \
  template <class T>                                                               \
  class NAME##T : public ModuleT<T> {                                              \
   public:                                                                         \
    TensorT<T> forward(const TensorT<T>& x) override;                              \
    std::string type_name() const override { return #NAME; }                       \
  };
NN_ELEMENTWISE_LAYER(ReLU)
NN_ELEMENTWISE_LAYER(Sigmoid)
NN_ELEMENTWISE_LAYER(Tanh)
NN_ELEMENTWISE_LAYER(Softplus)
NN_ELEMENTWISE_LAYER(Identity)
#undef NN_ELEMENTWISE_LAYER

template <class T>
class LeakyReLUT : public ModuleT<T> {
 public:
  explicit LeakyReLUT(double negative_slope = 0.01) : slope(negative_slope) {}
  TensorT<T> forward(const TensorT<T>& x) override { return ad::leaky_relu(x, static_cast<T>(slope)); }
  std::string type_name() const override { return "LeakyReLU"; }
  std::string describe() const override;
  double slope;
};

// [N, d1, d2, ...] -> [N, d1·d2·...]
template <class T>
class FlattenT : public ModuleT<T> {
 public:
  TensorT<T> forward(const TensorT<T>& x) override { return ad::flatten(x, 1); }
  std::string type_name() const override { return "Flatten"; }
};

// [N, F] -> [N, shape...]
template <class T>
class UnflattenT : public ModuleT<T> {
 public:
  explicit UnflattenT(Shape shape) : shape_(std::move(shape)) {}
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return "Unflatten"; }
  std::string describe() const override { return ad::shape_str(shape_); }

 private:
  Shape shape_;
};

// Training: zero each unit with probability p and scale the rest by 1/(1 − p); eval: identity.
template <class T>
class DropoutT : public ModuleT<T> {
 public:
  DropoutT(double p, std::shared_ptr<ad::Generator> gen);
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string describe() const override;

 private:
  double p_;
  std::shared_ptr<ad::Generator> gen_;
};

using Linear = LinearT<float>;
using Conv2d = Conv2dT<float>;
using ConvTranspose2d = ConvTranspose2dT<float>;
using BatchNorm1d = BatchNorm1dT<float>;
using BatchNorm2d = BatchNorm2dT<float>;
using ReLU = ReLUT<float>;
using LeakyReLU = LeakyReLUT<float>;
using Sigmoid = SigmoidT<float>;
using Tanh = TanhT<float>;
using Softplus = SoftplusT<float>;
using Identity = IdentityT<float>;
using Flatten = FlattenT<float>;
using Unflatten = UnflattenT<float>;
using Dropout = DropoutT<float>;

}  // namespace nn
