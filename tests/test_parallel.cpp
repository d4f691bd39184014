// The library's threads (autodiff/parallel.hpp): parallel_for covers its range once, passes exceptions on,
// nests and shares safely; kernels split over threads give the single-thread results; training is
// deterministic for a given seed and thread count.
#define BOOST_TEST_MODULE parallel
#include <atomic>
#include <functional>
#include <utility>
#include <stdexcept>
#include <thread>

#include "autodiff/blas.hpp"
#include "autodiff/denormals.hpp"
#include "autodiff/parallel.hpp"
#include "helpers.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"

using namespace test;

namespace {
// The convolution geometry most cases use: stride 2, padding 1 (the conv autoencoder's).
const ad::Conv2dOptions kStride2Pad1 = ad::Conv2dOptions().stride(2).padding(1);
// Restores the thread count a test changed.
struct Threads {
  explicit Threads(int n) : previous(ad::num_threads()) { ad::set_num_threads(n); }
  ~Threads() { ad::set_num_threads(previous); }
  int previous;
};

ad::Tensor random_float(const Shape& shape, std::uint64_t seed) {
  ad::Generator gen(seed);
  return ad::randn<float>(shape, gen);
}

bool bit_identical(const ad::Tensor& a, const ad::Tensor& b) {
  if (a.shape() != b.shape()) return false;
  return std::equal(a.data(), a.data() + a.numel(), b.data());
}

// Largest difference relative to the largest magnitude of a.
float max_rel_diff(const ad::Tensor& a, const ad::Tensor& b) {
  float diff = 0, scale = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, std::abs(a.data()[i] - b.data()[i]));
    scale = std::max(scale, std::abs(a.data()[i]));
  }
  return diff / std::max(scale, 1e-30f);
}

// Runs `run` on one thread, then on 2, 3 and 4: each result equal to one thread's (< 1e-6 relative) and the same
// bits when repeated. Returns one thread's results.
std::vector<ad::Tensor> check_against_one_thread(const std::function<std::vector<ad::Tensor>()>& run) {
  std::vector<ad::Tensor> one;
  {
    Threads t(1);
    one = run();
  }
  for (const int threads : {2, 3, 4}) {
    Threads t(threads);
    const std::vector<ad::Tensor> many = run(), again = run();
    for (std::size_t i = 0; i < one.size(); ++i) {
      BOOST_TEST(max_rel_diff(one[i], many[i]) < 1e-6f, "product " << i << ", " << threads << " threads");
      BOOST_TEST(bit_identical(many[i], again[i]), "product " << i << " repeated, " << threads << " threads");
    }
  }
  return one;
}

// The raw kernel on two threads, C = 0.5·op(A)·B + 2·C and C = row + op(A)·B, against `product` = op(A)·B [m, n]
// computed on one thread: the worst differences relative to max(1, |expected|) of the two.
std::pair<double, double> raw_kernel_error(bool ta, std::size_t k, const ad::Tensor& a, const ad::Tensor& b,
                                           const ad::Tensor& product, std::uint64_t seed) {
  Threads t(2);
  const std::size_t m = product.size(0), n = product.size(1);
  const ad::Tensor c0 = random_float({m, n}, seed), row = random_float({n}, seed + 1);
  std::vector<float> c(c0.data(), c0.data() + m * n), with_row(m * n);
  ad::blas::gemm<float>(ta, false, m, n, k, 0.5f, a.data(), a.size(1), b.data(), n, 2.f, c.data(), n);
  ad::blas::gemm<float>(ta, false, m, n, k, 1.f, a.data(), a.size(1), b.data(), n, 0.f, with_row.data(), n, row.data());
  double worst = 0, worst_row = 0;
  for (std::size_t i = 0; i < m * n; ++i) {
    const double p = product.data()[i], want = 0.5 * p + 2.0 * c0.data()[i], want_row = p + row.data()[i % n];
    worst = std::max(worst, std::abs(c[i] - want) / std::max(1.0, std::abs(want)));
    worst_row = std::max(worst_row, std::abs(with_row[i] - want_row) / std::max(1.0, std::abs(want_row)));
  }
  return {worst, worst_row};
}
}  // namespace

