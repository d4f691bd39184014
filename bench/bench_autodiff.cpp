// The autodiff's matmul and conv2d cost against raw BLAS on the shapes the lessons use.
//   bench_autodiff [--reps N] [--threads T] [--mlp-batch B]
// Matmul: the MLP encoder's products forward and backward, [128,784]·[784,256] and [128,256]·[256,64]:
// per layer one forward GEMM and two backward GEMMs (dX, dW), timed through the autodiff (graph, backward,
// allocations) and as the same six ad::blas::gemm calls on preallocated buffers (both split over --threads T,
// the library's threads; OpenBLAS single-threaded inside).
// MLP step: one training step of bench_mlp's autoencoder 784-256-64-256-784 at batch B (--mlp-batch, 128) (zero_grad, forward, MSE,
// backward, Adam) against its GEMM-only bound: the step's 11 products (3 per layer, no dX for the input) as raw
// ad::blas::gemm calls on preallocated buffers. The share is bound / step: the fraction of the step spent in GEMMs
// if everything else were free.
// Conv: conv2d forward + backward on [128,16,14,14] with 32 3×3 filters, padding 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autodiff/blas.hpp"
#include "autodiff/parallel.hpp"
#include "autodiff/ops.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"

namespace {
using Clock = std::chrono::steady_clock;

template <class F>
double median_seconds(int reps, F&& f) {
  f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  int reps = 50, threads = 0;
  std::size_t mlp_batch = 128;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--mlp-batch" && i + 1 < argc) mlp_batch = static_cast<std::size_t>(std::atol(argv[++i]));
    else {
      std::fprintf(stderr, "usage: bench_autodiff [--reps N] [--threads T] [--mlp-batch B]\n");
      return 2;
    }
  }
  if (threads > 0) ad::set_num_threads(threads);
  std::printf("BLAS: %s (threads %d)\n", ad::blas::config().c_str(), ad::num_threads());

  ad::Generator gen(0);
  const std::size_t B = 128;
  const std::vector<std::pair<std::size_t, std::size_t>> layers = {{784, 256}, {256, 64}};

