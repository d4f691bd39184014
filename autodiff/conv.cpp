// 2-D convolution (NCHW) by im2col + GEMM, and its two adjoints, in blocks of a few samples.
//
//   conv2d:             Y = W · cols(X)            [O, N·Ho·Wo] = [O, C·kh·kw] · [C·kh·kw, N·Ho·Wo]
//   conv_transpose2d:   X = col2im(Wᵀ · Y)         the adjoint of conv2d in X
//   conv2d_weight_grad: dW = G · cols(X)ᵀ          the adjoint of conv2d in W
// The three are closed under differentiation, so double backward works through convolutions. conv2d and
// conv_transpose2d take an optional bias per output channel, added as the block's output is written.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "autodiff/blas.hpp"
#include "autodiff/internal.hpp"
#include "autodiff/multiversion.hpp"

namespace ad {

using detail::Grads;
using detail::require_defined;

namespace {

struct Geometry {
  std::size_t n, c, h, w;      // input (of the forward convolution)
  std::size_t o, kh, kw;       // output channels, kernel
  std::size_t stride, pad;
  std::size_t ho, wo;          // output of the forward convolution
  std::size_t patch() const { return c * kh * kw; }
  std::size_t positions() const { return n * ho * wo; }
};

// Output size of a convolution along one axis, or an error.
std::size_t conv_out(const char* op, std::size_t in, std::size_t k, std::size_t stride, std::size_t pad, const Shape& xs,
                     const Shape& ws) {
  if (stride == 0) detail::fail(op, ": stride must be at least 1");
  if (in + 2 * pad < k)
    detail::fail(op, ": input ", shape_str(xs), " with padding ", pad, " is smaller than the kernel of ", shape_str(ws));
  return (in + 2 * pad - k) / stride + 1;
}

// For kernel tap (i, j), the offset of each output position's input pixel in a zero-padded plane
// [(h + 2p), (w + 2p)]: tap[(i·kw + j)·Ho·Wo + y·Wo + x] = (y·s + i)·(w + 2p) + x·s + j. With the padding
// written as zeros, im2col is one gather per (sample, channel, tap), with no bounds tests inside the loops.
inline std::vector<std::uint32_t> tap_offsets(const Geometry& g) {
  const std::size_t wp = g.w + 2 * g.pad, hw = g.ho * g.wo;
  std::vector<std::uint32_t> tap(g.kh * g.kw * hw);
  for (std::size_t i = 0; i < g.kh; ++i)
    for (std::size_t j = 0; j < g.kw; ++j)
      for (std::size_t y = 0; y < g.ho; ++y)
        for (std::size_t x = 0; x < g.wo; ++x)
          tap[(i * g.kw + j) * hw + y * g.wo + x] = static_cast<std::uint32_t>((y * g.stride + i) * wp + x * g.stride + j);
  return tap;
}

template <class T>
AE_MULTIVERSION void gather(T* __restrict out, const T* __restrict src, const std::uint32_t* __restrict at, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) out[k] = src[at[k]];
}

// One block of samples [n0, n0 + b.n) (b: the geometry with b.n samples) in the columns of a buffer whose rows
// are ld long: cols[(c·kh + i)·kw + j, (n·Ho + y)·Wo + x] = X[n0 + n, c, y·s − p + i, x·s − p + j] (0 outside).
template <class T>
void im2col(const Geometry& b, const T* x, T* cols, std::size_t ld, const std::vector<std::uint32_t>& tap) {
  const std::size_t hw = b.ho * b.wo, taps = b.kh * b.kw, wp = b.w + 2 * b.pad;
  std::vector<T> padded((b.h + 2 * b.pad) * wp, T(0));  // the border stays 0
  for (std::size_t n = 0; n < b.n; ++n)
    for (std::size_t c = 0; c < b.c; ++c) {
      const T* plane = x + (n * b.c + c) * b.h * b.w;
      for (std::size_t y = 0; y < b.h; ++y) std::memcpy(&padded[(y + b.pad) * wp + b.pad], plane + y * b.w, b.w * sizeof(T));
      for (std::size_t t = 0; t < taps; ++t) gather(cols + (c * taps + t) * ld + n * hw, padded.data(), &tap[t * hw], hw);
    }
}

// The adjoint of im2col: X[n, c, y·s − p + i, x·s − p + j] += cols[...], written as a gather: each input pixel
// sums the entries of cols that came from it (at most ⌈kh/s⌉·⌈kw/s⌉), so no pixel is read and written back once
// per tap. Pixels are grouped by how many entries they sum; sources[m] lists, for the pixels with m entries,
// each pixel's offset and its m offsets into one (sample, channel)'s block of cols (tap t, position k: t·ld + k).
struct Sources {
  std::vector<std::vector<std::uint32_t>> by_count;  // [m]: (pixel, offset_1 … offset_m) for every such pixel
};
inline Sources col2im_sources(const Geometry& g, std::size_t ld) {
  if (static_cast<double>(g.kh * g.kw) * static_cast<double>(ld) >= 4294967296.0)
    detail::fail("conv: the column block [", g.kh * g.kw, " taps, ", ld, "] is too large for 32-bit offsets");
  std::vector<std::vector<std::uint32_t>> per_pixel(g.h * g.w);
  for (std::size_t i = 0; i < g.kh; ++i)
    for (std::size_t j = 0; j < g.kw; ++j)
      for (std::size_t y = 0; y < g.ho; ++y)
        for (std::size_t x = 0; x < g.wo; ++x) {
          const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(y * g.stride + i) - static_cast<std::ptrdiff_t>(g.pad);
          const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(x * g.stride + j) - static_cast<std::ptrdiff_t>(g.pad);
          if (iy < 0 || ix < 0 || iy >= static_cast<std::ptrdiff_t>(g.h) || ix >= static_cast<std::ptrdiff_t>(g.w)) continue;
          per_pixel[static_cast<std::size_t>(iy) * g.w + static_cast<std::size_t>(ix)].push_back(
              static_cast<std::uint32_t>((i * g.kw + j) * ld + y * g.wo + x));
        }
  Sources s;
  for (std::size_t q = 0; q < per_pixel.size(); ++q) {
    const std::size_t m = per_pixel[q].size();
    if (s.by_count.size() <= m) s.by_count.resize(m + 1);
    s.by_count[m].push_back(static_cast<std::uint32_t>(q));
    s.by_count[m].insert(s.by_count[m].end(), per_pixel[q].begin(), per_pixel[q].end());
  }
  return s;
}

template <std::size_t M, class T>
void sum_sources(T* __restrict plane, const T* __restrict block, const std::vector<std::uint32_t>& list, std::size_t m,
                 T bias) {
  const std::size_t mm = M ? M : m;
  for (std::size_t e = 0; e < list.size(); e += mm + 1) {
    T total = T(0);
    for (std::size_t k = 1; k <= mm; ++k) total += block[list[e + k]];
    plane[list[e]] = total + bias;
  }
}

// X of one block of samples from its columns (rows ld long; sources made with the same ld), plus a bias per
// channel if given.
template <class T>
void col2im(const Geometry& b, const T* cols, T* x, std::size_t ld, const Sources& sources, const T* bias) {
  const std::size_t hw = b.ho * b.wo, taps = b.kh * b.kw;
  for (std::size_t n = 0; n < b.n; ++n)
    for (std::size_t c = 0; c < b.c; ++c) {
      T* plane = x + (n * b.c + c) * b.h * b.w;
      const T* block = cols + c * taps * ld + n * hw;
      const T add = bias ? bias[c] : T(0);
      for (std::size_t m = 0; m < sources.by_count.size(); ++m) {
        const auto& list = sources.by_count[m];
        if (list.empty()) continue;
        switch (m) {
          case 0: for (std::size_t e = 0; e < list.size(); ++e) plane[list[e]] = add; break;
          case 1: sum_sources<1>(plane, block, list, m, add); break;
          case 2: sum_sources<2>(plane, block, list, m, add); break;
          case 4: sum_sources<4>(plane, block, list, m, add); break;
          default: sum_sources<0>(plane, block, list, m, add);
        }
      }
    }
}

// [n, o, p] <-> [o, n·p] with rows ld long: the GEMM works on channel-major rows. Copying back, a bias per
// channel may be added.
template <class T>
void nop_to_onp(const T* src, T* dst, std::size_t n, std::size_t o, std::size_t p, std::size_t ld) {
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < o; ++b) std::memcpy(dst + b * ld + a * p, src + (a * o + b) * p, p * sizeof(T));
}
template <class T>
void onp_to_nop(const T* src, T* dst, std::size_t n, std::size_t o, std::size_t p, std::size_t ld, const T* bias) {
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < o; ++b) {
      const T* __restrict from = src + b * ld + a * p;
      T* __restrict to = dst + (a * o + b) * p;
      if (!bias) {
        std::memcpy(to, from, p * sizeof(T));
      } else {
        const T add = bias[b];
        for (std::size_t i = 0; i < p; ++i) to[i] = from[i] + add;
      }
    }
}