BOOST_AUTO_TEST_CASE(parallel_for_covers_every_index_once_in_aligned_chunks) {
  for (int threads : {1, 2, 3, 4}) {
    Threads t(threads);
    BOOST_TEST(ad::num_threads() == threads);
    for (std::size_t n : {0u, 1u, 7u, 31u, 32u, 33u, 1000u, 4099u}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> chunks{0};
      std::atomic<bool> misaligned{false};
      ad::parallel_for(n, 8, [&](std::size_t b, std::size_t e) {
        ++chunks;
        if (b % 16 != 0) misaligned = true;
        for (std::size_t i = b; i < e; ++i) ++hits[i];
      }, 16);
      for (std::size_t i = 0; i < n; ++i) BOOST_TEST(hits[i].load() == 1);
      BOOST_TEST(chunks.load() <= threads);
      BOOST_TEST(!misaligned.load());
      if (n >= 2 * 16 * static_cast<std::size_t>(threads)) BOOST_TEST(chunks.load() == threads);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_exception_in_any_chunk_reaches_the_caller_and_the_pool_keeps_working) {
  Threads t(2);
  for (std::size_t failing : {0u, 900u}) {  // the caller's chunk, then the worker's
    BOOST_CHECK_EXCEPTION(ad::parallel_for(1000, 1, [&](std::size_t b, std::size_t e) {
                            if (failing >= b && failing < e) throw ad::Error("chunk " + std::to_string(b) + " failed");
                          }),
                          ad::Error, [](const ad::Error& e) { return std::string(e.what()).find("failed") != std::string::npos; });
  }
  std::atomic<std::size_t> total{0};
  ad::parallel_for(1000, 1, [&](std::size_t b, std::size_t e) { total += e - b; });
  BOOST_TEST(total.load() == 1000u);
}

BOOST_AUTO_TEST_CASE(nested_and_concurrent_calls_run_serially_and_correctly) {
  Threads t(2);
  std::atomic<std::size_t> inner{0};
  ad::parallel_for(64, 1, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) ad::parallel_for(100, 1, [&](std::size_t ib, std::size_t ie) { inner += ie - ib; });
  });
  BOOST_TEST(inner.load() == 6400u);
  std::atomic<int> seen_threads{0};
  ad::parallel_for(64, 1, [&](std::size_t, std::size_t) { seen_threads = ad::num_threads(); });
  BOOST_TEST(seen_threads.load() == 1);
  BOOST_CHECK_THROW(ad::parallel_for(64, 1, [&](std::size_t, std::size_t) { ad::set_num_threads(3); }), ad::Error);
  BOOST_TEST(ad::num_threads() == 2);
  // Two user threads at once: one gets the pool, the other runs its loop itself; both finish right.
  std::atomic<std::size_t> sums[2] = {0, 0};
  auto job = [&](int k) {
    for (int rep = 0; rep < 200; ++rep)
      ad::parallel_for(1000, 1, [&](std::size_t b, std::size_t e) { sums[k] += e - b; });
  };
  std::thread other(job, 1);
  job(0);
  other.join();
  BOOST_TEST(sums[0].load() == 200000u);
  BOOST_TEST(sums[1].load() == 200000u);
}

BOOST_AUTO_TEST_CASE(every_chunk_runs_in_the_callers_flush_to_zero_mode) {
  // 1e-20² = 1e-40 is subnormal: 0 under ad::FlushDenormals, on whichever thread computes it, and not 0 outside.
  // (Checked outside the scope: with DAZ on, a subnormal also compares equal to 0.)
  Threads t(2);
  volatile float tiny = 1e-20f;
  const std::thread::id caller = std::this_thread::get_id();
  struct Chunk {
    float product = -1;
    bool on_worker = false;
  };
  auto run = [&] {
    std::vector<Chunk> chunks(2);
    std::atomic<int> started{0};
    ad::parallel_for(2, 1, [&](std::size_t b, std::size_t e) {
      ++started;
      for (int spins = 0; started < 2 && spins < 1000000; ++spins) {}  // wait a little for the other thread
      for (std::size_t i = b; i < e; ++i) chunks[i] = {tiny * tiny, std::this_thread::get_id() != caller};
    });
    return chunks;
  };
  bool worker_ran_flushed = false, worker_ran_plain = false;
  for (int attempt = 0; attempt < 200 && !(worker_ran_flushed && worker_ran_plain); ++attempt) {
    std::vector<Chunk> flushed;
    {
      const ad::FlushDenormals ftz;
      flushed = run();
    }
    const std::vector<Chunk> plain = run();  // and the workers leave the mode with the caller
    for (std::size_t i = 0; i < 2; ++i) {
      BOOST_TEST(flushed[i].product == 0.0f, "flushed, chunk " << i << ": " << flushed[i].product);
      BOOST_TEST(plain[i].product > 0.0f, "plain, chunk " << i << ": " << plain[i].product);
      worker_ran_flushed = worker_ran_flushed || flushed[i].on_worker;
      worker_ran_plain = worker_ran_plain || plain[i].on_worker;
    }
  }
  BOOST_TEST(worker_ran_flushed);
  BOOST_TEST(worker_ran_plain);
}

