// Elementwise ops. Forward: one pass over the elements (a vectorised loop from autodiff/kernels.hpp, or the
// broadcasting loops of autodiff/broadcast.hpp), split over the threads when large.
// Backward: written with ops, so it can be differentiated again; sum_to undoes broadcasting.
#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "autodiff/broadcast.hpp"
#include "autodiff/internal.hpp"
#include "autodiff/kernels.hpp"

namespace ad {

using detail::Grads;
using detail::constant;
using detail::require_defined;
using detail::apply;
using detail::zip;

namespace {
template <class T>
const TensorT<T>& none() {
  static const TensorT<T> undefined;
  return undefined;
}

template <class T>
Shape check_binary(const char* op, const TensorT<T>& a, const TensorT<T>& b) {
  require_defined(op, a, "first input");
  require_defined(op, b, "second input");
  return detail::broadcast_shapes(op, a.shape(), b.shape());
}
}  // namespace

// ---- binary, broadcasting ------------------------------------------------------------------------

template <class T>
TensorT<T> add(const TensorT<T>& a, const TensorT<T>& b) {
  xt::xarray<T> v = detail::broadcast_binary(a, b, check_binary("add", a, b), [](T x, T y) { return x + y; });
  return make_result<T>(std::move(v), "add", {a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {c.needs[0] ? sum_to(c.grad, c.inputs[0].shape()) : none<T>(),
            c.needs[1] ? sum_to(c.grad, c.inputs[1].shape()) : none<T>()};
  });
}

template <class T>
TensorT<T> sub(const TensorT<T>& a, const TensorT<T>& b) {
  xt::xarray<T> v = detail::broadcast_binary(a, b, check_binary("sub", a, b), [](T x, T y) { return x - y; });
  return make_result<T>(std::move(v), "sub", {a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {c.needs[0] ? sum_to(c.grad, c.inputs[0].shape()) : none<T>(),
            c.needs[1] ? sum_to(neg(c.grad), c.inputs[1].shape()) : none<T>()};
  });
}

// d(ab) = b da + a db
template <class T>
TensorT<T> mul(const TensorT<T>& a, const TensorT<T>& b) {
  xt::xarray<T> v = detail::broadcast_binary(a, b, check_binary("mul", a, b), [](T x, T y) { return x * y; });
  return make_result<T>(std::move(v), "mul", {a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const auto& [a, b] = std::tie(c.inputs[0], c.inputs[1]);
    return {c.needs[0] ? sum_to(mul(c.grad, b), a.shape()) : none<T>(),
            c.needs[1] ? sum_to(mul(c.grad, a), b.shape()) : none<T>()};
  });
}

// d(a/b) = da / b − (a/b) db / b
template <class T>
TensorT<T> div(const TensorT<T>& a, const TensorT<T>& b) {
  xt::xarray<T> v = detail::broadcast_binary(a, b, check_binary("div", a, b), [](T x, T y) { return x / y; });
  return make_result<T>(std::move(v), "div", {a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const auto& [a, b] = std::tie(c.inputs[0], c.inputs[1]);
    return {c.needs[0] ? sum_to(div(c.grad, b), a.shape()) : none<T>(),
            c.needs[1] ? sum_to(neg(div(mul(c.grad, c.output), b)), b.shape()) : none<T>()};
  });
}

// ---- with a constant scalar -----------------------------------------------------------------------

template <class T>
TensorT<T> add(const TensorT<T>& a, T s) {
  require_defined("add", a);
  xt::xarray<T> v = apply(a, [s](T x) { return x + s; });
  return make_result<T>(std::move(v), "add_scalar", {a}, [](const BackwardArgs<T>& c) -> Grads<T> { return {c.grad}; });
}

template <class T>
TensorT<T> mul(const TensorT<T>& a, T s) {
  require_defined("mul", a);
  xt::xarray<T> v = apply(a, [s](T x) { return x * s; });
  return make_result<T>(std::move(v), "mul_scalar", {a},
                        [s](const BackwardArgs<T>& c) -> Grads<T> { return {mul(c.grad, s)}; });
}

template <class T>
TensorT<T> rsub(T s, const TensorT<T>& a) {
  require_defined("rsub", a);
  xt::xarray<T> v = apply(a, [s](T x) { return s - x; });
  return make_result<T>(std::move(v), "rsub_scalar", {a},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {neg(c.grad)}; });
}