// Σ v[0..len), in 16 lanes so that the loop vectorises: a bias gradient's share of one channel.
template <class T>
AE_MULTIVERSION T lane_sum(const T* __restrict v, std::size_t len) {
  constexpr std::size_t kLanes = 16;
  T lane[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= len; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k) lane[k] += v[i + k];
  T total = T(0);
  for (; i < len; ++i) total += v[i];
  for (T l : lane) total += l;
  return total;
}

// The batch in blocks of samples, each block a smaller batch (the same geometry, fewer samples) whose columns
// stay near 512 KB, so that they and the block's product are still in the core's cache when read again; at
// most 8 samples, so that a batch of 128 gives both threads equal shares. Each block is computed whole on one
// thread, the blocks shared among the threads in contiguous runs: from two blocks on, the numbers do not depend on
// the thread count (a batch of one block splits its product over the threads as matmul does).
// fn(block, n0, index, scratch): samples [n0, n0 + block.n); scratch buffers live as long as a thread's run.
// A block writes every element of them it reads, so they are left uninitialised (not zeroed on every op).
template <class T>
struct Buffer {
  std::unique_ptr<T[]> values;
  explicit Buffer(std::size_t n) : values(new T[n]) {}
  T* data() { return values.get(); }
  const T* data() const { return values.get(); }
};
template <class T>
struct Scratch {
  Buffer<T> cols, onp;
};
struct SampleBlocks {
  std::size_t size, count, ld;  // samples per block, blocks, row length of a block's columns (size·Ho·Wo)
};
template <class T>
SampleBlocks sample_blocks(const Geometry& g) {
  constexpr std::size_t kColumnBytes = 512 << 10, kMaxSamples = 8;
  const std::size_t per_sample = std::max<std::size_t>(1, g.patch() * g.ho * g.wo * sizeof(T));
  const std::size_t fit = std::max<std::size_t>(1, kColumnBytes / per_sample);
  const std::size_t size = std::min({fit, kMaxSamples, std::max<std::size_t>(g.n, 1)});
  return {size, (g.n + size - 1) / size, size * g.ho * g.wo};
}
template <class T, class F>
void for_sample_blocks(const Geometry& g, const SampleBlocks& blocks, F&& fn) {
  parallel_for(blocks.count, 1, [&](std::size_t b0, std::size_t b1) {
    Scratch<T> scratch{Buffer<T>(g.patch() * blocks.ld), Buffer<T>(g.o * blocks.ld)};
    for (std::size_t k = b0; k < b1; ++k) {
      Geometry block = g;
      block.n = std::min(g.n, (k + 1) * blocks.size) - k * blocks.size;
      fn(block, k * blocks.size, k, scratch);
    }
  });
}