BOOST_AUTO_TEST_CASE(elementwise_kernels_are_bit_identical_whatever_the_thread_count) {
  const ad::Tensor a = random_float({96, 700}, 1), b = random_float({96, 700}, 2), bias = random_float({700}, 3);
  const ad::Tensor maps = random_float({32, 16, 10, 10}, 4);  // sums to [1,C,1,1] are split by channels
  const ad::Tensor tall = random_float({600, 50}, 5);  // a sum over rows in ten blocks of 64 rows (and a tail)
  auto run = [&] {
    return std::vector<ad::Tensor>{ad::add(a, b), ad::mul(a, b), ad::mul(a, 0.5f), ad::sigmoid(a), ad::tanh(a),
                                   ad::relu(a), ad::leaky_relu(a, 0.2f), ad::softplus(a), ad::exp(a), ad::square(a),
                                   ad::relu_grad(b, a), ad::sigmoid_grad(b, ad::sigmoid(a)), ad::sum(a, {0}),
                                   ad::broadcast_to(ad::Tensor::scalar(3.f), {96, 700}), ad::add(a, bias),
                                   ad::sum_to(maps, {1, 16, 1, 1}), ad::sum_to(maps, {16, 1, 1}), ad::sum_to(maps, {32, 1, 10, 10}),
                                   ad::reshape(a, {700, 96}), ad::sum(tall, {0})};
  };
  std::vector<ad::Tensor> one, two;
  {
    Threads t(1);
    one = run();
  }
  {
    Threads t(2);
    two = run();
  }
  for (std::size_t i = 0; i < one.size(); ++i) BOOST_TEST(bit_identical(one[i], two[i]), "result " << i);
}

// Generator::normals draws the uniforms in order and transforms them on the threads: the same numbers as normal()
// called one at a time, including the spare an odd count leaves for the next call.
BOOST_AUTO_TEST_CASE(bulk_normals_are_the_numbers_normal_gives_one_at_a_time) {
  Threads t(2);
  ad::Generator one(11), bulk(11);
  for (std::size_t n : {0, 1, 2, 7, 100001, 3, 20000}) {
    std::vector<double> want(n), got(n);
    for (double& e : want) e = one.normal();
    bulk.normals(got.data(), n);
    BOOST_TEST(std::equal(want.begin(), want.end(), got.begin()), "a batch of " << n);
  }
  BOOST_TEST(one.normal() == bulk.normal());
  BOOST_TEST(one.uniform() == bulk.uniform());
}

// The bulk noise of the corruptions (Generator::noise_uniform / noise_normal): element i is a function of the key
// (one engine number per call) and i alone, so one thread and two give the same bits; the fast float kernels give
// the hash and the Box–Muller formula written out in double (counter_hash, noise_normal_pair).
BOOST_AUTO_TEST_CASE(bulk_noise_is_the_formula_and_the_same_on_any_thread_count) {
  const std::size_t n = 200001;  // odd: the last pair fills one element
  auto draw = [&](int threads, bool normal) {
    Threads t(threads);
    ad::Generator gen(5);
    std::vector<float> out(n);
    if (normal) gen.noise_normal(out.data(), n);
    else gen.noise_uniform(out.data(), n);
    return std::make_pair(out, gen.next_u64());
  };
  for (bool normal : {false, true}) {
    const auto [one, after_one] = draw(1, normal);
    const auto [two, after_two] = draw(2, normal);
    BOOST_TEST(std::equal(one.begin(), one.end(), two.begin()), (normal ? "normal" : "uniform"));
    ad::Generator engine(5);
    const std::uint64_t key = engine.next_u64();
    BOOST_TEST(after_one == engine.next_u64());  // one engine number per call
    BOOST_TEST(after_two == after_one);
    if (!normal) {
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < n; ++i)
        wrong += one[i] != static_cast<float>(static_cast<double>(ad::Generator::counter_hash(key, i) >> 40) * 0x1.0p-24);
      BOOST_TEST(wrong == 0u);
    }
    const std::size_t half = (n + 1) / 2;
    double worst = 0;
    std::size_t loose = 0;
    for (std::size_t p = 0; p < half; ++p) {
      const std::uint64_t h = ad::Generator::counter_hash(key, p);
      if (!normal) continue;
      double c, s;
      ad::Generator::noise_normal_pair(h, c, s);
      const double dc = std::abs(one[p] - c), ds = half + p < n ? std::abs(one[half + p] - s) : 0.0;
      worst = std::max({worst, dc, ds});
      loose += (dc > 2e-6) + (ds > 2e-6);
    }
    if (normal) {
      // float rounding of u₁ = (k + 1)/2³² moves r = √(−2 ln u₁) most where u₁ ≈ 1 (r ≈ 0): there by up to 1e-4
      BOOST_TEST(worst < 2e-4);
      BOOST_TEST(loose < n / 1000, loose << " of " << n << " elements differ by more than 2e-6");
    }
  }
  // the hash is SplitMix64: from state 0, its first outputs are these (Vigna's splitmix64.c)
  BOOST_TEST(ad::Generator::counter_hash(0, 0) == 0xE220A8397B1DCDAFull);
  BOOST_TEST(ad::Generator::counter_hash(0, 1) == 0x6E789E6AA1B965F4ull);
}

