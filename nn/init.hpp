// Weight initializers (all seeded through an explicit ad::Generator), as in torch.nn.init.
// Fans: Linear weight [out, in]: fan_in = in, fan_out = out; Conv weight [O, C, kh, kw]: fan_in = C·kh·kw,
// fan_out = O·kh·kw.
#pragma once

#include <utility>

#include "autodiff/ops.hpp"

namespace nn::init {

std::pair<std::size_t, std::size_t> fans(const ad::Shape& weight_shape);  // {fan_in, fan_out}

template <class T> void uniform_(ad::TensorT<T>& t, double lo, double hi, ad::Generator& gen);
template <class T> void normal_(ad::TensorT<T>& t, double mean, double stddev, ad::Generator& gen);
template <class T> void constant_(ad::TensorT<T>& t, double value);
// Glorot & Bengio: U(±gain·√(6/(fan_in+fan_out))) and N(0, gain²·2/(fan_in+fan_out))
template <class T> void xavier_uniform_(ad::TensorT<T>& t, ad::Generator& gen, double gain = 1.0);
template <class T> void xavier_normal_(ad::TensorT<T>& t, ad::Generator& gen, double gain = 1.0);
// He et al.: gain = √(2/(1+a²)) for a leaky ReLU of slope a; U(±gain·√(3/fan_in)) and N(0, gain²/fan_in)
template <class T> void kaiming_uniform_(ad::TensorT<T>& t, ad::Generator& gen, double a = 0.0);
template <class T> void kaiming_normal_(ad::TensorT<T>& t, ad::Generator& gen, double a = 0.0);

}  // namespace nn::init