// A weight or bias gradient as the sum of the blocks' shares, added in block order (the same bits on any number of
// threads).
template <class T>
xt::xarray<T> sum_blocks(const std::vector<T>& partial, std::size_t count, const Shape& shape) {
  xt::xarray<T> total = xt::xarray<T>::from_shape(shape);
  const std::size_t size = total.size();
  if (count == 0) return xt::zeros<T>(shape);  // an empty batch
  std::copy_n(partial.data(), size, total.data());
  for (std::size_t k = 1; k < count; ++k) {
    const T* p = partial.data() + k * size;
    T* t = total.data();
    for (std::size_t i = 0; i < size; ++i) t[i] += p[i];
  }
  return total;
}

template <class T>
void check_4d(const char* op, const TensorT<T>& t, const char* what) {
  require_defined(op, t, what);
  if (t.dim() != 4) detail::fail(op, ": ", what, " must be 4-D, got ", shape_str(t.shape()));
}

// Geometry of conv2d(x, weight).
template <class T>
Geometry forward_geometry(const char* op, const TensorT<T>& x, const TensorT<T>& w, Conv2dOptions opt) {
  check_4d(op, x, "input [N,C,H,W]");
  check_4d(op, w, "weight [O,C,kh,kw]");
  const Shape xs = x.shape(), ws = w.shape();
  if (xs[1] != ws[1])
    detail::fail(op, ": input ", shape_str(xs), " has ", xs[1], " channels, the weight ", shape_str(ws), " expects ", ws[1]);
  Geometry g{xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], opt.stride(), opt.padding(), 0, 0};
  g.ho = conv_out(op, g.h, g.kh, opt.stride(), opt.padding(), xs, ws);
  g.wo = conv_out(op, g.w, g.kw, opt.stride(), opt.padding(), xs, ws);
  return g;
}