// The numbers have the distributions they claim: moments, the tails and a Kolmogorov–Smirnov distance, on 10⁶
// draws (the bounds are 5 standard errors, or the KS test at the 0.1 % level); two calls draw different numbers.
BOOST_AUTO_TEST_CASE(bulk_noise_has_its_distribution) {
  const std::size_t n = 1000000;
  ad::Generator gen(17);
  std::vector<float> z(n), u(n), z2(n);
  gen.noise_normal(z.data(), n);
  gen.noise_uniform(u.data(), n);
  gen.noise_normal(z2.data(), n);
  double m = 0, v = 0, k4 = 0, tail = 0, mu = 0, vu = 0, same = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m += z[i];
    v += double(z[i]) * z[i];
    k4 += std::pow(double(z[i]), 4);
    tail += std::abs(z[i]) > 3.0f;
    mu += u[i];
    vu += (u[i] - 0.5) * (u[i] - 0.5);
    same += z[i] == z2[i];
    BOOST_REQUIRE(u[i] >= 0.0f && u[i] < 1.0f);
    BOOST_REQUIRE(std::isfinite(z[i]));
  }
  m /= n, v /= n, k4 /= n, tail /= n, mu /= n, vu /= n;
  BOOST_TEST(std::abs(m) < 5 / std::sqrt(double(n)));
  BOOST_TEST(std::abs(v - 1) < 5 * std::sqrt(2.0 / n));
  BOOST_TEST(std::abs(k4 - 3) < 5 * std::sqrt(96.0 / n));             // E z⁴ = 3, Var z⁴ = 96
  BOOST_TEST(std::abs(tail - 0.0026998) < 5 * std::sqrt(0.0027 / n));  // P(|z| > 3)
  BOOST_TEST(std::abs(mu - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  BOOST_TEST(std::abs(vu - 1.0 / 12) < 5 * std::sqrt(1.0 / 180 / n));
  BOOST_TEST(same < 10);
  auto ks = [&](std::vector<float> x, auto cdf) {
    std::sort(x.begin(), x.end());
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double f = cdf(double(x[i]));
      d = std::max({d, std::abs(f - double(i) / n), std::abs(f - double(i + 1) / n)});
    }
    return d;
  };
  const double ks_bound = 1.95 / std::sqrt(double(n));  // P(D > 1.95/√n) ≈ 0.001
  BOOST_TEST(ks(z, [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }) < ks_bound);
  BOOST_TEST(ks(u, [](double x) { return x; }) < ks_bound);
}

// A tensor used three times gets three gradients, added on the threads (autodiff/tensor.cpp, add_into): the sum is
// the same whatever the thread count, and the same as the formula's; a second backward adds into .grad.
BOOST_AUTO_TEST_CASE(gradients_of_a_shared_tensor_add_up_on_the_threads_as_on_one) {
  const ad::Tensor w0 = random_float({96, 700}, 5), x = random_float({96, 700}, 6);
  auto grad = [&](int threads) {
    Threads t(threads);
    ad::Tensor w = w0.detach();
    w.set_requires_grad(true);
    for (int pass = 0; pass < 2; ++pass)  // d/dw Σ (w·x + 3w + w²) = x + 3 + 2w, twice
      ad::sum(ad::add(ad::add(ad::mul(w, x), ad::mul(w, 3.f)), ad::square(w))).backward();
    return w.grad();
  };
  const ad::Tensor one = grad(1), two = grad(2);
  BOOST_TEST(bit_identical(one, two));
  float worst = 0;
  for (std::size_t i = 0; i < one.numel(); ++i) {
    const float want = 2 * (x.data()[i] + 3 + 2 * w0.data()[i]);
    worst = std::max(worst, std::abs(one.data()[i] - want) / std::max(1.f, std::abs(want)));
  }
  BOOST_TEST(worst < 1e-6f);
}

