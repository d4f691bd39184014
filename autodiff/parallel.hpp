// The library's own threads. Heavy kernels (matrix products, convolutions, large elementwise ops, Adam) cut
// their work into one contiguous chunk per thread; OpenBLAS itself always runs single-threaded inside a chunk.
//
// Why not OpenBLAS's threads: on the autoencoders' small products its two-thread hand-off costs more than it
// gains (docs/PERFORMANCE.md, "Threads").
//
// Chunks never cut a sum (a GEMM is split by rows or columns of its result, an elementwise op by elements), so
// results are bit-identical whatever the thread count: same seed, same numbers.
#pragma once

#include <cstddef>
#include <functional>

namespace ad {

// Threads used by the kernels. Default: the AE_NUM_THREADS environment variable if set, else the cores.
int num_threads();             // 1 inside a parallel_for body (nested calls run serially)
void set_num_threads(int n);  // n ≥ 1; 1 runs everything on the calling thread. Not from inside a body.

// Calls body(begin, end) on disjoint ranges covering [0, n): at most num_threads() ranges, each (but the last)
// a multiple of `align` and at least `grain` items. Returns when all are done; an exception from any range
// is rethrown here. Called from inside a body, it runs serially (no nested parallelism).
void parallel_for(std::size_t n, std::size_t grain, const std::function<void(std::size_t, std::size_t)>& body,
                  std::size_t align = 1);

}  // namespace ad