template <class T>
std::size_t output_padding_for(std::size_t in, std::size_t out, std::size_t k, Conv2dOptions opt) {
  return in + 2 * opt.padding() - k - (out - 1) * opt.stride();
}

// One block of samples: Y = W · cols(X) (+ b), into Y's samples (NCHW).
template <class T>
void conv_block(const Geometry& b, const T* x, const T* w, const T* bias, T* y, std::size_t ld,
                const std::vector<std::uint32_t>& tap, Scratch<T>& s) {
  im2col(b, x, s.cols.data(), ld, tap);
  blas::gemm<T>(false, false, b.o, b.positions(), b.patch(), T(1), w, b.patch(), s.cols.data(), ld, T(0), s.onp.data(), ld);
  onp_to_nop(s.onp.data(), y, b.n, b.o, b.ho * b.wo, ld, bias);
}

// One block's share of dW = G · cols(X)ᵀ, from G's block in s.onp and X's columns in s.cols.
template <class T>
void weight_grad_block(const Geometry& b, const Scratch<T>& s, std::size_t ld, T* partial) {
  blas::gemm<T>(false, true, b.o, b.patch(), b.positions(), T(1), s.onp.data(), ld, s.cols.data(), ld, T(0), partial, b.patch());
}

inline Shape weight_shape(const Geometry& g) {
  return {g.o, g.c, g.kh, g.kw};
}

template <class T>
void check_bias(const char* op, const TensorT<T>& bias, std::size_t channels) {
  require_defined(op, bias, "bias");
  if (bias.shape() != Shape{channels})
    detail::fail(op, ": bias ", shape_str(bias.shape()), " does not match the ", channels, " output channels");
}