BOOST_AUTO_TEST_CASE(convolution_and_batch_norm_in_blocks_of_samples_match_one_thread) {
  // Convolutions go over blocks of 8 samples, each block's product on one thread and the weight gradient's block
  // sums added in order; batch norm over blocks of 8 samples the same way; the bias add by samples. So a conv
  // layer's forward and backward give the same bits on 1, 2 and 3 threads, for 64 samples and for 61 (the last
  // block of 5).
  for (const std::size_t n : {64, 61}) {
    const ad::Tensor x = random_float({n, 8, 14, 14}, 20), w = random_float({16, 8, 3, 3}, 21);
    const ad::Tensor bias = random_float({16}, 22), gamma = random_float({16}, 23), beta = random_float({16}, 24);
    const ad::Tensor up_grad = random_float({n, 8, 14, 14}, 25);
    auto run = [&] {
      const ad::Tensor xl = x.detach().set_requires_grad(true), wl = w.detach().set_requires_grad(true);
      const ad::Tensor bl = bias.detach().set_requires_grad(true), up_bias = random_float({8}, 26).set_requires_grad(true);
      const ad::Tensor y = ad::batch_norm(ad::conv2d(xl, wl, bl, kStride2Pad1), gamma, beta, 1e-5);
      const ad::Tensor up = ad::conv_transpose2d(y, wl, up_bias, kStride2Pad1, 1);
      ad::sum(ad::mul(up, up_grad)).backward();
      return std::vector<ad::Tensor>{y, up, xl.grad(), wl.grad(), bl.grad(), up_bias.grad()};
    };
    std::vector<ad::Tensor> one;
    {
      Threads t(1);
      one = run();
    }
    for (const int threads : {2, 3}) {
      Threads t(threads);
      const std::vector<ad::Tensor> many = run();
      for (std::size_t i = 0; i < one.size(); ++i)
        BOOST_TEST(bit_identical(one[i], many[i]), "conv result " << i << ", " << n << " samples, " << threads << " threads");
    }
  }
  const ad::Tensor x = random_float({64, 8, 14, 14}, 20);
  // Batch norm forward and backward alone: the same bits on 1, 2 and 3 threads, for 64 samples (8 blocks) and
  // for 61 (the last block of 5).
  for (const std::size_t n : {64, 61}) {
    const ad::Tensor xn = ad::slice(x, 0, 0, n), up = random_float({n, 8, 14, 14}, 29);
    auto norm = [&] {
      const ad::Tensor xl = xn.detach().set_requires_grad(true), gamma8 = random_float({8}, 27).set_requires_grad(true);
      const ad::Tensor y = ad::batch_norm(xl, gamma8, random_float({8}, 28), 1e-5);
      ad::sum(ad::mul(y, up)).backward();
      return std::vector<ad::Tensor>{y, xl.grad(), gamma8.grad()};
    };
    std::vector<ad::Tensor> norm_one;
    {
      Threads t(1);
      norm_one = norm();
    }
    for (const int threads : {2, 3}) {
      Threads t(threads);
      const std::vector<ad::Tensor> norm_n = norm();
      for (std::size_t i = 0; i < norm_one.size(); ++i)
        BOOST_TEST(bit_identical(norm_one[i], norm_n[i]), "batch norm result " << i << ", " << n << " samples, " << threads << " threads");
    }
  }
}

