#include "autodiff/gradcheck.hpp"

#include <cmath>
#include <sstream>

#include "autodiff/ops.hpp"

namespace ad {

namespace {
// <f(x), u> without recording a graph.
double project(const Function64& f, const std::vector<Tensor64>& inputs, const Tensor64& u) {
  NoGradGuard no_grad;
  const Tensor64 out = f(inputs);
  const auto& v = out.value();
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += v.data()[i] * u.data()[i];
  return s;
}
}  // namespace

GradcheckResult gradcheck(const Function64& f, const std::vector<Tensor64>& given, const GradcheckOptions& opt) {
  GradcheckResult result;
  // Fresh leaves, so the caller's tensors and their .grad stay untouched.
  std::vector<Tensor64> inputs;
  for (const auto& t : given) inputs.push_back(t.detach().set_requires_grad(true));

  Generator gen(opt.seed);
  const Tensor64 out = f(inputs);
  const Tensor64 u = randn<double>(out.shape(), gen);
  std::vector<Tensor64> analytical;
  if (out.requires_grad()) analytical = grad(out, inputs, u);
  else
    for (const auto& x : inputs) analytical.push_back(Tensor64::zeros(x.shape()));

  for (std::size_t i = 0; i < inputs.size(); ++i) {
    double* x = inputs[i].data();
    for (std::size_t j = 0; j < inputs[i].numel(); ++j) {
      const double saved = x[j];
      x[j] = saved + opt.eps;
      const double plus = project(f, inputs, u);
      x[j] = saved - opt.eps;
      const double minus = project(f, inputs, u);
      x[j] = saved;
      const double numerical = (plus - minus) / (2 * opt.eps);
      const double a = analytical[i].data()[j];
      const double err = std::abs(a - numerical);
      result.max_abs_error = std::max(result.max_abs_error, err);
      ++result.checked;
      if (!(err <= opt.atol + opt.rtol * std::abs(numerical)) && result.ok) {  // also catches NaN
        std::ostringstream os;
        os.precision(10);
        os << "gradcheck: input " << i << " " << shape_str(inputs[i].shape()) << ", flat index " << j
           << ": analytical " << a << " vs numerical " << numerical << ", relative error "
           << err / std::max(std::abs(numerical), 1e-300);
        result.ok = false;
        result.message = os.str();
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const Function64& f, const std::vector<Tensor64>& given, const GradcheckOptions& opt) {
  const std::size_t n = given.size();
  Generator gen(opt.seed + 1);
  std::vector<Tensor64> v;
  for (const auto& t : given) v.push_back(randn<double>(t.shape(), gen));
  Tensor64 out_shape_probe;
  {
    NoGradGuard no_grad;
    out_shape_probe = f(given);
  }
  std::vector<Tensor64> inputs = given;
  inputs.push_back(randn<double>(out_shape_probe.shape(), gen));  // u, the upstream gradient, is an input too

  Function64 G = [&f, &v, n](const std::vector<Tensor64>& xs) {
    std::vector<Tensor64> x(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(n));
    const Tensor64& u = xs[n];
    EnableGradGuard with_grad;  // the numerical side evaluates G under no-grad, but G itself needs a graph
    const Tensor64 out = f(x);
    if (!out.requires_grad()) return Tensor64::scalar(0.0);
    const std::vector<Tensor64> g = grad(out, x, u, true, true);
    Tensor64 total = Tensor64::scalar(0.0);
    for (std::size_t i = 0; i < n; ++i) total = add(total, sum(mul(g[i], v[i])));
    return total;
  };
  GradcheckResult r = gradcheck(G, inputs, opt);
  if (!r.ok) r.message = "gradgradcheck (input " + std::to_string(n) + " is the upstream gradient): " + r.message;
  return r;
}

}  // namespace ad