// The blocks' shares of a weight or bias gradient, one slot per block, summed in block order at the end.
template <class T>
struct Partials {
  std::size_t blocks, size;
  std::vector<T> slots;
  Partials(bool needed, const SampleBlocks& b, std::size_t size_)
      : blocks(b.count), size(size_), slots(needed ? b.count * size_ : 0) {}
  T* at(std::size_t block) { return slots.data() + block * size; }
  xt::xarray<T> sum(const Shape& shape) const { return sum_blocks(slots, blocks, shape); }
  TensorT<T> total(const Shape& shape) const { return TensorT<T>(sum(shape)); }
};

// Plain backward of conv2d (no graph to build): one pass over the blocks computes the gradients asked for from
// G's block: dX = col2im(Wᵀ·G), dW = G·cols(X)ᵀ, db = G's sums per channel.
template <class T>
Grads<T> conv2d_backward(const Geometry& g, const BackwardArgs<T>& c) {
  const bool need_x = c.needs[0], need_w = c.needs[1], need_b = c.needs.size() > 2 && c.needs[2];
  const T *x = c.inputs[0].data(), *w = c.inputs[1].data(), *gy = c.grad.data();
  const SampleBlocks blocks = sample_blocks<T>(g);
  const std::vector<std::uint32_t> tap = need_w ? tap_offsets(g) : std::vector<std::uint32_t>{};
  const Sources sources = need_x ? col2im_sources(g, blocks.ld) : Sources{};
  Partials<T> dw(need_w, blocks, g.o * g.patch()), db(need_b, blocks, g.o);
  xt::xarray<T> dx = xt::xarray<T>::from_shape({need_x ? g.n : 0, g.c, g.h, g.w});
  for_sample_blocks<T>(g, blocks, [&](const Geometry& b, std::size_t n0, std::size_t k, Scratch<T>& s) {
    nop_to_onp(gy + n0 * g.o * g.ho * g.wo, s.onp.data(), b.n, b.o, b.ho * b.wo, blocks.ld);
    if (need_b)
      for (std::size_t o = 0; o < g.o; ++o) db.at(k)[o] = lane_sum(s.onp.data() + o * blocks.ld, b.positions());
    if (need_w) {
      im2col(b, x + n0 * g.c * g.h * g.w, s.cols.data(), blocks.ld, tap);
      weight_grad_block(b, s, blocks.ld, dw.at(k));
    }
    if (need_x) {
      blas::gemm<T>(true, false, b.patch(), b.positions(), b.o, T(1), w, b.patch(), s.onp.data(), blocks.ld, T(0),
                    s.cols.data(), blocks.ld);
      col2im(b, s.cols.data(), dx.data() + n0 * g.c * g.h * g.w, blocks.ld, sources, static_cast<const T*>(nullptr));
    }
  });
  Grads<T> grads{need_x ? TensorT<T>(std::move(dx)) : TensorT<T>(), need_w ? dw.total(weight_shape(g)) : TensorT<T>()};
  if (c.needs.size() > 2) grads.push_back(need_b ? db.total({g.o}) : TensorT<T>());
  return grads;
}