template <class T>
TensorT<T> neg(const TensorT<T>& a) {
  require_defined("neg", a);
  xt::xarray<T> v = apply(a, [](T x) { return -x; });
  return make_result<T>(std::move(v), "neg", {a}, [](const BackwardArgs<T>& c) -> Grads<T> { return {neg(c.grad)}; });
}

// ---- unary ----------------------------------------------------------------------------------------

// d(a^p) = p a^(p−1) da
template <class T>
TensorT<T> pow(const TensorT<T>& a, T p) {
  require_defined("pow", a);
  xt::xarray<T> v = xt::pow(a.value(), p);
  return make_result<T>(std::move(v), "pow", {a}, [p](const BackwardArgs<T>& c) -> Grads<T> {
    return {mul(c.grad, mul(pow(c.inputs[0], p - T(1)), p))};
  });
}

// d(e^a) = e^a da
template <class T>
TensorT<T> exp(const TensorT<T>& a) {
  require_defined("exp", a);
  xt::xarray<T> v = apply(a, [](T x) { return vmath::exp(x); });
  return make_result<T>(std::move(v), "exp", {a},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {mul(c.grad, c.output)}; });
}

// d(log a) = da / a
template <class T>
TensorT<T> log(const TensorT<T>& a) {
  require_defined("log", a);
  xt::xarray<T> v = apply(a, [](T x) { return vmath::log(x); });
  return make_result<T>(std::move(v), "log", {a},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {div(c.grad, c.inputs[0])}; });
}

// d(√a) = da / (2√a)
template <class T>
TensorT<T> sqrt(const TensorT<T>& a) {
  require_defined("sqrt", a);
  xt::xarray<T> v = apply(a, [](T x) { return std::sqrt(x); });
  return make_result<T>(std::move(v), "sqrt", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {div(c.grad, mul(c.output, T(2)))};
  });
}

// d|a| = sign(a) da (sign is a constant: |a| has no curvature away from 0)
template <class T>
TensorT<T> abs(const TensorT<T>& a) {
  require_defined("abs", a);
  xt::xarray<T> v = xt::abs(a.value());
  return make_result<T>(std::move(v), "abs", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    xt::xarray<T> sign = xt::sign(c.inputs[0].value());
    return {mul(c.grad, constant(std::move(sign)))};
  });
}

// d(a²) = 2a da
template <class T>
TensorT<T> square(const TensorT<T>& a) {
  require_defined("square", a);
  xt::xarray<T> v = apply(a, [](T x) { return x * x; });
  return make_result<T>(std::move(v), "square", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {mul(c.grad, mul(c.inputs[0], T(2)))};
  });
}

template <class T>
TensorT<T> clamp(const TensorT<T>& a, T lo, T hi) {
  require_defined("clamp", a);
  if (!(lo <= hi)) detail::fail("clamp: lower bound ", lo, " exceeds upper bound ", hi);
  xt::xarray<T> v = xt::clip(a.value(), lo, hi);
  return make_result<T>(std::move(v), "clamp", {a}, [lo, hi](const BackwardArgs<T>& c) -> Grads<T> {
    const auto& x = c.inputs[0].value();
    xt::xarray<T> inside = xt::cast<T>(x >= lo && x <= hi);
    return {mul(c.grad, constant(std::move(inside)))};
  });
}

// σ(a) = 1 / (1 + e^−a);  dσ = σ(1 − σ) da
template <class T>
TensorT<T> sigmoid(const TensorT<T>& a) {
  require_defined("sigmoid", a);
  xt::xarray<T> v = apply(a, [](T x) { return vmath::sigmoid(x); });
  return make_result<T>(std::move(v), "sigmoid", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {sigmoid_grad(c.grad, c.output)};  // g ⊙ σ(1 − σ)
  });
}

// d tanh(a) = (1 − tanh²(a)) da
template <class T>
TensorT<T> tanh(const TensorT<T>& a) {
  require_defined("tanh", a);
  xt::xarray<T> v = apply(a, [](T x) { return std::tanh(x); });
  return make_result<T>(std::move(v), "tanh", {a}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {tanh_grad(c.grad, c.output)};  // g ⊙ (1 − tanh²)
  });
}

