// Convolutions: a hand-computed output, the adjoint identity, gradcheck and gradgradcheck, errors.
#define BOOST_TEST_MODULE autodiff_conv
#include "helpers.hpp"

using namespace test;
using V = std::vector<Tensor64>;

// The convolution geometry most cases use: stride 2, padding 1 (the conv autoencoder's).
const ad::Conv2dOptions kStride2Pad1 = ad::Conv2dOptions().stride(2).padding(1);

BOOST_AUTO_TEST_CASE(conv2d_by_hand) {
  // 1×1×3×3 input 1..9, 2×2 kernel [[1,0],[0,-1]], stride 1, no padding: y = x[i,j] − x[i+1,j+1] = −4 everywhere.
  const Tensor64 x = Tensor64::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  const Tensor64 w = Tensor64::from_vector({1, 0, 0, -1}, {1, 1, 2, 2});
  const Tensor64 y = ad::conv2d(x, w);
  BOOST_TEST(y.shape() == (Shape{1, 1, 2, 2}));
  for (double v : y.value()) BOOST_TEST(v == -4.0);
  // padding 1, stride 2: output 2×2; the top-left sees only x[0,0] under the kernel's −1 tap: −1
  const Tensor64 yp = ad::conv2d(x, w, kStride2Pad1);
  BOOST_TEST(yp.shape() == (Shape{1, 1, 2, 2}));
  BOOST_TEST(yp.value()(0, 0, 0, 0) == -1.0);
  BOOST_TEST(yp.value()(0, 0, 1, 1) == 5.0 - 9.0);
  // bias is added per output channel
  const Tensor64 yb = ad::conv2d(x, w, Tensor64::from_vector({10}, {1}), {});
  BOOST_TEST(yb.value()(0, 0, 1, 1) == 6.0);
}

BOOST_AUTO_TEST_CASE(conv_transpose_is_the_adjoint_of_conv) {
  // <conv(x), y> = <x, convT(y)> for several geometries
  struct Case { Shape x, w; ad::Conv2dOptions opt; };
  using O = ad::Conv2dOptions;
  const std::vector<Case> cases = {{{2, 3, 7, 7}, {4, 3, 3, 3}, O().stride(1).padding(1)},
                                   {{2, 3, 8, 8}, {4, 3, 3, 3}, O().stride(2).padding(1)},
                                   {{1, 2, 9, 6}, {3, 2, 4, 2}, O().stride(3).padding(0)},
                                   {{2, 1, 28, 28}, {8, 1, 4, 4}, O().stride(2).padding(1)}};
  for (const auto& c : cases) {
    const Tensor64 x = uniform(c.x, 1), w = uniform(c.w, 2);
    const Tensor64 y = ad::conv2d(x, w, c.opt);
    const Tensor64 u = uniform(y.shape(), 3);
    const std::size_t oph = (c.x[2] + 2 * c.opt.padding() - c.w[2]) % c.opt.stride();
    const std::size_t opw = (c.x[3] + 2 * c.opt.padding() - c.w[3]) % c.opt.stride();
    const Tensor64 xt = ad::conv_transpose2d(u, w, c.opt, oph, opw);
    BOOST_TEST(xt.shape() == c.x);
    const double lhs = ad::sum(ad::mul(y, u)).item(), rhs = ad::sum(ad::mul(x, xt)).item();
    BOOST_TEST(std::abs(lhs - rhs) < 1e-10 * std::max(1.0, std::abs(lhs)));
  }
}

// The three convolutions written as loops over every index, for checking the blocked kernels.
struct Direct {
  std::size_t s, p;
  // y[n,o,i,j] = Σ_c,a,b w[o,c,a,b] · x[n,c,i·s−p+a, j·s−p+b]; each call visits every (output, tap) pair once.
  template <class F>
  void visit(const Shape& x, const Shape& w, std::size_t ho, std::size_t wo, F f) const {
    for (std::size_t n = 0; n < x[0]; ++n)
      for (std::size_t o = 0; o < w[0]; ++o)
        for (std::size_t i = 0; i < ho; ++i)
          for (std::size_t j = 0; j < wo; ++j)
            for (std::size_t c = 0; c < x[1]; ++c)
              for (std::size_t a = 0; a < w[2]; ++a)
                for (std::size_t b = 0; b < w[3]; ++b) {
                  const long yy = static_cast<long>(i * s + a) - static_cast<long>(p), xx = static_cast<long>(j * s + b) - static_cast<long>(p);
                  if (yy < 0 || xx < 0 || yy >= static_cast<long>(x[2]) || xx >= static_cast<long>(x[3])) continue;
                  f(((n * w[0] + o) * ho + i) * wo + j, ((n * x[1] + c) * x[2] + yy) * x[3] + xx, ((o * w[1] + c) * w[2] + a) * w[3] + b);
                }
  }
};

