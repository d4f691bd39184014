#include "nn/layers.hpp"

#include <cmath>
#include <sstream>

#include "nn/init.hpp"

namespace nn {

namespace {
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
}
// PyTorch's default for Linear and the convolutions: weight and bias both U(±1/√fan_in).
template <class T>
void default_init(TensorT<T>& weight, TensorT<T>& bias, std::size_t fan_in, ad::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  init::uniform_(weight, -bound, bound, gen);
  if (bias.defined()) init::uniform_(bias, -bound, bound, gen);
}
}  // namespace

// ---- Linear -------------------------------------------------------------------------------------------

template <class T>
LinearT<T>::LinearT(std::size_t in_features, std::size_t out_features, ad::Generator& gen, bool with_bias)
    : in_(in_features), out_(out_features) {
  if (in_features == 0 || out_features == 0) throw ad::Error(cat("Linear: sizes must be positive, got ", in_features, " -> ", out_features));
  // PyTorch's default: kaiming_uniform(a = √5) on W, i.e. U(±1/√in), and U(±1/√in) on b.
  weight = this->register_parameter("weight", TensorT<T>::zeros({out_features, in_features}));
  if (with_bias) bias = this->register_parameter("bias", TensorT<T>::zeros({out_features}));
  default_init(weight, bias, in_features, gen);
}

template <class T>
std::shared_ptr<LinearT<T>> LinearT<T>::tied_to(const LinearT& encoder, bool with_bias) {
  std::shared_ptr<LinearT> d(new LinearT());
  d->in_ = encoder.out_;
  d->out_ = encoder.in_;
  d->tied_ = true;
  d->weight = encoder.weight;  // shared, not registered: the encoder owns it
  if (with_bias) d->bias = d->register_parameter("bias", TensorT<T>::zeros({d->out_}));
  return d;
}

template <class T>
TensorT<T> LinearT<T>::forward(const TensorT<T>& x) {
  if (x.dim() != 2 || x.size(1) != in_)
    throw ad::Error(cat(type_name(), "(", describe(), "): input ", ad::shape_str(x.shape()), " should be [batch, ", in_, "]"));
  // untied: y = x Wᵀ + b with W [out, in] (one fused op); tied: x W_enc with W_enc [in_enc, out_enc] = [out, in]ᵀ
  if (!tied_ && bias.defined()) return ad::linear(x, weight, bias);
  TensorT<T> y = tied_ ? ad::matmul(x, weight) : ad::matmul(x, weight, false, true);
  return bias.defined() ? ad::add(y, bias) : y;
}

template <class T>
std::string LinearT<T>::describe() const {
  return cat(in_, " -> ", out_, bias.defined() ? "" : ", no bias");
}

// ---- Conv2d / ConvTranspose2d ------------------------------------------------------------------------------

template <class T>
Conv2dT<T>::Conv2dT(std::size_t in_channels, std::size_t out_channels, std::size_t k, ad::Generator& gen,
                    ConvOptions layer)
    : options(ad::Conv2dOptions().stride(layer.stride()).padding(layer.padding())) {
  if (in_channels == 0 || out_channels == 0 || k == 0 || layer.stride() == 0)
    throw ad::Error(cat("Conv2d: channels, kernel size and stride must be positive (", in_channels, ", ", out_channels,
                        ", ", k, ", ", layer.stride(), ")"));
  if (layer.output_padding() != 0) throw ad::Error("Conv2d: output_padding is for ConvTranspose2d");
  weight = this->register_parameter("weight", TensorT<T>::zeros({out_channels, in_channels, k, k}));
  if (layer.bias()) bias = this->register_parameter("bias", TensorT<T>::zeros({out_channels}));
  default_init(weight, bias, in_channels * k * k, gen);
}

template <class T>
TensorT<T> Conv2dT<T>::forward(const TensorT<T>& x) {
  return bias.defined() ? ad::conv2d(x, weight, bias, options) : ad::conv2d(x, weight, options);
}