template <class T>
TensorT<T> relu(const TensorT<T>& a) {
  require_defined("relu", a);
  xt::xarray<T> v = apply(a, [](T x) { return x < T(0) ? T(0) : x; });  // a NaN stays NaN
  return make_result<T>(std::move(v), "relu", {a},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {relu_grad(c.grad, c.inputs[0])}; });
}

template <class T>
TensorT<T> leaky_relu(const TensorT<T>& a, T negative_slope) {
  require_defined("leaky_relu", a);
  xt::xarray<T> v = apply(a, [negative_slope](T x) { return x > T(0) ? x : x * negative_slope; });
  return make_result<T>(std::move(v), "leaky_relu", {a}, [negative_slope](const BackwardArgs<T>& c) -> Grads<T> {
    return {leaky_relu_grad(c.grad, c.inputs[0], negative_slope)};
  });
}

// softplus(a) = log(1 + e^a), computed without overflow (vmath::softplus);  d softplus = σ(a) da
template <class T>
TensorT<T> softplus(const TensorT<T>& a) {
  require_defined("softplus", a);
  xt::xarray<T> v = apply(a, [](T x) { return vmath::softplus(x); });
  return make_result<T>(std::move(v), "softplus", {a},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {mul(c.grad, sigmoid(c.inputs[0]))}; });
}

// ---- activation gradients: one pass each, no temporaries --------------------------------------------------

// relu'(x) = [x > 0]: zero almost everywhere as a function of x, so only g gets a gradient.
template <class T>
TensorT<T> relu_grad(const TensorT<T>& g, const TensorT<T>& x) {
  detail::require_same_shape("relu_grad", g, "gradient", x, "saved value");
  // branchless (a mask multiply): random signs would defeat the branch predictor
  // BEGIN EXERCISE relu_sigmoid_backward
  return make_result<T>(zip(g, x, [](T gi, T xi) { return gi * static_cast<T>(xi > T(0)); }), "relu_grad", {g, x},
                        [](const BackwardArgs<T>& c) -> Grads<T> { return {relu_grad(c.grad, c.inputs[1]), none<T>()}; });
  // END EXERCISE relu_sigmoid_backward
}

template <class T>
TensorT<T> leaky_relu_grad(const TensorT<T>& g, const TensorT<T>& x, T slope) {
  detail::require_same_shape("leaky_relu_grad", g, "gradient", x, "saved value");
  const T one_minus_slope = T(1) - slope;
  return make_result<T>(zip(g, x, [slope, one_minus_slope](T gi, T xi) { return gi * (slope + one_minus_slope * static_cast<T>(xi > T(0))); }),
                        "leaky_relu_grad", {g, x},
                        [slope](const BackwardArgs<T>& c) -> Grads<T> {
                          return {leaky_relu_grad(c.grad, c.inputs[1], slope), none<T>()};
                        });
}

// g ⊙ s(1 − s):  ∂/∂g = s(1 − s),  ∂/∂s = g(1 − 2s)
template <class T>
TensorT<T> sigmoid_grad(const TensorT<T>& g, const TensorT<T>& s) {
  detail::require_same_shape("sigmoid_grad", g, "gradient", s, "saved value");
  // BEGIN EXERCISE relu_sigmoid_backward
  return make_result<T>(zip(g, s, [](T gi, T si) { return gi * si * (T(1) - si); }), "sigmoid_grad", {g, s},
                        [](const BackwardArgs<T>& c) -> Grads<T> {
                          const auto& [g, s] = std::tie(c.inputs[0], c.inputs[1]);
                          return {c.needs[0] ? sigmoid_grad(c.grad, s) : none<T>(),
                                  c.needs[1] ? mul(mul(c.grad, g), rsub(T(1), mul(s, T(2)))) : none<T>()};
                        });
  // END EXERCISE relu_sigmoid_backward
}