BOOST_AUTO_TEST_CASE(split_matrix_products_match_the_single_threaded_ones) {
  // Large enough to be split (m·n·k ≥ 2^18), every transpose: by rows (m ≥ 64), by columns (m < 64, n ≥ 256;
  // or x·Wᵀ with n ≥ 3m), and by the sum (m < 64, n < 256, k ≥ 4096: three parts of k = 7000 on three threads).
  const ad::Tensor x = random_float({128, 300}, 4), w = random_float({300, 200}, 5), wide = random_float({300, 520}, 6);
  const ad::Tensor tall_w = random_float({520, 300}, 25), x_t = random_float({300, 128}, 26);
  const ad::Tensor few_rows = random_float({40, 300}, 7);
  const ad::Tensor long_a = random_float({24, 7000}, 15), long_b = random_float({7000, 100}, 16);
  const ad::Tensor long_at = random_float({7000, 24}, 17), long_bt = random_float({100, 7000}, 18);
  auto run = [&] {
    return std::vector<ad::Tensor>{ad::matmul(x, w), ad::matmul(x, wide), ad::matmul(x, x, false, true),
                                   ad::matmul(x, x, true, false), ad::matmul(w, x, true, true),
                                   ad::matmul(x, tall_w, false, true), ad::matmul(x_t, tall_w, true, true),
                                   ad::matmul(few_rows, wide), ad::matmul(few_rows, x, false, true),
                                   ad::matmul(long_a, long_b), ad::matmul(long_at, long_b, true, false),
                                   ad::matmul(long_a, long_bt, false, true), ad::matmul(long_at, long_bt, true, true)};
  };
  std::vector<ad::Tensor> one, three;
  {
    Threads t(1);
    one = run();
  }
  {
    Threads t(3);
    three = run();
  }
  // Some OpenBLAS kernels (Haswell's) round differently on a smaller block: equal to float precision.
  for (std::size_t i = 0; i < one.size(); ++i) BOOST_TEST(max_rel_diff(one[i], three[i]) < 1e-6f, "product " << i << ": " << max_rel_diff(one[i], three[i]));
}

BOOST_AUTO_TEST_CASE(weight_gradients_split_by_the_batch_match_the_single_threaded_ones) {
  // Aᵀ·B summed over a long batch (k ≥ m) is split by its sum, each thread's copy of C added up by rows: a linear
  // layer's weight gradient at batch 512, a 3-part split of a 500-row batch, and k = 129 on four threads, whose
  // last part is empty (parts of 48 rows: 0-48, 48-96, 96-129 and none).
  const ad::Tensor g = random_float({512, 256}, 30), x = random_float({512, 300}, 31);
  const ad::Tensor g3 = random_float({500, 64}, 32), x3 = random_float({500, 784}, 33);
  const ad::Tensor a4 = random_float({129, 40}, 34), b4 = random_float({129, 60}, 35);
  const std::vector<ad::Tensor> one = check_against_one_thread([&] {
    return std::vector<ad::Tensor>{ad::matmul(g, x, true, false), ad::matmul(g3, x3, true, false),
                                   ad::matmul(a4, b4, true, false)};
  });
  // through the raw kernel, with alpha and beta and with a bias row, split by the batch on two threads
  BOOST_TEST((ad::blas::split_for(true, false, 256, 300, 512, 2) == ad::blas::Split::sum));
  const auto [worst, worst_row] = raw_kernel_error(true, 512, g, x, one[0], 36);
  BOOST_TEST(worst < 1e-5);
  BOOST_TEST(worst_row < 1e-5);
}

BOOST_AUTO_TEST_CASE(products_with_a_weight_split_so_each_thread_reads_its_own_rows_of_it) {
  // The split chosen for the MLP 784-256-64-256-784's products on two threads (the measured cases behind the rule):
  using ad::blas::Split;
  using ad::blas::split_for;
  // x·Wᵀ, the first layer: by W's rows (C's columns) at batch 128, by the batch at 512; the last layer alike
  BOOST_TEST((split_for(false, true, 128, 256, 784, 2) == Split::columns));
  BOOST_TEST((split_for(false, true, 512, 256, 784, 2) == Split::rows));
  BOOST_TEST((split_for(false, true, 128, 784, 256, 2) == Split::columns));
  BOOST_TEST((split_for(false, true, 512, 784, 256, 2) == Split::rows));
  // G·W, the last layer's input gradient: by its sum over W's rows at batch 128, by the batch at 512
  BOOST_TEST((split_for(false, false, 128, 256, 784, 2) == Split::sum));
  BOOST_TEST((split_for(false, false, 512, 256, 784, 2) == Split::rows));
  // Gᵀ·x, the first layer's weight gradient: by W's rows at batch 128, by the batch at 512
  BOOST_TEST((split_for(true, false, 256, 784, 128, 2) == Split::rows));
  BOOST_TEST((split_for(true, false, 256, 784, 512, 2) == Split::sum));
  BOOST_TEST((split_for(false, false, 32, 64, 64, 2) == Split::none));    // too small to split
  BOOST_TEST((split_for(false, true, 128, 256, 784, 1) == Split::none));  // one thread

  // Both splits give the single-threaded numbers on 2, 3 and 4 threads: x·Wᵀ by columns, G·W by its sum (k = 784
  // in parts of 400, 272 and 208 rows of W), and G·W with k = 100 on three threads (parts of 48 rows, the last 4).
  BOOST_TEST((split_for(false, false, 40, 1000, 100, 3) == Split::sum));
  const ad::Tensor x = random_float({128, 784}, 40), w = random_float({256, 784}, 41), b = random_float({256}, 42);
  const ad::Tensor g = random_float({128, 784}, 43), w4 = random_float({784, 256}, 44);
  const ad::Tensor g5 = random_float({40, 100}, 45), w5 = random_float({100, 1000}, 46);
  const std::vector<ad::Tensor> one = check_against_one_thread([&] {
    return std::vector<ad::Tensor>{ad::linear(x, w, b), ad::matmul(g, w4), ad::matmul(g5, w5)};
  });
  // through the raw kernel, split by the sum on two threads
  const auto [worst, worst_row] = raw_kernel_error(false, 784, g, w4, one[1], 47);
  BOOST_TEST(worst < 2e-4);  // sums of 784 products of normal numbers (about ±28) in another order
  BOOST_TEST(worst_row < 2e-4);
}

