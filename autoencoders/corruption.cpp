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
      std::vector<float> e(n);  // n draws from N(0, 1)
      gen.noise_normal(e.data(), n);
      const float sigma = static_cast<float>(level);
      for (std::size_t i = 0; i < n; ++i) v[i] = std::clamp(v[i] + sigma * e[i], 0.0f, 1.0f);
      break;
    }
    case Corruption::Masking:
    {
      // BEGIN EXERCISE corruption
      std::vector<float> u(n);  // n draws, uniform in [0, 1)
      gen.noise_uniform(u.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        if (u[i] < level) v[i] = 0.0f;
      // END EXERCISE corruption
      break;
    }
    case Corruption::SaltAndPepper:
    {
      // BEGIN EXERCISE corruption
      std::vector<float> u(n), coin(n);  // whether each pixel is hit; if so, pepper (0) or salt (1)
      gen.noise_uniform(u.data(), n);
      gen.noise_uniform(coin.data(), n);
      for (std::size_t i = 0; i < n; ++i)
        if (u[i] < level) v[i] = coin[i] < 0.5f ? 0.0f : 1.0f;
      // END EXERCISE corruption
      break;
    }
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