BOOST_AUTO_TEST_CASE(convolutions_in_blocks_of_samples_match_direct_loops) {
  // autodiff/conv.cpp goes over blocks of up to 8 samples: 19 samples are blocks of 8, 8 and 3. For each geometry,
  // the forward passes and the plain backward passes (with and without a bias, with and without the input's
  // gradient), each against loops.
  struct Case { Shape x, w; std::size_t s, p; };
  const std::vector<Case> cases = {{{19, 3, 6, 6}, {4, 3, 3, 3}, 2, 1},   // the conv AE's geometry
                                   {{9, 2, 7, 5}, {3, 2, 2, 3}, 1, 0},    // non-square kernel and image
                                   {{17, 1, 9, 9}, {5, 1, 4, 4}, 3, 2},   // stride 3, padding 2
                                   {{20, 2, 4, 6}, {3, 2, 1, 1}, 1, 0},   // 1×1 kernel
                                   {{1, 2, 5, 5}, {2, 2, 3, 3}, 1, 1}};   // one sample
  std::uint64_t seed = 40;
  for (const Case& k : cases) {
    const Direct d{k.s, k.p};
    const std::size_t ho = (k.x[2] + 2 * k.p - k.w[2]) / k.s + 1, wo = (k.x[3] + 2 * k.p - k.w[3]) / k.s + 1;
    const std::size_t oph = (k.x[2] + 2 * k.p - k.w[2]) % k.s, opw = (k.x[3] + 2 * k.p - k.w[3]) % k.s;
    const Shape xs = k.x, ws = k.w, ys{k.x[0], k.w[0], ho, wo};
    const ad::Conv2dOptions opt = ad::Conv2dOptions().stride(k.s).padding(k.p);
    const Tensor64 x = uniform(xs, seed++), w = uniform(ws, seed++), u = uniform(ys, seed++), h = uniform(xs, seed++);
    const Tensor64 b_out = uniform({ws[0]}, seed++), b_in = uniform({ws[1]}, seed++);
    auto conv = [&](const Tensor64& in, const Tensor64& kernel) {
      Tensor64 y = Tensor64::zeros(ys);
      d.visit(xs, ws, ho, wo, [&](std::size_t yi, std::size_t xi, std::size_t wi) { y.data()[yi] += kernel.data()[wi] * in.data()[xi]; });
      return y;
    };
    auto conv_t = [&](const Tensor64& out, const Tensor64& kernel) {
      Tensor64 r = Tensor64::zeros(xs);
      d.visit(xs, ws, ho, wo, [&](std::size_t yi, std::size_t xi, std::size_t wi) { r.data()[xi] += kernel.data()[wi] * out.data()[yi]; });
      return r;
    };
    auto weight_grad = [&](const Tensor64& in, const Tensor64& g) {
      Tensor64 r = Tensor64::zeros(ws);
      d.visit(xs, ws, ho, wo, [&](std::size_t yi, std::size_t xi, std::size_t wi) { r.data()[wi] += g.data()[yi] * in.data()[xi]; });
      return r;
    };
    auto channels = [](const Tensor64& bias) { return ad::reshape(bias, {1, bias.numel(), 1, 1}); };
    BOOST_TEST_CONTEXT("x " << ad::shape_str(xs) << ", w " << ad::shape_str(ws) << ", stride " << k.s << ", padding " << k.p) {
      BOOST_TEST(max_abs_diff(ad::conv2d(x, w, opt), conv(x, w)) < 1e-12);
      BOOST_TEST(max_abs_diff(ad::conv_transpose2d(u, w, opt, oph, opw), conv_t(u, w)) < 1e-12);
      BOOST_TEST(max_abs_diff(ad::conv2d_weight_grad(x, u, ws[2], ws[3], opt), weight_grad(x, u)) < 1e-12);
      {  // conv2d's backward, all three gradients from one pass over the blocks
        const Tensor64 xl = x.detach().set_requires_grad(true), wl = w.detach().set_requires_grad(true),
                       bl = b_out.detach().set_requires_grad(true);
        const Tensor64 y = ad::conv2d(xl, wl, bl, opt);
        BOOST_TEST(max_abs_diff(y, ad::add(conv(x, w), channels(b_out))) < 1e-12);
        ad::sum(ad::mul(y, u)).backward();
        BOOST_TEST(max_abs_diff(xl.grad(), conv_t(u, w)) < 1e-12);
        BOOST_TEST(max_abs_diff(wl.grad(), weight_grad(x, u)) < 1e-12);
        BOOST_TEST(max_abs_diff(bl.grad(), ad::sum(u, {0, 2, 3})) < 1e-12);
      }
      {  // the first layer's way: no gradient for the input
        const Tensor64 wl = w.detach().set_requires_grad(true), bl = b_out.detach().set_requires_grad(true);
        ad::sum(ad::mul(ad::conv2d(x, wl, bl, opt), u)).backward();
        BOOST_TEST(max_abs_diff(wl.grad(), weight_grad(x, u)) < 1e-12);
        BOOST_TEST(max_abs_diff(bl.grad(), ad::sum(u, {0, 2, 3})) < 1e-12);
      }
      {  // conv_transpose2d's backward, both gradients
        const Tensor64 ul = u.detach().set_requires_grad(true), wl = w.detach().set_requires_grad(true);
        ad::sum(ad::mul(ad::conv_transpose2d(ul, wl, opt, oph, opw), h)).backward();
        BOOST_TEST(max_abs_diff(ul.grad(), conv(h, w)) < 1e-12);
        BOOST_TEST(max_abs_diff(wl.grad(), weight_grad(h, u)) < 1e-12);
      }
      if (oph == opw) {  // conv_transpose2d with a bias (one output padding for both sides): all three gradients
        const Tensor64 ul = u.detach().set_requires_grad(true), wl = w.detach().set_requires_grad(true),
                       bl = b_in.detach().set_requires_grad(true);
        const Tensor64 xt = ad::conv_transpose2d(ul, wl, bl, opt, oph);
        BOOST_TEST(max_abs_diff(xt, ad::add(conv_t(u, w), channels(b_in))) < 1e-12);
        ad::sum(ad::mul(xt, h)).backward();
        BOOST_TEST(max_abs_diff(ul.grad(), conv(h, w)) < 1e-12);
        BOOST_TEST(max_abs_diff(wl.grad(), weight_grad(h, u)) < 1e-12);
        BOOST_TEST(max_abs_diff(bl.grad(), ad::sum(h, {0, 2, 3})) < 1e-12);
      }
    }
  }
  // an empty batch gives empty outputs and a zero weight gradient
  const Tensor64 w = uniform({4, 3, 3, 3}, 39), none = Tensor64::zeros({0, 3, 6, 6});
  BOOST_TEST(ad::conv2d(none, w, kStride2Pad1).shape() == (Shape{0, 4, 3, 3}));
  const Tensor64 dw0 = ad::conv2d_weight_grad(none, Tensor64::zeros({0, 4, 3, 3}), 3, 3, kStride2Pad1);
  BOOST_TEST(max_abs_diff(dw0, Tensor64::zeros(w.shape())) == 0.0);
}