BOOST_AUTO_TEST_CASE(linear_fills_its_bias_per_block_and_equals_matmul_plus_bias) {
  Threads t(2);
  const ad::Tensor x = random_float({128, 300}, 12), w = random_float({520, 300}, 13), b = random_float({520}, 14);
  BOOST_TEST(max_rel_diff(ad::add(ad::matmul(x, w, false, true), b), ad::linear(x, w, b)) < 1e-6f);
  // a product split by its sum adds the bias once, after the parts
  const ad::Tensor few = random_float({16, 7000}, 19), narrow = random_float({100, 7000}, 20), b100 = random_float({100}, 21);
  BOOST_TEST(max_rel_diff(ad::add(ad::matmul(few, narrow, false, true), b100), ad::linear(few, narrow, b100)) < 1e-6f);
  // no input features: every row is the bias
  const ad::Tensor empty = ad::linear(ad::Tensor::zeros({3, 0}), ad::Tensor::zeros({520, 0}), b);
  BOOST_TEST(bit_identical(empty, ad::broadcast_to(b, {3, 520})));
}

BOOST_AUTO_TEST_CASE(gradients_through_split_kernels_pass_gradcheck) {
  Threads t(2);
  // [64,80]·[80,64] is split (327,680 multiply-adds), and so are its two backward products.
  using V = std::vector<Tensor64>;
  CHECK_GRADCHECK([](const V& in) { return ad::sigmoid(ad::matmul(in[0], in[1])); }, uniform({64, 80}, 7), uniform({80, 64}, 8));
  // Elementwise backward kernels split over threads give the single-thread gradient exactly.
  auto gradient = [](int threads) {
    Threads n(threads);
    const ad::Tensor x = random_float({200, 200}, 9).set_requires_grad(true);
    ad::sum(ad::mul(ad::sigmoid(ad::leaky_relu(x, 0.1f)), random_float({200, 200}, 10))).backward();
    return x.grad();
  };
  BOOST_TEST(bit_identical(gradient(1), gradient(2)));
}

namespace {
// A few Adam steps of a small MLP on fixed random data (seed 11, or another); returns the parameters.
std::vector<ad::Tensor> train_steps(std::uint64_t seed = 11) {
  ad::Generator gen(seed);
  nn::Linear l1(300, 256, gen), l2(256, 300, gen);
  const ad::Tensor x = ad::rand_uniform<float>({128, 300}, gen, 0.f, 1.f);
  auto params = l1.named_parameters();
  for (auto& p : l2.named_parameters()) params.push_back(p);
  nn::Adam adam(params, 1e-3);
  for (int step = 0; step < 5; ++step) {
    adam.zero_grad();
    nn::mse_loss(ad::sigmoid(l2(ad::relu(l1(x)))), x).backward();
    adam.step();
  }
  std::vector<ad::Tensor> out;
  for (auto& [name, p] : params) out.push_back(p.detach());
  return out;
}
std::vector<ad::Tensor> train(int threads) {
  Threads t(threads);
  return train_steps();
}
}  // namespace

