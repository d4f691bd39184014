// A minimal thread pool for parallel_for: the calling thread runs the first chunk, workers the others.
//
// Training calls it a few dozen times per step, each for tens to hundreds of microseconds of work, so a
// hand-off must cost about a microsecond: workers spin (with `pause`) for a while after each chunk before
// they sleep on a condition variable, and the caller spins until the last chunk is done.
#include "autodiff/parallel.hpp"

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
#else
#define AD_CPU_RELAX() std::this_thread::yield()
#endif

namespace ad {

namespace {

using Body = std::function<void(std::size_t, std::size_t)>;

// How long an idle worker spins before it sleeps: longer than the gaps between kernels inside a training
// step, short enough not to burn a core between epochs.
constexpr auto kSpin = std::chrono::microseconds(1000);

thread_local bool inside_parallel = false;

class Pool {
 public:
  explicit Pool(int threads) : bounds_(static_cast<std::size_t>(threads) + 1) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(static_cast<std::size_t>(i)); });
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

  // Runs body over the ranges [bounds[i], bounds[i+1]) for i < chunks (chunks ≤ threads()).
  void run(const Body& body, const std::vector<std::size_t>& bounds, std::size_t chunks) {
    body_ = &body;
    chunks_ = chunks;
    std::copy(bounds.begin(), bounds.begin() + static_cast<std::ptrdiff_t>(chunks) + 1, bounds_.begin());
    error_ = nullptr;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_seq_cst);
    epoch_.fetch_add(1, std::memory_order_seq_cst);  // publishes body_, bounds_ and chunks_
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      wake_.notify_all();
    }
    run_chunk(0);
    while (pending_.load(std::memory_order_acquire) > 0) AD_CPU_RELAX();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void run_chunk(std::size_t i) {
    if (i >= chunks_) return;
    inside_parallel = true;
    try {
      (*body_)(bounds_[i], bounds_[i + 1]);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    inside_parallel = false;
  }

  void work(std::size_t index) {
    std::uint64_t seen = 0;
    while (true) {
      std::uint64_t e = epoch_.load(std::memory_order_acquire);
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      for (int spins = 0; e == seen; e = epoch_.load(std::memory_order_acquire)) {
        if (++spins % 256 != 0) {
          AD_CPU_RELAX();
          continue;
        }
        if (std::chrono::steady_clock::now() < spin_until) continue;
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lock, [&] { return stop_ || epoch_.load(std::memory_order_seq_cst) != seen; });
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        if (stop_) return;
      }
      seen = e;
      run_chunk(index);
      pending_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> workers_;
  std::vector<std::size_t> bounds_;
  const Body* body_ = nullptr;
  std::size_t chunks_ = 0;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<int> pending_{0};
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
    openblas_set_num_threads(1);  // the library splits the products itself
    return std::make_unique<Pool>(default_threads());
  }();
  return p;
}

}  // namespace

int num_threads() {
  std::lock_guard<std::mutex> lock(pool_mutex);
  return static_cast<int>(pool()->threads());
}

void set_num_threads(int n) {
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
    body(0, n);
    return;
  }
  Pool& p = *pool();
  const std::size_t chunks = std::min(p.threads(), n / grain);
  std::size_t step = (n + chunks - 1) / chunks;
  step = (step + align - 1) / align * align;
  std::vector<std::size_t> bounds{0};
  while (bounds.back() < n) bounds.push_back(std::min(n, bounds.back() + step));
  p.run(body, bounds, bounds.size() - 1);
}

}  // namespace ad