BOOST_AUTO_TEST_CASE(gradcheck_conv2d) {
  CHECK_GRADCHECK([](const V& x) { return ad::conv2d(x[0], x[1]); }, uniform({2, 2, 5, 5}, 4), uniform({3, 2, 3, 3}, 5));
  CHECK_GRADCHECK([](const V& x) { return ad::conv2d(x[0], x[1], kStride2Pad1); }, uniform({2, 2, 6, 5}, 6), uniform({3, 2, 3, 3}, 7));
  CHECK_GRADCHECK([](const V& x) { return ad::conv2d(x[0], x[1], x[2], ad::Conv2dOptions().stride(1).padding(2)); }, uniform({1, 3, 4, 4}, 8),
                  uniform({2, 3, 2, 2}, 9), uniform({2}, 10));
}

BOOST_AUTO_TEST_CASE(gradcheck_conv_transpose2d) {
  CHECK_GRADCHECK([](const V& x) { return ad::conv_transpose2d(x[0], x[1]); }, uniform({2, 3, 4, 4}, 11),
                  uniform({3, 2, 3, 3}, 12));
  CHECK_GRADCHECK([](const V& x) { return ad::conv_transpose2d(x[0], x[1], kStride2Pad1, 1); }, uniform({2, 3, 3, 4}, 13),
                  uniform({3, 2, 3, 3}, 14));
  CHECK_GRADCHECK([](const V& x) { return ad::conv_transpose2d(x[0], x[1], x[2], kStride2Pad1, 1); }, uniform({1, 2, 3, 3}, 15),
                  uniform({2, 3, 4, 4}, 16), uniform({3}, 17));
  // ConvTranspose2d(k=4, s=2, p=1) doubles 7×7 to 14×14, as the conv decoder uses it
  BOOST_TEST(ad::conv_transpose2d(uniform({1, 2, 7, 7}, 18), uniform({2, 1, 4, 4}, 19), kStride2Pad1).shape() == (Shape{1, 1, 14, 14}));
}

