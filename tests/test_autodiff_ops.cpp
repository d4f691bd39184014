// Every op: forward values, gradcheck in float64 (each input, broadcasting cases, random upstream gradient),
// gradgradcheck for the ops the contractive autoencoder differentiates twice, and the error messages.
#define BOOST_TEST_MODULE autodiff_ops
#include "autodiff/vmath.hpp"
#include "helpers.hpp"

using namespace test;
using V = std::vector<Tensor64>;

// ---- forward values ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(forward_values_by_hand) {
  const Tensor64 a = Tensor64::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor64 b = Tensor64::from_vector({10, 20, 30}, {3});
  const Tensor64 s = a + b;  // broadcast over rows
  BOOST_TEST(s.shape() == (Shape{2, 3}));
  BOOST_TEST(s.value()(1, 2) == 36.0);
  const Tensor64 m = ad::matmul(a, ad::transpose(a));  // [[14, 32], [32, 77]]
  BOOST_TEST(m.value()(0, 0) == 14.0);
  BOOST_TEST(m.value()(0, 1) == 32.0);
  BOOST_TEST(m.value()(1, 1) == 77.0);
  BOOST_TEST(ad::sum(a).item() == 21.0);
  BOOST_TEST(ad::sum(a, {0}).shape() == (Shape{3}));
  BOOST_TEST(ad::sum(a, {1}, true).shape() == (Shape{2, 1}));
  BOOST_TEST(ad::sum(a, {1}, true).value()(1, 0) == 15.0);
  BOOST_TEST(ad::mean(a).item() == 3.5);
  BOOST_TEST(ad::max(a, {1}).value()(0) == 3.0);
  BOOST_TEST(ad::relu(Tensor64::from_vector({-1, 2}, {2})).value()(0) == 0.0);
  BOOST_TEST(ad::softplus(Tensor64::from_vector({1000.0, -1000.0}, {2})).value()(0) == 1000.0);  // no overflow
  BOOST_TEST(ad::softplus(Tensor64::from_vector({1000.0, -1000.0}, {2})).value()(1) == 0.0);
  const Tensor64 ls = ad::log_softmax(Tensor64::from_vector({1000, 1001, 1002}, {1, 3}), 1);  // no overflow
  BOOST_TEST(std::isfinite(ls.value()(0, 0)));
  BOOST_TEST(std::abs(ad::sum(ad::softmax(a, 1), {1}).value()(1) - 1.0) < 1e-12);
  const Tensor64 c = ad::concat<double>({a, a}, 0);
  BOOST_TEST(c.shape() == (Shape{4, 3}));
  BOOST_TEST(ad::slice(c, 0, 2, 4).value()(1, 2) == 6.0);
  const Tensor64 rows = ad::index_select(a, {1, 1, 0});
  BOOST_TEST(rows.value()(0, 0) == 4.0);
  BOOST_TEST(rows.value()(2, 0) == 1.0);
  BOOST_TEST(ad::permute(ad::reshape(a, {1, 2, 3}), {2, 0, 1}).shape() == (Shape{3, 1, 2}));
  BOOST_TEST(ad::clamp(a, 2.0, 4.0).value()(1, 2) == 4.0);
}

// ---- elementwise, broadcasting -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradcheck_binary_ops_with_broadcasting) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 4}, {3, 4}}, {{3, 1}, {1, 4}}, {{5, 4}, {4}}, {{4}, {5, 4}}, {{2, 3, 4}, {3, 1}}, {{}, {2, 3}}};
  for (const auto& [sa, sb] : cases) {
    BOOST_TEST_CONTEXT("shapes " << ad::shape_str(sa) << " and " << ad::shape_str(sb)) {
      const Tensor64 a = uniform(sa, 1), b = uniform(sb, 2);
      const Tensor64 bpos = uniform(sb, 3, 0.5, 1.5);
      CHECK_GRADCHECK([](const V& x) { return ad::add(x[0], x[1]); }, a, b);
      CHECK_GRADCHECK([](const V& x) { return ad::sub(x[0], x[1]); }, a, b);
      CHECK_GRADCHECK([](const V& x) { return ad::mul(x[0], x[1]); }, a, b);
      CHECK_GRADCHECK([](const V& x) { return ad::div(x[0], x[1]); }, a, bpos);
    }
  }
}