BOOST_AUTO_TEST_CASE(tasks_run_once_each_on_one_thread_with_the_single_thread_results) {
  std::vector<std::vector<ad::Tensor>> alone(5);
  {
    Threads t(1);
    for (std::size_t i = 0; i < alone.size(); ++i) alone[i] = train_steps(20 + i);
  }
  Threads t(2);
  std::vector<std::vector<ad::Tensor>> together(alone.size());
  std::vector<std::atomic<int>> runs(alone.size());
  std::atomic<int> wider{0};
  ad::parallel_tasks(alone.size(), [&](std::size_t i) {
    ++runs[i];
    if (ad::num_threads() != 1) ++wider;
    together[i] = train_steps(20 + i);
  });
  BOOST_TEST(wider.load() == 0);
  for (std::size_t i = 0; i < alone.size(); ++i) {
    BOOST_TEST(runs[i].load() == 1);
    for (std::size_t j = 0; j < alone[i].size(); ++j) BOOST_TEST(bit_identical(alone[i][j], together[i][j]), "task " << i << " parameter " << j);
  }
  // A task's exception reaches the caller, and no task starts after it (the others take 1 ms each).
  std::atomic<int> started{0};
  BOOST_CHECK_EXCEPTION(ad::parallel_tasks(50, [&](std::size_t i) {
                          ++started;
                          if (i == 0) throw ad::Error("task 0 failed");
                          std::this_thread::sleep_for(std::chrono::milliseconds(1));
                        }),
                        ad::Error, [](const ad::Error& e) { return std::string(e.what()) == "task 0 failed"; });
  BOOST_TEST(started.load() < 10);
  ad::parallel_tasks(0, [](std::size_t) { throw ad::Error("never called"); });
}

BOOST_AUTO_TEST_CASE(training_is_deterministic_for_a_seed_and_a_thread_count) {
  const auto a = train(2), b = train(2), single = train(1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(bit_identical(a[i], b[i]), "parameter " << i);
    BOOST_TEST(max_rel_diff(a[i], single[i]) < 1e-4f, "parameter " << i);
  }
}

BOOST_AUTO_TEST_CASE(optimizers_step_all_parameters_in_one_pass_as_if_one_at_a_time) {
  // Adam and SGD update every parameter in one pass, each thread its share of every parameter's rows (a {5} or
  // {7, 1} parameter whole on one thread, {200, 210} cut after row 112 of 2 and rows 80, 160 of 3): the result
  // must be, bit for bit, that of one optimizer per parameter on one thread.
  const std::vector<Shape> shapes = {{5}, {200, 210}, {3}, {0}, {100, 150}, {7, 1}};
  auto run = [&](int threads, bool together, bool adam) {
    Threads t(threads);
    nn::Named<float> params;
    for (std::size_t i = 0; i < shapes.size(); ++i)
      params.emplace_back("p" + std::to_string(i), random_float(shapes[i], 30 + i).set_requires_grad(true));
    std::vector<std::unique_ptr<nn::Optimizer>> opts;
    auto make = [&](nn::Named<float> ps) -> std::unique_ptr<nn::Optimizer> {
      if (adam) return std::make_unique<nn::Adam>(ps, 1e-2, 0.9, 0.999, 1e-8, 0.01);
      return std::make_unique<nn::SGD>(ps, 1e-2, 0.9, 0.01);
    };
    if (together) opts.push_back(make(params));
    else
      for (auto& p : params) opts.push_back(make({p}));
    for (int step = 0; step < 3; ++step) {
      for (std::size_t i = 0; i < params.size(); ++i) {
        ad::Tensor& p = params[i].second;
        p.zero_grad();
        if (i != 2) ad::sum(ad::mul(ad::square(p), random_float(shapes[i], 40 + step * 10 + i))).backward();  // p2: no gradient
      }
      for (auto& o : opts) o->step();
    }
    std::vector<ad::Tensor> out;
    for (auto& [name, p] : params) out.push_back(p.detach());
    return out;
  };
  for (bool adam : {true, false}) {
    const auto reference = run(1, false, adam), one = run(1, true, adam), two = run(2, true, adam), three = run(3, true, adam);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      BOOST_TEST(bit_identical(reference[i], one[i]), (adam ? "Adam" : "SGD") << " parameter " << i << ", 1 thread");
      BOOST_TEST(bit_identical(reference[i], two[i]), (adam ? "Adam" : "SGD") << " parameter " << i << ", 2 threads");
      BOOST_TEST(bit_identical(reference[i], three[i]), (adam ? "Adam" : "SGD") << " parameter " << i << ", 3 threads");
    }
    BOOST_TEST(bit_identical(reference[2], random_float(shapes[2], 32)));  // no gradient: untouched
  }
  // one tensor listed twice would be stepped twice (and by two threads at once): refused, naming both
  const ad::Tensor w = random_float({4}, 50).set_requires_grad(true);
  CHECK_THROWS_WITH(nn::Adam({{"a", w}, {"b", w}}), "'b' is the same tensor as 'a'");
}
