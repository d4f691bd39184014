// Public gradient checks: autodiff against central differences, in double precision.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"

namespace ad {

struct GradcheckOptions {
  double eps = 1e-6;    // central-difference step
  double atol = 1e-6;   // pass when |analytical − numerical| ≤ atol + rtol·|numerical|
  double rtol = 1e-4;
  std::uint64_t seed = 1234;  // for the random upstream gradient
};

struct GradcheckResult {
  bool ok = true;
  std::string message;        // on failure: the input, the index, both values and the relative error
  double max_abs_error = 0;   // over every checked element
  std::size_t checked = 0;    // number of elements compared
  explicit operator bool() const { return ok; }
};

using Function64 = std::function<Tensor64(const std::vector<Tensor64>&)>;

// Checks d<f(x), u>/dx for every element of every input, with u a random upstream gradient
// (non-trivial, so a wrong broadcast or transpose cannot hide behind an all-ones gradient).
GradcheckResult gradcheck(const Function64& f, const std::vector<Tensor64>& inputs, const GradcheckOptions& opt = {});

// Checks the gradient of the gradient: runs gradcheck on
//   G(x, u) = Σ_i <∂<f(x), u>/∂x_i, v_i>
// with the inner gradient built by backward(create_graph=true), u an extra input and v_i fixed random tensors.
GradcheckResult gradgradcheck(const Function64& f, const std::vector<Tensor64>& inputs, const GradcheckOptions& opt = {});

}  // namespace ad