BOOST_AUTO_TEST_CASE(gradcheck_scalar_ops) {
  const Tensor64 a = uniform({3, 4}, 4);
  CHECK_GRADCHECK([](const V& x) { return x[0] + 2.5; }, a);
  CHECK_GRADCHECK([](const V& x) { return x[0] * -1.5; }, a);
  CHECK_GRADCHECK([](const V& x) { return 3.0 - x[0]; }, a);
  CHECK_GRADCHECK([](const V& x) { return x[0] / 4.0; }, a);
  CHECK_GRADCHECK([](const V& x) { return -x[0]; }, a);
}

BOOST_AUTO_TEST_CASE(gradcheck_unary_ops) {
  const Tensor64 a = uniform({3, 4}, 5, -2.0, 2.0);
  const Tensor64 pos = uniform({3, 4}, 6, 0.3, 2.0);
  const Tensor64 kinked = away_from_zero({3, 4}, 7);
  CHECK_GRADCHECK([](const V& x) { return ad::pow(x[0], 3.0); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::pow(x[0], 0.5); }, pos);
  CHECK_GRADCHECK([](const V& x) { return ad::pow(x[0], -2.0); }, pos);
  CHECK_GRADCHECK([](const V& x) { return ad::exp(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::log(x[0]); }, pos);
  CHECK_GRADCHECK([](const V& x) { return ad::sqrt(x[0]); }, pos);
  CHECK_GRADCHECK([](const V& x) { return ad::abs(x[0]); }, kinked);
  CHECK_GRADCHECK([](const V& x) { return ad::square(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::sigmoid(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::tanh(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::relu(x[0]); }, kinked);
  CHECK_GRADCHECK([](const V& x) { return ad::leaky_relu(x[0], 0.2); }, kinked);
  CHECK_GRADCHECK([](const V& x) { return ad::softplus(x[0]); }, a);
  // clamp: values away from the bounds ±0.5 (kinked has |x| ≥ 0.2, so shift them off ±0.5)
  Tensor64 c = kinked.detach();
  for (std::size_t i = 0; i < c.numel(); ++i)
    if (std::abs(std::abs(c.data()[i]) - 0.5) < 0.05) c.data()[i] *= 1.3;
  CHECK_GRADCHECK([](const V& x) { return ad::clamp(x[0], -0.5, 0.5); }, c);
}

BOOST_AUTO_TEST_CASE(gradcheck_masks) {
  const Tensor64 a = uniform({3, 4}, 8), b = uniform({4}, 9);
  ad::Generator gen(10);
  const Tensor64 mask = ad::bernoulli<double>({3, 4}, 0.5, gen);
  const Tensor64 row_mask = ad::bernoulli<double>({1, 4}, 0.5, gen);
  CHECK_GRADCHECK([&](const V& x) { return ad::masked_mul(x[0], mask); }, a);
  CHECK_GRADCHECK([&](const V& x) { return ad::masked_mul(x[0], row_mask); }, a);
  CHECK_GRADCHECK([&](const V& x) { return ad::where(mask, x[0], x[1]); }, a, b);
  CHECK_GRADCHECK([&](const V& x) { return ad::where(row_mask, x[0], x[1]); }, a, b);
  // The mask gets no gradient and the values match the definition.
  const Tensor64 w = ad::where(mask, a, b);
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 4; ++j) BOOST_TEST(w.value()(i, j) == (mask.value()(i, j) != 0 ? a.value()(i, j) : b.value()(j)));
}

// ---- matmul ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradcheck_matmul_all_transposes) {
  const Tensor64 a = uniform({3, 5}, 11), b = uniform({5, 4}, 12);
  CHECK_GRADCHECK([](const V& x) { return ad::matmul(x[0], x[1]); }, a, b);
  CHECK_GRADCHECK([](const V& x) { return ad::matmul(x[0], x[1], true, false); }, uniform({5, 3}, 13), b);
  CHECK_GRADCHECK([](const V& x) { return ad::matmul(x[0], x[1], false, true); }, a, uniform({4, 5}, 14));
  CHECK_GRADCHECK([](const V& x) { return ad::matmul(x[0], x[1], true, true); }, uniform({5, 3}, 15), uniform({4, 5}, 16));
  // transposed flags agree with explicit transposes
  const Tensor64 at = uniform({5, 3}, 17), bt = uniform({4, 5}, 18);
  BOOST_TEST(max_abs_diff(ad::matmul(at, bt, true, true), ad::matmul(ad::transpose(at), ad::transpose(bt))) < 1e-12);
}

// ---- shapes ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradcheck_shape_ops) {
  const Tensor64 a = uniform({2, 3, 4}, 19);
  CHECK_GRADCHECK([](const V& x) { return ad::transpose(x[0]); }, uniform({3, 4}, 20));
  CHECK_GRADCHECK([](const V& x) { return ad::permute(x[0], {2, 0, 1}); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::reshape(x[0], {4, 6}); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::flatten(x[0], 1); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::broadcast_to(x[0], {2, 3, 4}); }, uniform({3, 1}, 21));
  CHECK_GRADCHECK([](const V& x) { return ad::sum_to(x[0], {3, 1}); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::index_select(x[0], {2, 0, 2, 1}); }, uniform({3, 4}, 22));  // repeats
  CHECK_GRADCHECK([](const V& x) { return ad::index_add<double>({4, 3}, {3, 0, 3}, x[0]); }, uniform({3, 3}, 23));
  CHECK_GRADCHECK([](const V& x) { return ad::slice(x[0], 1, 1, 3); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::slice(x[0], 2, 0, 1); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::unslice<double>(x[0], {2, 5, 4}, 1, 2); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::concat<double>({x[0], x[1], x[0]}, 1); }, a, uniform({2, 1, 4}, 24));
  CHECK_GRADCHECK([](const V& x) { return ad::concat<double>({x[0], x[1]}, 0); }, uniform({1, 3}, 25), uniform({2, 3}, 26));
}

// ---- reductions ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradcheck_reductions) {
  const Tensor64 a = uniform({2, 3, 4}, 27);
  CHECK_GRADCHECK([](const V& x) { return ad::sum(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::sum(x[0], {1}); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::sum(x[0], {0, 2}, true); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::mean(x[0]); }, a);
  CHECK_GRADCHECK([](const V& x) { return ad::mean(x[0], {2}, true); }, a);
  const Tensor64 d = distinct({2, 3, 4}, 28);
  CHECK_GRADCHECK([](const V& x) { return ad::max(x[0]); }, d);
  CHECK_GRADCHECK([](const V& x) { return ad::max(x[0], {1}); }, d);
  CHECK_GRADCHECK([](const V& x) { return ad::max(x[0], {0, 2}, true); }, d);
  CHECK_GRADCHECK([](const V& x) { return ad::log_softmax(x[0], 1); }, uniform({4, 5}, 29, -3, 3));
  CHECK_GRADCHECK([](const V& x) { return ad::log_softmax(x[0], 0); }, uniform({4, 5}, 30, -3, 3));
  CHECK_GRADCHECK([](const V& x) { return ad::softmax(x[0], 1); }, uniform({4, 5}, 31, -3, 3));
}

// A sum over rows (a bias gradient) adds blocks of 64 rows on the threads, then the blocks: against a plain loop,
// for shapes with no row, one block, a block and a tail, and several blocks of a 3-D tensor, in float64 and float32.
BOOST_AUTO_TEST_CASE(sum_over_rows_matches_a_plain_loop) {
  for (const Shape& shape : std::vector<Shape>{{0, 5}, {1, 7}, {64, 3}, {65, 3}, {300, 37}, {130, 3, 2}}) {
    BOOST_TEST_CONTEXT("shape " << ad::shape_str(shape)) {
      const Tensor64 a = uniform(shape, 32);
      const std::size_t rows = shape[0];
      const Shape out(shape.begin() + 1, shape.end());
      std::size_t cols = 1;
      for (std::size_t d : out) cols *= d;
      xt::xarray<double> expect = xt::zeros<double>({cols});
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; ++j) expect(j) += a.data()[r * cols + j];
      const Tensor64 expected = Tensor64(xt::xarray<double>(xt::reshape_view(expect, out)));
      BOOST_TEST(ad::sum(a, {0}).shape() == out);
      BOOST_TEST(max_abs_diff(ad::sum(a, {0}), expected) < 1e-12);
      BOOST_TEST(max_abs_diff(ad::cast<double>(ad::sum(ad::cast<float>(a), {0})), expected) < 1e-4);
    }
  }
}