// Plain backward of conv_transpose2d (no graph to build): one im2col of the gradient G per block serves
// dY = W·cols(G) and dW = Y·cols(G)ᵀ; db = G's sums per channel.
template <class T>
Grads<T> conv_transpose2d_backward(const Geometry& g, const BackwardArgs<T>& c) {
  const bool need_y = c.needs[0], need_w = c.needs[1], need_b = c.needs.size() > 2 && c.needs[2];
  const T *y = c.inputs[0].data(), *w = c.inputs[1].data(), *gx = c.grad.data();
  const SampleBlocks blocks = sample_blocks<T>(g);
  const std::vector<std::uint32_t> tap = tap_offsets(g);
  Partials<T> dw(need_w, blocks, g.o * g.patch()), db(need_b, blocks, g.c);
  xt::xarray<T> dy = xt::xarray<T>::from_shape({need_y ? g.n : 0, g.o, g.ho, g.wo});
  for_sample_blocks<T>(g, blocks, [&](const Geometry& b, std::size_t n0, std::size_t k, Scratch<T>& s) {
    const T* gb = gx + n0 * g.c * g.h * g.w;
    if (need_y) conv_block(b, gb, w, static_cast<const T*>(nullptr), dy.data() + n0 * g.o * g.ho * g.wo, blocks.ld, tap, s);
    else if (need_w) im2col(b, gb, s.cols.data(), blocks.ld, tap);
    if (need_w) {
      nop_to_onp(y + n0 * g.o * g.ho * g.wo, s.onp.data(), b.n, b.o, b.ho * b.wo, blocks.ld);
      weight_grad_block(b, s, blocks.ld, dw.at(k));
    }
    if (need_b)
      for (std::size_t ch = 0; ch < g.c; ++ch) {
        T total = T(0);
        for (std::size_t n = 0; n < b.n; ++n) total += lane_sum(gb + (n * g.c + ch) * g.h * g.w, g.h * g.w);
        db.at(k)[ch] = total;
      }
  });
  Grads<T> grads{need_y ? TensorT<T>(std::move(dy)) : TensorT<T>(), need_w ? dw.total(weight_shape(g)) : TensorT<T>()};
  if (c.needs.size() > 2) grads.push_back(need_b ? db.total({g.c}) : TensorT<T>());
  return grads;
}

// conv2d, with a bias per output channel if given (added as each block's product is copied back).
template <class T>
TensorT<T> conv2d_op(const TensorT<T>& x, const TensorT<T>& weight, const TensorT<T>* bias, Conv2dOptions opt) {
  const Geometry g = forward_geometry("conv2d", x, weight, opt);
  if (bias) check_bias("conv2d", *bias, g.o);
  const SampleBlocks blocks = sample_blocks<T>(g);
  const std::vector<std::uint32_t> tap = tap_offsets(g);
  xt::xarray<T> y = xt::xarray<T>::from_shape({g.n, g.o, g.ho, g.wo});
  for_sample_blocks<T>(g, blocks, [&](const Geometry& b, std::size_t n0, std::size_t, Scratch<T>& s) {
    conv_block(b, x.data() + n0 * g.c * g.h * g.w, weight.data(), bias ? bias->data() : nullptr,
               y.data() + n0 * g.o * g.ho * g.wo, blocks.ld, tap, s);
  });
  std::vector<TensorT<T>> inputs{x, weight};
  if (bias) inputs.push_back(*bias);
  return make_result<T>(std::move(y), "conv2d", inputs, [opt, g](const BackwardArgs<T>& c) -> Grads<T> {
    if (!is_grad_enabled()) return conv2d_backward(g, c);
    Grads<T> grads(c.inputs.size());
    if (c.needs[0])
      grads[0] = conv_transpose2d(c.grad, c.inputs[1], opt, output_padding_for<T>(g.h, g.ho, g.kh, opt),
                                  output_padding_for<T>(g.w, g.wo, g.kw, opt));
    if (c.needs[1]) grads[1] = conv2d_weight_grad(c.inputs[0], c.grad, g.kh, g.kw, opt);
    if (c.inputs.size() > 2 && c.needs[2]) grads[2] = sum(c.grad, {0, 2, 3});
    return grads;
  });
}

