// Graph semantics: reuse, accumulation, zero_grad, no-grad, detach, retain_graph, freed graphs,
// non-scalar outputs, a 100,000-op chain, grad(), and to_dot.
#define BOOST_TEST_MODULE autodiff_graph
#include "autodiff/dot.hpp"
#include "helpers.hpp"

using namespace test;

BOOST_AUTO_TEST_CASE(diamond_reuses_a_node) {
  // y = a·b with a = x², b = x³ (x used twice through two paths, a used in two ops):
  // L = sum(a·b + a) = sum(x⁵ + x²): dL/dx = 5x⁴ + 2x
  const Tensor64 x = Tensor64::from_vector({1.5, -0.5}, {2}, true);
  const Tensor64 a = ad::square(x);
  const Tensor64 b = ad::pow(x, 3.0);
  ad::sum(ad::add(ad::mul(a, b), a)).backward();
  for (std::size_t i = 0; i < 2; ++i) {
    const double v = x.value()(i);
    BOOST_TEST(std::abs(x.grad().value()(i) - (5 * std::pow(v, 4) + 2 * v)) < 1e-12);
  }
  // x + x: the same tensor on both sides
  const Tensor64 z = Tensor64::from_vector({1.0, 2.0}, {2}, true);
  ad::sum(ad::mul(z, z)).backward();
  BOOST_TEST(z.grad().value()(1) == 4.0);
}

BOOST_AUTO_TEST_CASE(gradients_accumulate_until_zero_grad) {
  Tensor64 x = Tensor64::from_vector({1.0, 2.0, 3.0}, {3}, true);
  ad::sum(ad::mul(x, 2.0)).backward();
  ad::sum(ad::mul(x, 2.0)).backward();
  BOOST_TEST(x.grad().value()(0) == 4.0);
  x.zero_grad();
  BOOST_TEST(!x.grad().defined());
  ad::sum(ad::mul(x, 3.0)).backward();
  BOOST_TEST(x.grad().value()(2) == 3.0);
}

BOOST_AUTO_TEST_CASE(shared_gradient_is_copied_into_each_leaf) {
  // add hands the same upstream tensor to both inputs: later accumulation must not alias.
  const Tensor64 a = Tensor64::from_vector({1.0}, {1}, true), b = Tensor64::from_vector({2.0}, {1}, true);
  ad::sum(ad::add(a, b)).backward();
  ad::sum(ad::mul(a, 5.0)).backward();
  BOOST_TEST(a.grad().item() == 6.0);
  BOOST_TEST(b.grad().item() == 1.0);
}

BOOST_AUTO_TEST_CASE(a_gradient_handed_to_two_inputs_is_not_added_into_in_place) {
  // add(h, y) hands one tensor G to both h and y. The sweep reaches add first, then h's other consumer (h·3), whose
  // contribution must not be added into G in place: y still holds G, and y's own other consumer (y·2) comes later.
  // (The sweep order: y is first reached through y·2, so y's node is finished before h's.) Then a weight used by
  // two products (its first contribution its own, so the second is added in place) against the two taken apart.
  const Tensor64 w = Tensor64::from_vector({0.5, -2.0}, {2});
  const Tensor64 x = Tensor64::from_vector({1.0, 2.0}, {2}, true), y0 = Tensor64::from_vector({3.0, 4.0}, {2}, true);
  const Tensor64 h = ad::mul(x, 1.0), y = ad::mul(y0, 1.0);
  const Tensor64 through_y = ad::sum(ad::mul(y, 2.0)), through_h = ad::sum(ad::mul(h, 3.0));
  const Tensor64 through_add = ad::sum(ad::mul(ad::add(h, y), w));
  ad::add(ad::add(through_y, through_h), through_add).backward();
  BOOST_TEST(x.grad().value()(0) == 3.5);  // w + 3
  BOOST_TEST(x.grad().value()(1) == 1.0);
  BOOST_TEST(y0.grad().value()(0) == 2.5);  // w + 2
  BOOST_TEST(y0.grad().value()(1) == 0.0);

  const Tensor64 a = uniform({3, 4}, 80), b = uniform({5, 4}, 81);
  Tensor64 weight = uniform({4, 6}, 82).set_requires_grad(true);
  const Tensor64 up1 = uniform({3, 6}, 83), up2 = uniform({5, 6}, 84);
  auto first = [&] { return ad::sum(ad::mul(ad::matmul(a, weight), up1)); };
  auto second = [&] { return ad::sum(ad::mul(ad::matmul(b, weight), up2)); };
  ad::add(first(), second()).backward();
  const Tensor64 together = weight.grad().detach();
  weight.zero_grad();
  first().backward();
  second().backward();
  BOOST_TEST(max_abs_diff(together, weight.grad()) < 1e-14);
}

BOOST_AUTO_TEST_CASE(no_grad_records_nothing) {
  const Tensor64 x = Tensor64::from_vector({1.0, 2.0}, {2}, true);
  {
    ad::NoGradGuard guard;
    BOOST_TEST(!ad::is_grad_enabled());
    const Tensor64 y = ad::mul(x, x);
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(y.is_leaf());
    CHECK_THROWS_WITH(y.backward(), "does not require grad");
  }
  BOOST_TEST(ad::is_grad_enabled());
  BOOST_TEST(ad::mul(x, x).requires_grad());
}

BOOST_AUTO_TEST_CASE(detach_cuts_the_graph) {
  const Tensor64 x = Tensor64::from_vector({3.0}, {1}, true);
  const Tensor64 y = ad::square(x);
  const Tensor64 d = y.detach();
  BOOST_TEST(!d.requires_grad());
  BOOST_TEST(d.item() == 9.0);
  // L = y · detach(y): gradient only through the first factor: 2x · 9 = 54
  ad::sum(ad::mul(y, d)).backward();
  BOOST_TEST(x.grad().item() == 54.0);
}