BOOST_AUTO_TEST_CASE(max_splits_gradient_between_ties) {
  const Tensor64 a = Tensor64::from_vector({1, 3, 3, 2}, {4}, true);
  ad::max(a).backward();
  BOOST_TEST(a.grad().value()(1) == 0.5);
  BOOST_TEST(a.grad().value()(2) == 0.5);
  BOOST_TEST(a.grad().value()(0) == 0.0);
}

// ---- k-sparse top-k ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(topk_mask_keeps_k_largest_magnitudes) {
  const Tensor64 a = distinct({6, 10}, 32);
  for (std::size_t k : {0u, 1u, 3u, 10u}) {
    const Tensor64 out = ad::topk_mask(a, k);
    for (std::size_t r = 0; r < 6; ++r) {
      std::size_t nonzero = 0;
      double smallest_kept = 1e9, largest_dropped = 0;
      for (std::size_t c = 0; c < 10; ++c) {
        const double v = out.value()(r, c), orig = std::abs(a.value()(r, c));
        if (v != 0) {
          ++nonzero;
          BOOST_TEST(v == a.value()(r, c));
          smallest_kept = std::min(smallest_kept, orig);
        } else {
          largest_dropped = std::max(largest_dropped, orig);
        }
      }
      BOOST_TEST(nonzero == k);
      if (k > 0 && k < 10) BOOST_TEST(smallest_kept > largest_dropped);
    }
  }
  CHECK_GRADCHECK([](const V& x) { return ad::topk_mask(x[0], 3); }, a);
  // Gradient only through the kept units.
  const Tensor64 x = a.detach().set_requires_grad(true);
  ad::sum(ad::topk_mask(x, 2)).backward();
  for (std::size_t r = 0; r < 6; ++r) {
    double kept = 0;
    for (std::size_t c = 0; c < 10; ++c) kept += x.grad().value()(r, c);
    BOOST_TEST(kept == 2.0);
  }
}