// conv_transpose2d, with a bias per output channel if given (added as each block's col2im writes its pixels).
template <class T>
TensorT<T> conv_transpose2d_op(const TensorT<T>& y, const TensorT<T>& weight, const TensorT<T>* bias, Conv2dOptions opt,
                               std::size_t output_padding_h, std::size_t output_padding_w) {
  const char* op = "conv_transpose2d";
  check_4d(op, y, "input [N,O,Ho,Wo]");
  check_4d(op, weight, "weight [O,C,kh,kw]");
  const Shape ys = y.shape(), ws = weight.shape();
  if (ys[1] != ws[0])
    detail::fail(op, ": input ", shape_str(ys), " has ", ys[1], " channels, the weight ", shape_str(ws), " expects ", ws[0]);
  if (opt.stride() == 0) detail::fail(op, ": stride must be at least 1");
  if (output_padding_h >= opt.stride() || output_padding_w >= opt.stride())
    detail::fail(op, ": output_padding ", std::max(output_padding_h, output_padding_w), " must be smaller than the stride ",
                 opt.stride());
  if (bias) check_bias(op, *bias, ws[1]);
  auto out_size = [&](std::size_t in, std::size_t k, std::size_t output_padding) -> std::size_t {
    const std::size_t full = (in - 1) * opt.stride() + k + output_padding;
    if (in == 0 || full <= 2 * opt.padding())
      detail::fail(op, ": input ", shape_str(ys), " with weight ", shape_str(ws), " and padding ", opt.padding(),
                   " gives an empty output");
    return full - 2 * opt.padding();
  };
  Geometry g{ys[0], ws[1], out_size(ys[2], ws[2], output_padding_h),
             out_size(ys[3], ws[3], output_padding_w), ws[0], ws[2], ws[3], opt.stride(), opt.padding(),
             ys[2], ys[3]};
  const SampleBlocks blocks = sample_blocks<T>(g);
  const Sources sources = col2im_sources(g, blocks.ld);
  xt::xarray<T> x = xt::xarray<T>::from_shape({g.n, g.c, g.h, g.w});
  for_sample_blocks<T>(g, blocks, [&](const Geometry& b, std::size_t n0, std::size_t, Scratch<T>& s) {
    // X = col2im(Wᵀ · Y) (+ b)
    nop_to_onp(y.data() + n0 * g.o * g.ho * g.wo, s.onp.data(), b.n, b.o, b.ho * b.wo, blocks.ld);
    blas::gemm<T>(true, false, b.patch(), b.positions(), b.o, T(1), weight.data(), b.patch(), s.onp.data(), blocks.ld,
                  T(0), s.cols.data(), blocks.ld);
    col2im(b, s.cols.data(), x.data() + n0 * g.c * g.h * g.w, blocks.ld, sources, bias ? bias->data() : nullptr);
  });
  std::vector<TensorT<T>> inputs{y, weight};
  if (bias) inputs.push_back(*bias);
  return make_result<T>(std::move(x), op, inputs, [opt, g](const BackwardArgs<T>& c) -> Grads<T> {
    if (!is_grad_enabled()) return conv_transpose2d_backward(g, c);
    Grads<T> grads(c.inputs.size());
    if (c.needs[0]) grads[0] = conv2d(c.grad, c.inputs[1], opt);
    if (c.needs[1]) grads[1] = conv2d_weight_grad(c.grad, c.inputs[0], g.kh, g.kw, opt);
    if (c.inputs.size() > 2 && c.needs[2]) grads[2] = sum(c.grad, {0, 2, 3});
    return grads;
  });
}

}  // namespace

template <class T>
TensorT<T> conv2d(const TensorT<T>& x, const TensorT<T>& weight, Conv2dOptions opt) {
  return conv2d_op(x, weight, static_cast<const TensorT<T>*>(nullptr), opt);
}

template <class T>
TensorT<T> conv2d(const TensorT<T>& x, const TensorT<T>& weight, const TensorT<T>& bias, Conv2dOptions opt) {
  return conv2d_op(x, weight, &bias, opt);
}

template <class T>
TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, Conv2dOptions opt, std::size_t output_padding) {
  return conv_transpose2d_op(y, weight, static_cast<const TensorT<T>*>(nullptr), opt, output_padding, output_padding);
}

template <class T>
TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, Conv2dOptions opt, std::size_t output_padding_h,
                            std::size_t output_padding_w) {
  return conv_transpose2d_op(y, weight, static_cast<const TensorT<T>*>(nullptr), opt, output_padding_h, output_padding_w);
}