BOOST_AUTO_TEST_CASE(retain_graph_and_freed_graph) {
  const Tensor64 x = Tensor64::from_vector({2.0}, {1}, true);
  const Tensor64 loss = ad::sum(ad::exp(ad::mul(x, 0.5)));
  loss.backward(true);  // retain
  loss.backward();      // goes through again, then frees
  BOOST_TEST(std::abs(x.grad().item() - std::exp(1.0)) < 1e-12);  // 2 · 0.5·e
  CHECK_THROWS_WITH(loss.backward(), "already freed", "retain_graph");
}

BOOST_AUTO_TEST_CASE(non_scalar_output_needs_a_gradient) {
  const Tensor64 x = Tensor64::from_vector({1.0, 2.0}, {2}, true);
  const Tensor64 y = ad::mul(x, 3.0);
  CHECK_THROWS_WITH(y.backward(), "backward", "[2]", "not a scalar");
  CHECK_THROWS_WITH(y.backward(Tensor64::ones({3})), "backward", "[3]", "[2]");
  y.backward(Tensor64::from_vector({1.0, -1.0}, {2}));
  BOOST_TEST(x.grad().value()(1) == -3.0);
}

BOOST_AUTO_TEST_CASE(chain_of_100000_ops) {
  const Tensor64 x = Tensor64::from_vector({1.0}, {1}, true);
  Tensor64 y = x;
  for (int i = 0; i < 100000; ++i) y = ad::add(y, 1e-5);
  y = ad::mul(y, 2.0);
  ad::sum(y).backward();
  BOOST_TEST(x.grad().item() == 2.0);
  BOOST_TEST(std::abs(y.value()(0) - 4.0) < 1e-9);
  // and a chain that is never run backward is destroyed without recursion
  Tensor64 z = x;
  for (int i = 0; i < 100000; ++i) z = ad::mul(z, 1.0);
  z = Tensor64();
  BOOST_TEST(!z.defined());
}

BOOST_AUTO_TEST_CASE(grad_function_leaves_dot_grad_alone) {
  const Tensor64 x = Tensor64::from_vector({1.0, 2.0}, {2}, true), w = Tensor64::from_vector({3.0}, {1}, true);
  const Tensor64 unused = Tensor64::from_vector({5.0}, {1}, true);
  const Tensor64 y = ad::sum(ad::mul(x, w));
  const auto g = ad::grad(y, {x, w, unused});
  BOOST_TEST(g[0].value()(1) == 3.0);
  BOOST_TEST(g[1].item() == 3.0);
  BOOST_TEST(g[2].item() == 0.0);  // not reached: zeros
  BOOST_TEST(!x.grad().defined());
  // grad of an intermediate
  const Tensor64 h = ad::mul(x, 2.0);
  const Tensor64 l = ad::sum(ad::square(h));
  BOOST_TEST(ad::grad(l, {h})[0].value()(1) == 8.0);
}

BOOST_AUTO_TEST_CASE(retain_grad_on_intermediate) {
  const Tensor64 x = Tensor64::from_vector({1.0, 2.0}, {2}, true);
  Tensor64 h = ad::mul(x, 2.0);
  h.retain_grad();
  ad::sum(ad::square(h)).backward();
  BOOST_TEST(h.grad().value()(0) == 4.0);
  BOOST_TEST(x.grad().value()(0) == 8.0);
}

BOOST_AUTO_TEST_CASE(set_requires_grad_only_on_leaves) {
  const Tensor64 x = Tensor64::from_vector({1.0}, {1}, true);
  Tensor64 y = ad::mul(x, 2.0);
  CHECK_THROWS_WITH(y.set_requires_grad(false), "only leaves", "mul_scalar");
}

BOOST_AUTO_TEST_CASE(dot_export_names_ops_and_shapes) {
  Tensor64 w = Tensor64::zeros({784, 32}, true);
  w.set_name("encoder.weight");
  const Tensor64 x = Tensor64::zeros({16, 784});
  const Tensor64 loss = ad::mean(ad::square(ad::sigmoid(ad::matmul(x, w))));
  const std::string dot = ad::to_dot(loss);
  BOOST_TEST(dot.find("digraph") != std::string::npos);
  BOOST_TEST(dot.find("matmul\\n[16,32]") != std::string::npos);
  BOOST_TEST(dot.find("sigmoid") != std::string::npos);
  BOOST_TEST(dot.find("encoder.weight\\n[784,32]") != std::string::npos);
  BOOST_TEST(dot.find("->") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(create_graph_gradient_of_a_norm_of_gradients) {
  // The contractive pattern: penalty = ‖∂(sum h)/∂x‖², differentiated w.r.t. W.
  // h = σ(x W): ∂sum(h)/∂x = (h(1−h)) Wᵀ. gradgradcheck covers correctness; here: it runs and is finite.
  const Tensor64 x = uniform({4, 6}, 1), w = uniform({6, 3}, 2);
  const Tensor64 W = w.detach().set_requires_grad(true), X = x.detach().set_requires_grad(true);
  const Tensor64 h = ad::sigmoid(ad::matmul(X, W));
  const Tensor64 dx = ad::grad(ad::sum(h), {X}, Tensor64(), true, true)[0];
  const Tensor64 penalty = ad::sum(ad::square(dx));
  penalty.backward();
  BOOST_TEST(W.grad().defined());
  BOOST_TEST(std::isfinite(ad::sum(ad::square(W.grad())).item()));
}