  // ---- raw sgemm: forward Y = X·W, backward dX = G·Wᵀ, dW = Xᵀ·G, per layer -----------------------
  std::vector<ad::Tensor> xs, ws, ys, gs, dxs, dws;
  double flops = 0;
  for (auto [in, out] : layers) {
    xs.push_back(ad::randn<float>({B, in}, gen));
    ws.push_back(ad::randn<float>({in, out}, gen, 0.f, 0.05f));
    ys.push_back(ad::Tensor::zeros({B, out}));
    gs.push_back(ad::randn<float>({B, out}, gen));
    dxs.push_back(ad::Tensor::zeros({B, in}));
    dws.push_back(ad::Tensor::zeros({in, out}));
    flops += 3 * 2.0 * B * in * out;
  }
  const double raw = median_seconds(reps, [&] {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const auto [in, out] = layers[l];
      ad::blas::gemm<float>(false, false, B, out, in, 1.f, xs[l].data(), in, ws[l].data(), out, 0.f, ys[l].data(), out);
    }
    for (std::size_t l = layers.size(); l-- > 0;) {
      const auto [in, out] = layers[l];
      ad::blas::gemm<float>(false, true, B, in, out, 1.f, gs[l].data(), out, ws[l].data(), out, 0.f, dxs[l].data(), in);
      ad::blas::gemm<float>(true, false, in, out, B, 1.f, xs[l].data(), in, gs[l].data(), out, 0.f, dws[l].data(), out);
    }
  });

  // ---- the same products through the autodiff: leaves X and W need gradients ---------------------
  std::vector<ad::Tensor> xl, wl;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    xl.push_back(xs[l].detach().set_requires_grad(true));
    wl.push_back(ws[l].detach().set_requires_grad(true));
  }
  const double autodiff = median_seconds(reps, [&] {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      xl[l].zero_grad();
      wl[l].zero_grad();
      ad::matmul(xl[l], wl[l]).backward(gs[l]);
    }
  });
  std::printf("matmul  [128,784]x[784,256] + [128,256]x[256,64], forward + backward (6 GEMMs, %.1f MFLOP)\n", flops / 1e6);
  std::printf("  raw BLAS calls  : %8.3f ms  %6.1f GFLOP/s\n", raw * 1e3, flops / raw / 1e9);
  std::printf("  autodiff        : %8.3f ms  %6.1f GFLOP/s\n", autodiff * 1e3, flops / autodiff / 1e9);
  std::printf("  overhead ratio  : %.3f (target <= 1.10)\n", autodiff / raw);

  // ---- one MLP training step against its GEMMs ----------------------------------------------------
  const std::vector<std::size_t> widths = {784, 256, 64, 256, 784};
  std::vector<std::shared_ptr<nn::Module>> mods;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    mods.push_back(std::make_shared<nn::Linear>(widths[l], widths[l + 1], gen));
    if (l + 2 < widths.size()) mods.push_back(std::make_shared<nn::ReLU>());
  }
  mods.push_back(std::make_shared<nn::Sigmoid>());
  nn::Sequential mlp(mods);
  nn::Adam adam(mlp.named_parameters(), 1e-3);
  const ad::Tensor batch = ad::rand_uniform<float>({mlp_batch, 784}, gen, 0.f, 1.f);
  const double step = median_seconds(reps, [&] {
    adam.zero_grad();
    nn::mse_loss(mlp(batch), batch).backward();
    adam.step();
  });
  std::vector<ad::Tensor> acts, grads, wts, wgrads;
  double step_flops = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
    acts.push_back(ad::rand_uniform<float>({mlp_batch, widths[l]}, gen, 0.f, 1.f));
    grads.push_back(ad::randn<float>({mlp_batch, widths[l + 1]}, gen));
    wts.push_back(ad::randn<float>({widths[l + 1], widths[l]}, gen, 0.f, 0.05f));
    wgrads.push_back(ad::Tensor::zeros({widths[l + 1], widths[l]}));
    step_flops += (l == 0 ? 2 : 3) * 2.0 * static_cast<double>(mlp_batch) * widths[l] * widths[l + 1];
  }
  acts.push_back(ad::Tensor::zeros({mlp_batch, 784}));
  std::vector<ad::Tensor> dacts;
  for (std::size_t l = 0; l < widths.size(); ++l) dacts.push_back(ad::Tensor::zeros({mlp_batch, widths[l]}));
  const ad::Tensor bias_row = ad::Tensor::zeros({784});
  const double bound = median_seconds(reps, [&] {
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {  // Y = X Wᵀ + b
      const std::size_t in = widths[l], out = widths[l + 1];
      ad::blas::gemm<float>(false, true, mlp_batch, out, in, 1.f, acts[l].data(), in, wts[l].data(), in, 0.f, acts[l + 1].data(),
                            out, bias_row.data());
    }
    for (std::size_t l = widths.size() - 1; l-- > 0;) {
      const std::size_t in = widths[l], out = widths[l + 1];
      ad::blas::gemm<float>(true, false, out, in, mlp_batch, 1.f, grads[l].data(), out, acts[l].data(), in, 0.f,
                            wgrads[l].data(), in);  // dW = Gᵀ X
      if (l > 0)  // dX = G W
        ad::blas::gemm<float>(false, false, mlp_batch, in, out, 1.f, grads[l].data(), out, wts[l].data(), in, 0.f,
                              dacts[l].data(), in);
    }
  });
  std::printf("MLP step 784-256-64-256-784, batch %zu (zero_grad, forward, MSE, backward, Adam; %.1f MFLOP in 11 GEMMs)\n",
              mlp_batch, step_flops / 1e6);
  std::printf("  GEMMs alone     : %8.3f ms  %6.1f GFLOP/s\n", bound * 1e3, step_flops / bound / 1e9);
  std::printf("  training step   : %8.3f ms\n", step * 1e3);
  std::printf("  GEMM share      : %.2f (target >= 0.60)\n", bound / step);

  // ---- conv2d forward + backward -------------------------------------------------------------------
  const ad::Tensor cx = ad::randn<float>({128, 16, 14, 14}, gen).set_requires_grad(true);
  const ad::Tensor cw = ad::randn<float>({32, 16, 3, 3}, gen, 0.f, 0.1f).set_requires_grad(true);
  const ad::Tensor cg = ad::randn<float>({128, 32, 14, 14}, gen);
  const double conv_flops = 3 * 2.0 * 128 * 32 * 14 * 14 * (16 * 9);
  const double conv = median_seconds(std::max(3, reps / 5), [&] {
    ad::Tensor x = cx, w = cw;
    x.zero_grad();
    w.zero_grad();
    ad::conv2d(x, w, ad::Conv2dOptions().stride(1).padding(1)).backward(cg);
  });
  // the three GEMMs of the same convolution alone, over the whole batch on im2col-shaped buffers (the library
  // goes over blocks of 8 samples whose buffers stay in cache, so the ratio can come close to 1)
  const std::size_t P = 128 * 14 * 14, K = 16 * 9, O = 32;
  std::vector<float> cols(K * P, 0.5f), y(O * P), dcols(K * P), dw(O * K), wmat(O * K, 0.1f), g(O * P, 1.f);
  const double conv_gemm = median_seconds(std::max(3, reps / 5), [&] {
    ad::blas::gemm<float>(false, false, O, P, K, 1.f, wmat.data(), K, cols.data(), P, 0.f, y.data(), P);
    ad::blas::gemm<float>(true, false, K, P, O, 1.f, wmat.data(), K, g.data(), P, 0.f, dcols.data(), P);
    ad::blas::gemm<float>(false, true, O, K, P, 1.f, g.data(), P, cols.data(), P, 0.f, dw.data(), K);
  });
  std::printf("conv2d  [128,16,14,14] * [32,16,3,3] pad 1, forward + backward (%.1f MFLOP)\n", conv_flops / 1e6);
  std::printf("  GEMMs alone     : %8.3f ms  %6.1f GFLOP/s\n", conv_gemm * 1e3, conv_flops / conv_gemm / 1e9);
  std::printf("  autodiff        : %8.3f ms  %6.1f GFLOP/s (im2col + GEMM + col2im + layout)\n", conv * 1e3,
              conv_flops / conv / 1e9);
  std::printf("  overhead ratio  : %.3f\n", conv / conv_gemm);
  std::printf("{\"matmul_raw_ms\": %.4f, \"matmul_autodiff_ms\": %.4f, \"matmul_ratio\": %.4f, \"conv_ms\": %.4f, "
              "\"conv_gemm_ms\": %.4f, \"conv_ratio\": %.4f, \"mlp_step_ms\": %.4f, \"mlp_gemm_ms\": %.4f, "
              "\"mlp_gemm_share\": %.4f, \"blas\": \"%s\"}\n",
              raw * 1e3, autodiff * 1e3, autodiff / raw, conv * 1e3, conv_gemm * 1e3, conv / conv_gemm, step * 1e3,
              bound * 1e3, bound / step,
              ad::blas::config().c_str());
  return 0;
}