// ---- double backward ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(gradgradcheck_core_ops) {
  const Tensor64 a = uniform({3, 4}, 40, -2, 2), b = uniform({3, 4}, 41, -2, 2), row = uniform({4}, 42);
  const Tensor64 pos = uniform({3, 4}, 43, 0.5, 2.0);
  const Tensor64 kinked = away_from_zero({3, 4}, 44);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::matmul(x[0], x[1]); }, uniform({3, 5}, 45), uniform({5, 2}, 46));
  CHECK_GRADGRADCHECK([](const V& x) { return ad::matmul(x[0], x[1], true, true); }, uniform({5, 3}, 47), uniform({2, 5}, 48));
  CHECK_GRADGRADCHECK([](const V& x) { return ad::mul(x[0], x[1]); }, a, row);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::add(x[0], x[1]); }, a, row);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::div(x[0], x[1]); }, a, pos);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::sum(ad::square(x[0]), {1}); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::square(x[0]); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::sigmoid(x[0]); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::tanh(x[0]); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::softplus(x[0]); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::relu(x[0]); }, kinked);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::leaky_relu(x[0], 0.1); }, kinked);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::exp(x[0]); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::log(x[0]); }, pos);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::sqrt(x[0]); }, pos);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::pow(x[0], 3.0); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::log_softmax(x[0], 1); }, a);
  CHECK_GRADGRADCHECK([](const V& x) { return ad::mean(x[0], {0}); }, b);
  // A one-layer sigmoid encoder, the contractive autoencoder's case: d/dW of ‖dh/dx‖ terms.
  CHECK_GRADGRADCHECK([](const V& x) { return ad::sigmoid(ad::add(ad::matmul(x[0], x[1]), x[2])); }, uniform({2, 4}, 49),
                      uniform({4, 3}, 50), uniform({3}, 51));
}

BOOST_AUTO_TEST_CASE(second_derivative_by_hand) {
  // f = x³: f' = 3x², f'' = 6x
  const Tensor64 x = Tensor64::from_vector({0.5, -2.0}, {2}, true);
  const Tensor64 y = ad::sum(ad::pow(x, 3.0));
  const Tensor64 dy = ad::grad(y, {x}, Tensor64(), true, true)[0];
  BOOST_TEST(std::abs(dy.value()(1) - 12.0) < 1e-12);
  ad::sum(dy).backward();
  BOOST_TEST(std::abs(x.grad().value()(0) - 3.0) < 1e-12);
  BOOST_TEST(std::abs(x.grad().value()(1) + 12.0) < 1e-12);
}

