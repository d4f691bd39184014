#include "nn/init.hpp"

#include <cmath>

namespace nn::init {

std::pair<std::size_t, std::size_t> fans(const ad::Shape& s) {
  if (s.size() < 2) throw ad::Error("init: fans need a weight of at least 2 axes, got " + ad::shape_str(s));
  std::size_t receptive = 1;
  for (std::size_t i = 2; i < s.size(); ++i) receptive *= s[i];
  return {s[1] * receptive, s[0] * receptive};
}

template <class T>
void uniform_(ad::TensorT<T>& t, double lo, double hi, ad::Generator& gen) {
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(lo + (hi - lo) * gen.uniform());
}

template <class T>
void normal_(ad::TensorT<T>& t, double mean, double stddev, ad::Generator& gen) {
  for (std::size_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<T>(mean + stddev * gen.normal());
}

template <class T>
void constant_(ad::TensorT<T>& t, double value) {
  t.value().fill(static_cast<T>(value));
}

template <class T>
void xavier_uniform_(ad::TensorT<T>& t, ad::Generator& gen, double gain) {
  const auto [in, out] = fans(t.shape());
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  uniform_(t, -bound, bound, gen);
}

template <class T>
void xavier_normal_(ad::TensorT<T>& t, ad::Generator& gen, double gain) {
  const auto [in, out] = fans(t.shape());
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

template <class T>
void kaiming_uniform_(ad::TensorT<T>& t, ad::Generator& gen, double a) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fans(t.shape()).first));
  uniform_(t, -bound, bound, gen);
}

template <class T>
void kaiming_normal_(ad::TensorT<T>& t, ad::Generator& gen, double a) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  normal_(t, 0.0, gain / std::sqrt(static_cast<double>(fans(t.shape()).first)), gen);
}

#define NN_INIT(T)                                                             \
  template void uniform_(ad::TensorT<T>&, double, double, ad::Generator&);     \
  template void normal_(ad::TensorT<T>&, double, double, ad::Generator&);      \
  template void constant_(ad::TensorT<T>&, double);                            \
  template void xavier_uniform_(ad::TensorT<T>&, ad::Generator&, double);      \
  template void xavier_normal_(ad::TensorT<T>&, ad::Generator&, double);       \
  template void kaiming_uniform_(ad::TensorT<T>&, ad::Generator&, double);     \
  template void kaiming_normal_(ad::TensorT<T>&, ad::Generator&, double);
NN_INIT(float)
NN_INIT(double)

}  // namespace nn::init