template <class T>
std::string Conv2dT<T>::describe() const {
  const auto s = weight.shape();
  return cat(s[1], " -> ", s[0], ", k=", s[2], ", s=", options.stride(), ", p=", options.padding());
}

template <class T>
ConvTranspose2dT<T>::ConvTranspose2dT(std::size_t in_channels, std::size_t out_channels, std::size_t k,
                                      ad::Generator& gen, ConvOptions layer)
    : options(ad::Conv2dOptions().stride(layer.stride()).padding(layer.padding())), output_padding(layer.output_padding()) {
  if (in_channels == 0 || out_channels == 0 || k == 0 || layer.stride() == 0)
    throw ad::Error(cat("ConvTranspose2d: channels, kernel size and stride must be positive (", in_channels, ", ",
                        out_channels, ", ", k, ", ", layer.stride(), ")"));
  if (output_padding >= layer.stride())
    throw ad::Error(cat("ConvTranspose2d: output_padding ", output_padding, " must be smaller than the stride ", layer.stride()));
  weight = this->register_parameter("weight", TensorT<T>::zeros({in_channels, out_channels, k, k}));
  if (layer.bias()) bias = this->register_parameter("bias", TensorT<T>::zeros({out_channels}));
  // PyTorch computes fan_in from weight.size(1)·k·k = out_channels·k·k for the transposed layer.
  default_init(weight, bias, out_channels * k * k, gen);
}

template <class T>
TensorT<T> ConvTranspose2dT<T>::forward(const TensorT<T>& x) {
  return bias.defined() ? ad::conv_transpose2d(x, weight, bias, options, output_padding)
                        : ad::conv_transpose2d(x, weight, options, output_padding);
}

template <class T>
std::string ConvTranspose2dT<T>::describe() const {
  const auto s = weight.shape();
  return cat(s[0], " -> ", s[1], ", k=", s[2], ", s=", options.stride(), ", p=", options.padding(),
             output_padding ? cat(", op=", output_padding) : std::string());
}

// ---- BatchNorm --------------------------------------------------------------------------------------------

template <class T>
BatchNormT<T>::BatchNormT(std::size_t num_features, std::size_t spatial_dims, double eps, double momentum)
    : features_(num_features), spatial_dims_(spatial_dims), eps_(eps), momentum_(momentum) {
  if (num_features == 0) throw ad::Error("BatchNorm: num_features must be positive");
  weight = this->register_parameter("weight", TensorT<T>::ones({num_features}));
  bias = this->register_parameter("bias", TensorT<T>::zeros({num_features}));
  running_mean = this->register_buffer("running_mean", TensorT<T>::zeros({num_features}));
  running_var = this->register_buffer("running_var", TensorT<T>::ones({num_features}));
  num_batches_tracked = this->register_buffer("num_batches_tracked", TensorT<T>::scalar(T(0)));
}

template <class T>
TensorT<T> BatchNormT<T>::forward(const TensorT<T>& x) {
  const std::size_t rank = 2 + spatial_dims_;
  if (x.dim() != rank || x.size(1) != features_)
    throw ad::Error(cat(type_name(), "(", features_, "): input ", ad::shape_str(x.shape()), " should be [N, ", features_,
                        spatial_dims_ ? ", H, W]" : "]"));
  std::vector<std::size_t> axes{0};
  Shape per_channel{1, features_};
  for (std::size_t i = 0; i < spatial_dims_; ++i) {
    axes.push_back(2 + i);
    per_channel.push_back(1);
  }
  const std::size_t n = x.numel() / features_;  // values per channel
  TensorT<T> x_hat;
  if (this->is_training()) {
    if (n < 2) throw ad::Error(cat(type_name(), ": training needs more than one value per channel, got input ", ad::shape_str(x.shape())));
    // ad::batch_norm is ad::batch_norm_reference (mean, centre, variance, normalise, scale, shift) fused into
    // three passes; it also hands back the batch statistics for the running averages.
    std::vector<T> mu, var;
    const TensorT<T> y = ad::batch_norm(x, weight, bias, eps_, &mu, &var);
    const T m = static_cast<T>(momentum_), unbias = static_cast<T>(n) / static_cast<T>(n - 1);
    for (std::size_t c = 0; c < features_; ++c) {
      running_mean.data()[c] = (1 - m) * running_mean.data()[c] + m * mu[c];
      running_var.data()[c] = (1 - m) * running_var.data()[c] + m * var[c] * unbias;
    }
    num_batches_tracked.data()[0] += T(1);
    return y;
  } else {
    const TensorT<T> mu = ad::reshape(running_mean.detach(), per_channel);
    const TensorT<T> sd = ad::sqrt(ad::add(ad::reshape(running_var.detach(), per_channel), static_cast<T>(eps_)));
    x_hat = ad::div(ad::sub(x, mu), sd);
  }
  return ad::add(ad::mul(x_hat, ad::reshape(weight, per_channel)), ad::reshape(bias, per_channel));
}