// ---- fused losses ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(fused_losses_gradcheck_and_match_their_compositions) {
  const Tensor64 a = uniform({3, 5}, 70, -2, 2), b = uniform({3, 5}, 71), x = uniform({3, 5}, 72, 0, 1);
  CHECK_GRADCHECK([](const V& v) { return ad::sum_squared_error(v[0], v[1]); }, a, b);
  CHECK_GRADCHECK([](const V& v) { return ad::sum_bce_with_logits(v[0], v[1]); }, a, x);
  CHECK_GRADGRADCHECK([](const V& v) { return ad::sum_squared_error(v[0], v[1]); }, a, b);
  CHECK_GRADGRADCHECK([](const V& v) { return ad::sum_bce_with_logits(v[0], v[1]); }, a, x);
  CHECK_THROWS_WITH(ad::sum_squared_error(a, uniform({5, 3}, 73)), "sum_squared_error", "[3,5]", "[5,3]");

  // In float on a batch-sized input (split over blocks and threads), value and gradients equal the chains of
  // ops they replace, up to float rounding.
  auto check = [](auto fused, auto composed, const ad::Tensor& p, const ad::Tensor& t) {
    const ad::Tensor p1 = p.detach().set_requires_grad(true), t1 = t.detach().set_requires_grad(true);
    const ad::Tensor p2 = p.detach().set_requires_grad(true), t2 = t.detach().set_requires_grad(true);
    const ad::Tensor f = fused(p1, t1), c = composed(p2, t2);
    BOOST_TEST(std::abs(f.item() - c.item()) <= 1e-5f * std::abs(c.item()));
    f.backward(ad::Tensor::scalar(0.37f));
    c.backward(ad::Tensor::scalar(0.37f));
    BOOST_TEST(max_abs_diff(ad::cast<double>(p1.grad()), ad::cast<double>(p2.grad())) < 1e-6);
    BOOST_TEST(max_abs_diff(ad::cast<double>(t1.grad()), ad::cast<double>(t2.grad())) < 1e-6);
  };
  ad::Generator gen(74);
  const ad::Tensor logits = ad::randn<float>({128, 784}, gen, 0.f, 3.f), target = ad::rand_uniform<float>({128, 784}, gen, 0.f, 1.f);
  check([](const ad::Tensor& p, const ad::Tensor& t) { return ad::sum_squared_error(p, t); },
        [](const ad::Tensor& p, const ad::Tensor& t) { return ad::sum(ad::square(ad::sub(p, t))); }, logits, target);
  check([](const ad::Tensor& z, const ad::Tensor& t) { return ad::sum_bce_with_logits(z, t); },
        [](const ad::Tensor& z, const ad::Tensor& t) { return ad::sum(ad::sub(ad::softplus(z), ad::mul(t, z))); }, logits,
        target);
}

// ---- the vectorised exp and log (autodiff/vmath.hpp) -------------------------------------------------------

BOOST_AUTO_TEST_CASE(float_exp_and_log_are_accurate_to_a_float_ulp_with_ieee_special_values) {
  double worst_exp = 0, worst_log = 0;
  for (float x = -87.f; x < 88.f; x += 0.0013f) {
    const double want = std::exp(static_cast<double>(x));
    worst_exp = std::max(worst_exp, std::abs(ad::vmath::exp(x) - want) / want);
  }
  for (float x = 1e-44f; x < 3e38f; x = std::max(x * 1.0007f, std::nextafter(x, INFINITY))) {
    const double want = std::log(static_cast<double>(x));
    worst_log = std::max(worst_log, std::abs(ad::vmath::log(x) - want) / std::max(std::abs(want), 1.0));
  }
  BOOST_TEST(worst_exp < 1.2e-7);  // float epsilon
  BOOST_TEST(worst_log < 1.2e-7);
  BOOST_TEST(ad::vmath::exp(100.f) == INFINITY);
  BOOST_TEST(ad::vmath::exp(-100.f) == 0.f);
  BOOST_TEST(std::isnan(ad::vmath::exp(NAN)));
  BOOST_TEST(ad::vmath::log(0.f) == -INFINITY);
  BOOST_TEST(ad::vmath::log(INFINITY) == INFINITY);
  BOOST_TEST(std::isnan(ad::vmath::log(-1.f)));
  BOOST_TEST(std::isnan(ad::vmath::log(NAN)));
  // activations let a NaN through (training stops on a non-finite loss instead of learning from zeros)
  const ad::Tensor nan = ad::Tensor::from_vector({NAN, 1.f}, {2});
  for (const ad::Tensor& y : {ad::relu(nan), ad::leaky_relu(nan, 0.1f), ad::sigmoid(nan), ad::softplus(nan), ad::tanh(nan)})
    BOOST_TEST(std::isnan(y.data()[0]));
  // and through the ops, which use them for float
  const ad::Tensor t = ad::Tensor::from_vector({-1.f, 0.f, 2.5f}, {3});
  BOOST_TEST(std::isnan(ad::log(t).data()[0]));
  BOOST_TEST(ad::log(t).data()[1] == -INFINITY);
  BOOST_TEST(std::abs(ad::exp(t).data()[2] - std::exp(2.5f)) < 1e-6f);
}