template <class T>
TensorT<T> conv_transpose2d(const TensorT<T>& y, const TensorT<T>& weight, const TensorT<T>& bias, Conv2dOptions opt,
                            std::size_t output_padding) {
  return conv_transpose2d_op(y, weight, &bias, opt, output_padding, output_padding);
}

template <class T>
TensorT<T> conv2d_weight_grad(const TensorT<T>& x, const TensorT<T>& grad_y, std::size_t kh, std::size_t kw,
                              Conv2dOptions opt) {
  const char* op = "conv2d_weight_grad";
  check_4d(op, x, "input [N,C,H,W]");
  check_4d(op, grad_y, "output gradient [N,O,Ho,Wo]");
  const Shape xs = x.shape(), gs = grad_y.shape();
  const Shape ws{gs[1], xs[1], kh, kw};
  Geometry g{xs[0], xs[1], xs[2], xs[3], gs[1], kh, kw, opt.stride(), opt.padding(), 0, 0};
  g.ho = conv_out(op, g.h, kh, opt.stride(), opt.padding(), xs, ws);
  g.wo = conv_out(op, g.w, kw, opt.stride(), opt.padding(), xs, ws);
  if (gs[0] != xs[0] || gs[2] != g.ho || gs[3] != g.wo)
    detail::fail(op, ": output gradient ", shape_str(gs), " does not match input ", shape_str(xs), " and kernel ", kh,
                 "x", kw, " (expected [", xs[0], ",", gs[1], ",", g.ho, ",", g.wo, "])");
  const SampleBlocks blocks = sample_blocks<T>(g);
  const std::vector<std::uint32_t> tap = tap_offsets(g);
  Partials<T> dw(true, blocks, g.o * g.patch());
  for_sample_blocks<T>(g, blocks, [&](const Geometry& b, std::size_t n0, std::size_t k, Scratch<T>& s) {
    im2col(b, x.data() + n0 * g.c * g.h * g.w, s.cols.data(), blocks.ld, tap);
    nop_to_onp(grad_y.data() + n0 * g.o * g.ho * g.wo, s.onp.data(), b.n, b.o, b.ho * b.wo, blocks.ld);
    weight_grad_block(b, s, blocks.ld, dw.at(k));
  });
  return make_result<T>(dw.sum(ws), op, {x, grad_y}, [opt, g](const BackwardArgs<T>& c) -> Grads<T> {
    // <dW(x, gy), H> = <gy, conv2d(x, H)> = <conv_transpose2d(gy, H), x>
    TensorT<T> dx, dgy;
    if (c.needs[0])
      dx = conv_transpose2d(c.inputs[1], c.grad, opt, output_padding_for<T>(g.h, g.ho, g.kh, opt),
                            output_padding_for<T>(g.w, g.wo, g.kw, opt));
    if (c.needs[1]) dgy = conv2d(c.inputs[0], c.grad, opt);
    return {dx, dgy};
  });
}

#define AD_CONV(T)                                                                                                 \
  template TensorT<T> conv2d(const TensorT<T>&, const TensorT<T>&, Conv2dOptions);                                 \
  template TensorT<T> conv2d(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&, Conv2dOptions);              \
  template TensorT<T> conv_transpose2d(const TensorT<T>&, const TensorT<T>&, Conv2dOptions, std::size_t);          \
  template TensorT<T> conv_transpose2d(const TensorT<T>&, const TensorT<T>&, Conv2dOptions, std::size_t, std::size_t); \
  template TensorT<T> conv_transpose2d(const TensorT<T>&, const TensorT<T>&, const TensorT<T>&, Conv2dOptions,     \
                                       std::size_t);                                                               \
  template TensorT<T> conv2d_weight_grad(const TensorT<T>&, const TensorT<T>&, std::size_t, std::size_t,           \
                                         Conv2dOptions);
AD_INSTANTIATE(AD_CONV)

}  // namespace ad