// ---- activations and shapes ---------------------------------------------------------------------------------

template <class T> TensorT<T> ReLUT<T>::forward(const TensorT<T>& x) { return ad::relu(x); }
template <class T> TensorT<T> SigmoidT<T>::forward(const TensorT<T>& x) { return ad::sigmoid(x); }
template <class T> TensorT<T> TanhT<T>::forward(const TensorT<T>& x) { return ad::tanh(x); }
template <class T> TensorT<T> SoftplusT<T>::forward(const TensorT<T>& x) { return ad::softplus(x); }
template <class T> TensorT<T> IdentityT<T>::forward(const TensorT<T>& x) { return x; }

template <class T>
std::string LeakyReLUT<T>::describe() const {
  return cat(slope);
}

template <class T>
TensorT<T> UnflattenT<T>::forward(const TensorT<T>& x) {
  if (x.dim() != 2 || x.size(1) != ad::shape_numel(shape_))
    throw ad::Error(cat("Unflatten", ad::shape_str(shape_), ": input ", ad::shape_str(x.shape()), " should be [batch, ",
                        ad::shape_numel(shape_), "]"));
  Shape out{x.size(0)};
  out.insert(out.end(), shape_.begin(), shape_.end());
  return ad::reshape(x, out);
}

template <class T>
DropoutT<T>::DropoutT(double p, std::shared_ptr<ad::Generator> gen) : p_(p), gen_(std::move(gen)) {
  if (!(p >= 0.0 && p <= 1.0)) throw ad::Error(cat("Dropout: probability ", p, " is outside [0, 1]"));
  if (!gen_) throw ad::Error("Dropout: needs a generator (one seed drives all randomness)");
}

template <class T>
TensorT<T> DropoutT<T>::forward(const TensorT<T>& x) {
  if (!this->is_training() || p_ == 0.0) return x;
  if (p_ == 1.0) return ad::masked_mul(x, TensorT<T>::zeros(x.shape()));
  // keep with probability 1 − p, scaled so the expected activation is unchanged
  TensorT<T> keep = ad::bernoulli<T>(x.shape(), static_cast<T>(1.0 - p_), *gen_);
  keep.value() *= static_cast<T>(1.0 / (1.0 - p_));
  return ad::masked_mul(x, keep);
}

template <class T>
std::string DropoutT<T>::describe() const {
  return cat("p=", p_);
}

#define NN_LAYERS(T)                  \
  template class LinearT<T>;          \
  template class Conv2dT<T>;          \
  template class ConvTranspose2dT<T>; \
  template class BatchNormT<T>;       \
  template class ReLUT<T>;            \
  template class SigmoidT<T>;         \
  template class TanhT<T>;            \
  template class SoftplusT<T>;        \
  template class IdentityT<T>;        \
  template class LeakyReLUT<T>;       \
  template class UnflattenT<T>;       \
  template class DropoutT<T>;
NN_LAYERS(float)
NN_LAYERS(double)

}  // namespace nn