// ---- float32 agrees with float64 ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(float32_matches_float64) {
  const Tensor64 x64 = uniform({8, 20}, 60), w64 = uniform({20, 6}, 61), b64 = uniform({6}, 62);
  auto run = [](auto x, auto w, auto b) {
    using T = typename decltype(x)::value_type;
    x.set_requires_grad(true), w.set_requires_grad(true), b.set_requires_grad(true);
    auto h = ad::sigmoid(ad::add(ad::matmul(x, w), b));
    auto loss = ad::mean(ad::square(ad::sub(ad::matmul(h, w, false, true), x)));
    loss = ad::add(loss, ad::mul(ad::sum(ad::log_softmax(ad::tanh(h), 1)), T(-0.01)));
    loss.backward();
    return std::vector<ad::Tensor64>{ad::cast<double>(loss), ad::cast<double>(w.grad()), ad::cast<double>(b.grad()),
                                     ad::cast<double>(x.grad())};
  };
  const auto r64 = run(x64.detach(), w64.detach(), b64.detach());
  const auto r32 = run(ad::cast<float>(x64), ad::cast<float>(w64), ad::cast<float>(b64));
  for (std::size_t i = 0; i < r64.size(); ++i) {
    double scale = 0;
    for (std::size_t j = 0; j < r64[i].numel(); ++j) scale = std::max(scale, std::abs(r64[i].data()[j]));
    BOOST_TEST_CONTEXT("result " << i) { BOOST_TEST(max_abs_diff(r64[i], r32[i]) <= 1e-5 * std::max(scale, 1.0)); }
  }
}

// ---- error messages name the op and the shapes ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(error_messages) {
  const ad::Tensor a = ad::Tensor::zeros({128, 784}), b = ad::Tensor::zeros({256, 64});
  std::string msg;
  BOOST_TEST(throws_with([&] { ad::matmul(a, b); }, {}, &msg));
  BOOST_TEST(msg == "matmul: [128,784] x [256,64]: inner dimensions 784 and 256 differ");
  CHECK_THROWS_WITH(ad::matmul(a, ad::Tensor::zeros({784})), "matmul", "[784]", "2-D");
  CHECK_THROWS_WITH(ad::add(ad::Tensor::zeros({3, 2}), ad::Tensor::zeros({4})), "add", "[3,2]", "[4]", "broadcast");
  CHECK_THROWS_WITH(ad::mul(ad::Tensor::zeros({5, 4}), ad::Tensor::zeros({5})), "mul", "[5,4]", "[5]");
  CHECK_THROWS_WITH(ad::reshape(a, {100, 7}), "reshape", "[128,784]", "[100,7]");
  CHECK_THROWS_WITH(ad::sum(a, {2}), "sum", "axis 2", "[128,784]");
  CHECK_THROWS_WITH(ad::index_select(a, {128}), "index_select", "128", "[128,784]");
  CHECK_THROWS_WITH(ad::slice(a, 1, 700, 800), "slice", "[128,784]");
  CHECK_THROWS_WITH(ad::concat<float>({a, b}, 0), "concat", "[128,784]", "[256,64]");
  CHECK_THROWS_WITH(ad::topk_mask(b, 65), "topk_mask", "k=65", "[256,64]");
  CHECK_THROWS_WITH(ad::transpose(ad::Tensor::zeros({2, 3, 4})), "transpose", "[2,3,4]");
  CHECK_THROWS_WITH(ad::permute(ad::Tensor::zeros({2, 3}), {0, 0}), "permute", "[2,3]");
  CHECK_THROWS_WITH(a.item(), "item", "[128,784]");
  CHECK_THROWS_WITH(ad::clamp(a, 1.0f, 0.0f), "clamp");
  CHECK_THROWS_WITH(ad::Tensor().shape(), "undefined");
  CHECK_THROWS_WITH(ad::Tensor::from_vector({1, 2, 3}, {2, 2}), "from_vector", "[2,2]");
  ad::Generator gen(1);
  CHECK_THROWS_WITH(ad::bernoulli<float>({2}, 1.5f, gen), "bernoulli", "1.5");
}

