// A minimal thread pool for parallel_for.
//
// Training calls it a few dozen times per step, each for tens to hundreds of microseconds of work, so a
// hand-off must cost about a microsecond: idle workers spin (with `pause`, then yielding the core) for a while
// before they sleep on a condition variable. Chunks are claimed from a shared ticket, and the calling thread
// claims too: when a worker is late (its core busy with another program), the caller runs its chunks instead of
// waiting for it. Which thread runs a chunk never changes what the chunk computes: the workers also take the
// caller's floating-point mode (MXCSR on x86: a FlushDenormals scope around a parallel_for covers every chunk).
#include "autodiff/parallel.hpp"

#include "autodiff/blas.hpp"

#include "autodiff/tensor.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AD_CPU_RELAX() _mm_pause()
#define AD_FP_MODE() (_mm_getcsr() & ~0x3fu)  // the control bits (flush-to-zero, rounding, masks), not the flags
#define AD_SET_FP_MODE(m) _mm_setcsr((_mm_getcsr() & 0x3fu) | (m))
#else
#define AD_CPU_RELAX() std::this_thread::yield()
#define AD_FP_MODE() 0u
#define AD_SET_FP_MODE(m) ((void)(m))
#endif

// OpenBLAS's (pthreads build) own thread pool; weak, as other builds may not have it.
extern "C" int blas_thread_shutdown_(void) __attribute__((weak));

namespace ad {

namespace {

using Body = std::function<void(std::size_t, std::size_t)>;

// How long an idle worker stays awake: spinning with `pause` at first, then yielding its core to anyone else;
// longer than the gaps between kernels inside a training step, short enough not to burn a core between epochs.
constexpr auto kPauseSpin = std::chrono::microseconds(50);
constexpr auto kAwake = std::chrono::microseconds(1000);

thread_local bool inside_parallel = false;

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  std::size_t threads() const { return workers_.size() + 1; }

  // Runs body over [0, n) in chunks [i·step, min(n, (i+1)·step)) and returns when all are done.
  void run(const Body& body, std::size_t n, std::size_t step) {
    body_ = &body;
    fp_mode_ = AD_FP_MODE();
    n_ = n;
    step_ = step;
    const std::size_t chunks = (n + step - 1) / step;
    chunks_.store(chunks, std::memory_order_relaxed);
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    const std::uint64_t region = ++region_;
    ticket_.store(region << 32, std::memory_order_seq_cst);  // publishes all of the above; next chunk: 0
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }
    claim_and_run(region);
    for (int spins = 0; done_.load(std::memory_order_acquire) < chunks; ++spins) {
      if (spins < 4096) AD_CPU_RELAX();
      else std::this_thread::yield();  // a worker holds a chunk but not a core
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Claims chunks of `region` one at a time (ticket: region in the high 32 bits, next chunk in the low) and runs
  // them, until none are left or the region is over.
  void claim_and_run(std::uint64_t region) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    while ((t >> 32) == region && (t & 0xffffffffu) < chunks_.load(std::memory_order_relaxed)) {
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // Ours: the region cannot end before this chunk is done, so body_, n_, step_ and fp_mode_ stay as published.
      if (AD_FP_MODE() != fp_mode_) AD_SET_FP_MODE(fp_mode_);
      const std::size_t i = t & 0xffffffffu;
      inside_parallel = true;
      try {
        (*body_)(i * step_, std::min(n_, (i + 1) * step_));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
      inside_parallel = false;
      done_.fetch_add(1, std::memory_order_release);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void work() {
    std::uint64_t seen = 0;
    while (true) {
      const auto start = std::chrono::steady_clock::now();
      std::uint64_t region;
      for (int spins = 0; (region = ticket_.load(std::memory_order_acquire) >> 32) == seen; ++spins) {
        if (spins % 64 != 0) {
          AD_CPU_RELAX();
          continue;
        }
        const auto idle = std::chrono::steady_clock::now() - start;
        if (idle < kPauseSpin) continue;
        if (idle < kAwake) {
          std::this_thread::yield();
          continue;
        }
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return stop_ || (ticket_.load(std::memory_order_seq_cst) >> 32) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        if (stop_) return;
      }
      seen = region;
      claim_and_run(region);
    }
  }

  std::vector<std::thread> workers_;
  const Body* body_ = nullptr;
  unsigned fp_mode_ = 0;  // the caller's floating-point mode
  std::size_t n_ = 0, step_ = 1;
  std::atomic<std::size_t> chunks_{0};
  std::uint64_t region_ = 0;  // written by the caller only
  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<std::size_t> done_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
  std::atomic<int> sleepers_{0};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
};

int default_threads() {
  if (const char* env = std::getenv("AE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::mutex pool_mutex;  // one parallel_for at a time uses the pool; a concurrent caller runs serially
std::unique_ptr<Pool>& pool() {
  static std::unique_ptr<Pool> p = [] {
    // The library splits the products itself: OpenBLAS runs single-threaded, and its idle threads (started when
    // the library loaded) are stopped, else they keep waking up to yield (1 % of the samples in a profile).
    blas::choose_kernels();
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    return std::make_unique<Pool>(default_threads());
  }();
  return p;
}

}  // namespace

int num_threads() {
  if (inside_parallel) return 1;  // nested calls run serially (and the caller holds the pool)
  std::lock_guard<std::mutex> lock(pool_mutex);
  return static_cast<int>(pool()->threads());
}

void set_num_threads(int n) {
  if (inside_parallel) throw Error("set_num_threads: called from inside a parallel_for body");
  std::lock_guard<std::mutex> lock(pool_mutex);
  auto& p = pool();
  n = std::max(1, n);
  if (static_cast<int>(p->threads()) == n) return;
  p.reset();
  p = std::make_unique<Pool>(n);
}

void parallel_for(std::size_t n, std::size_t grain, const Body& body, std::size_t align) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  align = std::max<std::size_t>(align, 1);
  std::unique_lock<std::mutex> lock(pool_mutex, std::defer_lock);
  if (inside_parallel || n < 2 * grain || !lock.try_lock() || pool()->threads() == 1) {
    if (lock.owns_lock()) lock.unlock();  // the body may ask num_threads() or call parallel_for itself
    body(0, n);
    return;
  }
  Pool& p = *pool();
  const std::size_t chunks = std::min(p.threads(), n / grain);
  std::size_t step = (n + chunks - 1) / chunks;
  step = (step + align - 1) / align * align;
  p.run(body, n, step);
}

void parallel_tasks(std::size_t n, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  const std::size_t runners = std::min<std::size_t>(n, static_cast<std::size_t>(num_threads()));
  parallel_for(runners, 1, [&](std::size_t, std::size_t) {
    try {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) task(i);
    } catch (...) {
      next.store(n);
      throw;
    }
  });
}

}  // namespace ad
