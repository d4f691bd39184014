// The library's own threads. Heavy kernels (matrix products, convolutions, large elementwise ops) cut their work
// into one contiguous chunk per thread, Adam and SGD into a share of every parameter's rows per thread; OpenBLAS
// itself always runs single-threaded inside a chunk.
//
// Why not OpenBLAS's threads: on the autoencoders' small products its two-thread hand-off costs more than it
// gains (docs/PERFORMANCE.md, "Threads").
//
// A chunk's numbers never depend on timing (a GEMM is split by rows or columns of its result, or by its sum into
// copies added in a fixed order; an elementwise op by elements), so the same seed and thread count give the same
// numbers, bit for bit. Across thread counts, elementwise ops,
// reductions, convolutions and batch norm are still bit-identical; matrix products agree to float rounding only
// (about 1e-7 relative), because OpenBLAS computes a block's edge rows and columns, those that do not fill a
// whole micro-tile, with another kernel than its full tiles (on Haswell, a different order of fused
// multiply-adds): where the split falls changes which rows are edges (autodiff/linalg.cpp, gemm). Training
// then carries these last-bit differences along: lessons agree across thread counts to about 1e-6 relative
// after a few steps, more after many (tests/test_parallel.cpp, tests/test_lessons.cpp).
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

// Calls task(i) for every i in [0, n), each task whole on one thread (num_threads() is 1 inside it), a thread
// taking the next task as soon as it finishes one: for independent jobs too big to share, such as training several
// models. A task computes the same numbers as it would alone with one thread, whichever thread runs it and whatever
// the thread count. An exception from a task stops the others from starting new tasks and is rethrown here.
void parallel_tasks(std::size_t n, const std::function<void(std::size_t)>& task);

}  // namespace ad
