#include "autoencoders/corruption.hpp"

#include <algorithm>
#include <vector>

namespace ae {

ad::Tensor corrupt(const ad::Tensor& x, Corruption kind, double level, ad::Generator& gen) {
  if (level < 0 || (kind != Corruption::Gaussian && level > 1))
    throw ad::Error("corrupt: noise level " + std::to_string(level) + " is out of range");
  ad::Tensor out = x.detach();
  float* v = out.data();
  const std::size_t n = out.numel();
  switch (kind) {
    case Corruption::None:
      break;
    case Corruption::Gaussian:
    {
      std::vector<double> e(n);  // n draws of gen.normal()
      gen.normals(e.data(), n);
      for (std::size_t i = 0; i < n; ++i) v[i] = std::clamp(v[i] + static_cast<float>(level * e[i]), 0.0f, 1.0f);
      break;
    }
    case Corruption::Masking:
      // BEGIN EXERCISE corruption
      for (std::size_t i = 0; i < n; ++i)
        if (gen.uniform() < level) v[i] = 0.0f;
      // END EXERCISE corruption
      break;
    case Corruption::SaltAndPepper:
      // BEGIN EXERCISE corruption
      for (std::size_t i = 0; i < n; ++i)
        if (gen.uniform() < level) v[i] = gen.uniform() < 0.5 ? 0.0f : 1.0f;
      // END EXERCISE corruption
      break;
  }
  return out;
}

Corruption parse_corruption(const std::string& name) {
  if (name == "none") return Corruption::None;
  if (name == "gaussian") return Corruption::Gaussian;
  if (name == "masking") return Corruption::Masking;
  if (name == "salt_and_pepper") return Corruption::SaltAndPepper;
  throw ad::Error("unknown corruption '" + name + "' (none, gaussian, masking, salt_and_pepper)");
}

}  // namespace ae
