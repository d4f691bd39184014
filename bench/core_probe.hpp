// How far apart the two CPUs the library's threads run on are: the round trip of one cache line between a thread
// pinned to CPU 0 and one pinned to CPU 1, in nanoseconds (median of 20 runs of 200 round trips, about 20 ms).
// On a virtual machine the host moves its virtual CPUs: on the 2-core AMD EPYC of docs/PERFORMANCE.md the round
// trip flips between about 55 ns (the two on one L3 cache) and 300-340 ns (on two dies, where data one thread
// wrote crosses to the other at half speed) every 10-30 s, and our two-thread epochs are up to twice as slow in
// the second state. Benchmarks print it beside their times; it measures the machine, not the library.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace bench {

// -1 when there are fewer than two CPUs or the threads cannot be pinned.
inline double core_round_trip_ns() {
  if (std::thread::hardware_concurrency() < 2) return -1;
  alignas(64) std::atomic<long> line{0};
  std::atomic<bool> stop{false}, pinned_ok{true};
  auto pin = [&](int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) pinned_ok = false;
  };
  std::vector<double> runs;
  std::thread echo([&] {  // answers each odd value with the next even one
    pin(1);
    for (long v = 1; !stop.load(std::memory_order_relaxed);)
      if (line.load(std::memory_order_acquire) == v) {
        line.store(v + 1, std::memory_order_release);
        v += 2;
      }
  });
  std::thread ask([&] {
    pin(0);
    long v = 0;
    for (int run = 0; run < 20 && pinned_ok; ++run) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < 200; ++k, v += 2) {
        line.store(v + 1, std::memory_order_release);
        while (line.load(std::memory_order_acquire) != v + 2 && pinned_ok) {
        }
      }
      runs.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / 200);
    }
    stop = true;
  });
  ask.join();
  echo.join();
  if (!pinned_ok || runs.empty()) return -1;
  std::nth_element(runs.begin(), runs.begin() + runs.size() / 2, runs.end());
  return runs[runs.size() / 2];
}

}  // namespace bench