// ---- random sampling ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sampling_is_seeded_and_has_the_right_moments) {
  ad::Generator g1(7), g2(7), g3(8);
  const ad::Tensor64 a = ad::randn<double>({10000}, g1), b = ad::randn<double>({10000}, g2), c = ad::randn<double>({10000}, g3);
  BOOST_TEST(max_abs_diff(a, b) == 0.0);
  BOOST_TEST(max_abs_diff(a, c) > 0.0);
  const double m = ad::mean(a).item();
  const double var = ad::mean(ad::square(a - m)).item();
  BOOST_TEST(std::abs(m) < 0.05);
  BOOST_TEST(std::abs(var - 1.0) < 0.05);
  const ad::Tensor64 u = ad::rand_uniform<double>({10000}, g1, 2.0, 4.0);
  BOOST_TEST(ad::max(u).item() < 4.0);
  BOOST_TEST(-ad::max(-u).item() >= 2.0);
  BOOST_TEST(std::abs(ad::mean(u).item() - 3.0) < 0.05);
  const ad::Tensor64 bern = ad::bernoulli<double>({10000}, 0.3, g1);
  BOOST_TEST(std::abs(ad::mean(bern).item() - 0.3) < 0.02);
  const ad::Tensor64 probs = ad::Tensor64::from_vector({0.0, 1.0}, {2});
  const ad::Tensor64 draws = ad::bernoulli(probs, g1);
  BOOST_TEST(draws.value()(0) == 0.0);
  BOOST_TEST(draws.value()(1) == 1.0);
  std::vector<int> perm(50);
  std::iota(perm.begin(), perm.end(), 0);
  g1.shuffle(perm.begin(), perm.end());
  std::vector<int> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) BOOST_TEST(sorted[i] == i);
}

// ---- fused batch norm: the same as its readable formula, in value and in first and second derivatives ------

BOOST_AUTO_TEST_CASE(batch_norm_matches_reference_and_gradchecks) {
  // [3, 2, 5, 7]: runs of 35 values, two full blocks of 16 lanes and a tail of 3; [19, 2, 3, 3]: three blocks of
  // samples (8, 8, 3) whose sums are added
  for (const Shape& shape : {Shape{6, 4}, Shape{2, 3, 3, 3}, Shape{3, 2, 5, 7}, Shape{19, 2, 3, 3}}) {
    BOOST_TEST_CONTEXT("shape " << ad::shape_str(shape)) {
      const Tensor64 x = uniform(shape, 70, -2, 2), gamma = uniform({shape[1]}, 71, 0.5, 1.5), beta = uniform({shape[1]}, 72);
      std::vector<double> mean, var;
      const Tensor64 fused = ad::batch_norm(x, gamma, beta, 1e-5, &mean, &var);
      BOOST_TEST(max_abs_diff(fused, ad::batch_norm_reference(x, gamma, beta, 1e-5)) < 1e-12);
      BOOST_TEST(mean.size() == shape[1]);
      CHECK_GRADCHECK([](const V& in) { return ad::batch_norm(in[0], in[1], in[2], 1e-5); }, x, gamma, beta);
      CHECK_GRADGRADCHECK([](const V& in) { return ad::batch_norm(in[0], in[1], in[2], 1e-5); }, x, gamma, beta);
    }
  }
  CHECK_THROWS_WITH(ad::batch_norm(Tensor64::zeros({1, 3}), Tensor64::ones({3}), Tensor64::zeros({3}), 1e-5), "batch_norm",
                    "more than one value");
  CHECK_THROWS_WITH(ad::batch_norm(Tensor64::zeros({4, 3}), Tensor64::ones({2}), Tensor64::zeros({3}), 1e-5), "batch_norm",
                    "[4,3]", "[2]");
}