BOOST_AUTO_TEST_CASE(gradcheck_conv2d_weight_grad) {
  CHECK_GRADCHECK([](const V& x) { return ad::conv2d_weight_grad(x[0], x[1], 3, 3, kStride2Pad1); }, uniform({2, 2, 5, 5}, 20),
                  uniform({2, 3, 3, 3}, 21));
}

BOOST_AUTO_TEST_CASE(gradgradcheck_convolutions) {
  CHECK_GRADGRADCHECK([](const V& x) { return ad::conv2d(x[0], x[1], kStride2Pad1); }, uniform({1, 2, 5, 5}, 22),
                      uniform({2, 2, 3, 3}, 23));
  CHECK_GRADGRADCHECK([](const V& x) { return ad::conv_transpose2d(x[0], x[1], kStride2Pad1, 1); }, uniform({1, 2, 3, 3}, 24),
                      uniform({2, 2, 3, 3}, 25));
  // a conv encoder with a smooth nonlinearity, the contractive penalty's deep case
  CHECK_GRADGRADCHECK([](const V& x) { return ad::tanh(ad::conv2d(x[0], x[1], x[2], kStride2Pad1)); }, uniform({1, 1, 6, 6}, 26),
                      uniform({2, 1, 3, 3}, 27), uniform({2}, 28));
}

BOOST_AUTO_TEST_CASE(conv_error_messages) {
  const ad::Tensor x = ad::Tensor::zeros({128, 16, 14, 14});
  CHECK_THROWS_WITH(ad::conv2d(x, ad::Tensor::zeros({32, 8, 3, 3})), "conv2d", "[128,16,14,14]", "[32,8,3,3]", "channels");
  CHECK_THROWS_WITH(ad::conv2d(ad::Tensor::zeros({16, 14, 14}), ad::Tensor::zeros({32, 16, 3, 3})), "conv2d", "4-D", "[16,14,14]");
  CHECK_THROWS_WITH(ad::conv2d(ad::Tensor::zeros({1, 1, 2, 2}), ad::Tensor::zeros({1, 1, 3, 3})), "conv2d", "smaller than the kernel");
  CHECK_THROWS_WITH(ad::conv2d(x, ad::Tensor::zeros({32, 16, 3, 3}), ad::Conv2dOptions().stride(0).padding(1)), "conv2d", "stride");
  CHECK_THROWS_WITH(ad::conv2d(x, ad::Tensor::zeros({32, 16, 3, 3}), ad::Tensor::zeros({16}), {}), "conv2d", "bias", "[16]", "32");
  CHECK_THROWS_WITH(ad::conv_transpose2d(x, ad::Tensor::zeros({8, 4, 3, 3})), "conv_transpose2d", "[128,16,14,14]", "[8,4,3,3]");
  CHECK_THROWS_WITH(ad::conv_transpose2d(x, ad::Tensor::zeros({16, 4, 3, 3}), kStride2Pad1, 2), "conv_transpose2d", "output_padding");
  CHECK_THROWS_WITH(ad::conv_transpose2d(x, ad::Tensor::zeros({16, 4, 3, 3}), ad::Tensor::zeros({16}), kStride2Pad1),
                    "conv_transpose2d", "bias", "[16]", "4 output channels");
}