// g ⊙ (1 − t²):  ∂/∂g = 1 − t²,  ∂/∂t = −2 g t
template <class T>
TensorT<T> tanh_grad(const TensorT<T>& g, const TensorT<T>& t) {
  detail::require_same_shape("tanh_grad", g, "gradient", t, "saved value");
  return make_result<T>(zip(g, t, [](T gi, T ti) { return gi * (T(1) - ti * ti); }), "tanh_grad", {g, t},
                        [](const BackwardArgs<T>& c) -> Grads<T> {
                          const auto& [g, t] = std::tie(c.inputs[0], c.inputs[1]);
                          return {c.needs[0] ? tanh_grad(c.grad, t) : none<T>(),
                                  c.needs[1] ? mul(mul(c.grad, g), mul(t, T(-2))) : none<T>()};
                        });
}

// ---- masks ----------------------------------------------------------------------------------------

template <class T>
TensorT<T> masked_mul(const TensorT<T>& a, const TensorT<T>& mask) {
  xt::xarray<T> v = detail::broadcast_binary(a, mask, check_binary("masked_mul", a, mask), [](T x, T m) { return x * m; });
  return make_result<T>(std::move(v), "masked_mul", {a, mask}, [](const BackwardArgs<T>& c) -> Grads<T> {
    return {c.needs[0] ? sum_to(masked_mul(c.grad, detail::as_constant(c.inputs[1])), c.inputs[0].shape()) : none<T>(), none<T>()};
  });
}

template <class T>
TensorT<T> where(const TensorT<T>& mask, const TensorT<T>& a, const TensorT<T>& b) {
  require_defined("where", mask, "mask");
  check_binary("where", a, b);
  const Shape out = detail::broadcast_shapes("where", detail::broadcast_shapes("where", mask.shape(), a.shape()), b.shape());
  xt::xarray<T> v = xt::where(xt::not_equal(mask.value(), T(0)), a.value(), b.value());
  if (to_shape(v.shape()) != out) v = xt::broadcast(v, out);
  return make_result<T>(std::move(v), "where", {mask, a, b}, [](const BackwardArgs<T>& c) -> Grads<T> {
    const TensorT<T> m = detail::as_constant(c.inputs[0]);
    return {none<T>(), c.needs[1] ? sum_to(masked_mul(c.grad, m), c.inputs[1].shape()) : none<T>(),
            c.needs[2] ? sum_to(masked_mul(c.grad, rsub(T(1), m)), c.inputs[2].shape()) : none<T>()};
  });
}

#define AD_ELEMENTWISE(T)                                                     \
  template TensorT<T> add(const TensorT<T>&, const TensorT<T>&);              \
  template TensorT<T> sub(const TensorT<T>&, const TensorT<T>&);              \
  template TensorT<T> mul(const TensorT<T>&, const TensorT<T>&);              \
  template TensorT<T> div(const TensorT<T>&, const TensorT<T>&);              \
  template TensorT<T> add(const TensorT<T>&, T);                              \
  template TensorT<T> mul(const TensorT<T>&, T);                              \
  template TensorT<T> rsub(T, const TensorT<T>&);                             \
  template TensorT<T> neg(const TensorT<T>&);                                 \
  template TensorT<T> pow(const TensorT<T>&, T);                              \
  template TensorT<T> exp(const TensorT<T>&);                                 \
  template TensorT<T> log(const TensorT<T>&);                                 \
  template TensorT<T> sqrt(const TensorT<T>&);                                \
  template TensorT<T> abs(const TensorT<T>&);                                 \
  template TensorT<T> square(const TensorT<T>&);                              \
  template TensorT<T> clamp(const TensorT<T>&, T, T);                         \
  template TensorT<T> sigmoid(const TensorT<T>&);                             \
  template TensorT<T> tanh(const TensorT<T>&);                                \
  template TensorT<T> relu(const TensorT<T>&);                                \
  template TensorT<T> leaky_relu(const TensorT<T>&, T);                       \
  template TensorT<T> softplus(const TensorT<T>&);                            \
  template TensorT<T> masked_mul(const TensorT<T>&, const TensorT<T>&);       \
  template TensorT<T> relu_grad(const TensorT<T>&, const TensorT<T>&);        \
  template TensorT<T> leaky_relu_grad(const TensorT<T>&, const TensorT<T>&, T); \
  template TensorT<T> sigmoid_grad(const TensorT<T>&, const TensorT<T>&);     \
  template TensorT<T> tanh_grad(const TensorT<T>&, const TensorT<T>&);        \
  template TensorT<T> where(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&);
AD_INSTANTIATE(AD_ELEMENTWISE)

}  // namespace ad
