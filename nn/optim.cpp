#include "nn/optim.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/denormals.hpp"
#include "autodiff/multiversion.hpp"
#include "autodiff/parallel.hpp"

namespace nn {

template <class T>
OptimizerT<T>::OptimizerT(Named<T> params, double lr) : params_(std::move(params)), lr_(lr) {
  if (!(lr >= 0.0)) throw ad::Error("optimizer: learning rate must be non-negative, got " + std::to_string(lr));
  for (auto& [name, p] : params_)
    if (!p.defined() || !p.requires_grad()) throw ad::Error("optimizer: parameter '" + name + "' does not require grad");
  for (std::size_t i = 0; i < params_.size(); ++i)  // one tensor listed twice would be stepped twice
    for (std::size_t j = 0; j < i; ++j)
      if (params_[i].second.data() == params_[j].second.data() && params_[i].second.numel() > 0)
        throw ad::Error("optimizer: parameter '" + params_[i].first + "' is the same tensor as '" + params_[j].first + "'");
}

template <class T>
void OptimizerT<T>::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

namespace {
template <class T>
void load_slots(const char* opt, const Named<T>& params, const Named<T>& state, const char* slot,
                std::vector<TensorT<T>>& into) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string key = params[i].first + "." + slot;
    const TensorT<T>* found = nullptr;
    for (auto& [name, t] : state)
      if (name == key) found = &t;
    if (!found) throw ad::Error(std::string(opt) + ": state has no '" + key + "'");
    if (found->shape() != params[i].second.shape())
      throw ad::Error(std::string(opt) + ": state '" + key + "' has shape " + ad::shape_str(found->shape()) +
                      ", the parameter has " + ad::shape_str(params[i].second.shape()));
  }
  into.clear();
  for (auto& [pname, p] : params)
    for (auto& [name, t] : state)
      if (name == pname + "." + slot) into.push_back(t.detach());
}
// Calls update(i, grad, begin, end) on ranges of the parameters that have a gradient, in one parallel pass: with
// T threads, thread t takes the t-th share of every parameter's rows (its first axis, cut at multiples of 16 rows),
// as the products cut a weight's rows, so each thread updates the rows its own products read and wrote (why:
// docs/PERFORMANCE.md, "Two CPUs that move apart"). Cuts fall on multiples of 16 elements of a parameter, where
// its vectorised update would also start a new block: the same bits whatever the thread count.
template <class T, class F>
void for_each_parameter_range(const Named<T>& params, F update) {
  struct Range {
    std::size_t index, rows, row_size;
    TensorT<T> grad;
  };
  std::vector<Range> ranges;
  std::size_t total = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    TensorT<T> g = params[i].second.grad();
    const std::size_t n = params[i].second.numel();
    if (!g.defined() || n == 0) continue;
    const std::size_t rows = params[i].second.dim() ? params[i].second.size(0) : 1;
    ranges.push_back({i, rows, n / rows, g});
    total += n;
  }
  const std::size_t threads = total < (1 << 15) ? 1 : static_cast<std::size_t>(ad::num_threads());
  ad::parallel_for(threads, 1, [&](std::size_t t0, std::size_t t1) {
    const ad::FlushDenormals ftz;  // optimizer state decays toward 0 where a gradient stays 0
    for (const Range& r : ranges) {
      const std::size_t step = ((r.rows + threads - 1) / threads + 15) / 16 * 16;
      const std::size_t b = std::min(r.rows, t0 * step) * r.row_size, e = std::min(r.rows, t1 * step) * r.row_size;
      if (b < e) update(r.index, r.grad.data(), b, e);
    }
  });
}
}  // namespace

template <class T>
SGDT<T>::SGDT(Named<T> params, double lr, double momentum, double weight_decay)
    : OptimizerT<T>(std::move(params), lr), momentum_(momentum), weight_decay_(weight_decay) {
  for (auto& [name, p] : this->params_) velocity_.push_back(TensorT<T>::zeros(p.shape()));
}

template <class T>
void SGDT<T>::step() {
  const T lr = static_cast<T>(this->lr_), mu = static_cast<T>(momentum_), wd = static_cast<T>(weight_decay_);
  for_each_parameter_range(this->params_, [&](std::size_t i, const T* __restrict d, std::size_t b, std::size_t e) {
    T* __restrict w = this->params_[i].second.data();
    T* __restrict v = velocity_[i].data();
    for (std::size_t j = b; j < e; ++j) {
      const T dj = d[j] + wd * w[j];
      v[j] = mu * v[j] + dj;
      w[j] -= lr * v[j];
    }
  });
}

template <class T>
Named<T> SGDT<T>::state() const {
  Named<T> s;
  for (std::size_t i = 0; i < this->params_.size(); ++i) s.emplace_back(this->params_[i].first + ".velocity", velocity_[i]);
  return s;
}

template <class T>
void SGDT<T>::load_state(const Named<T>& state) {
  load_slots("SGD", this->params_, state, "velocity", velocity_);
}

template <class T>
AdamT<T>::AdamT(Named<T> params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : OptimizerT<T>(std::move(params), lr), beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
  if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
    throw ad::Error("Adam: betas must lie in [0, 1), got " + std::to_string(beta1) + ", " + std::to_string(beta2));
  for (auto& [name, p] : this->params_) {
    m_.push_back(TensorT<T>::zeros(p.shape()));
    v_.push_back(TensorT<T>::zeros(p.shape()));
  }
}

namespace {
// The fused Adam update over a range of one parameter, built for several instruction sets (AE_MULTIVERSION).
template <class T>
AE_MULTIVERSION void adam_update(T* __restrict w, T* __restrict m, T* __restrict v, const T* __restrict d, std::size_t n,
                                 T b1, T b2, T wd, T step_size, T inv_sqrt_c2, T eps) {
  for (std::size_t j = 0; j < n; ++j) {
    const T gj = d[j] + wd * w[j];
    m[j] = b1 * m[j] + (1 - b1) * gj;
    v[j] = b2 * v[j] + (1 - b2) * gj * gj;
    w[j] -= step_size * m[j] / (std::sqrt(v[j]) * inv_sqrt_c2 + eps);
  }
}
template void adam_update(float*, float*, float*, const float*, std::size_t, float, float, float, float, float, float);
template void adam_update(double*, double*, double*, const double*, std::size_t, double, double, double, double, double, double);
}  // namespace

template <class T>
void AdamT<T>::step() {
  ++t_;
  const T b1 = static_cast<T>(beta1_), b2 = static_cast<T>(beta2_), wd = static_cast<T>(weight_decay_);
  const T eps = static_cast<T>(eps_);
  const double c1 = 1.0 - std::pow(beta1_, static_cast<double>(t_)), c2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));
  // p −= lr/c1 · m / (√v/√c2 + ε)
  const T step_size = static_cast<T>(this->lr_ / c1), inv_sqrt_c2 = static_cast<T>(1.0 / std::sqrt(c2));
  for_each_parameter_range(this->params_, [&](std::size_t i, const T* d, std::size_t b, std::size_t e) {
    adam_update(this->params_[i].second.data() + b, m_[i].data() + b, v_[i].data() + b, d + b, e - b, b1, b2, wd,
                step_size, inv_sqrt_c2, eps);
  });
}

template <class T>
Named<T> AdamT<T>::state() const {
  Named<T> s;
  for (std::size_t i = 0; i < this->params_.size(); ++i) {
    s.emplace_back(this->params_[i].first + ".exp_avg", m_[i]);
    s.emplace_back(this->params_[i].first + ".exp_avg_sq", v_[i]);
  }
  s.emplace_back("step", TensorT<T>::scalar(static_cast<T>(t_)));
  return s;
}

template <class T>
void AdamT<T>::load_state(const Named<T>& state) {
  const TensorT<T>* step = nullptr;
  for (auto& [name, t] : state)
    if (name == "step") step = &t;
  if (!step) throw ad::Error("Adam: state has no 'step'");
  std::vector<TensorT<T>> m, v;
  load_slots("Adam", this->params_, state, "exp_avg", m);
  load_slots("Adam", this->params_, state, "exp_avg_sq", v);
  m_ = std::move(m);
  v_ = std::move(v);
  t_ = static_cast<long>(step->item());
}

template <class T>
StepLRT<T>::StepLRT(OptimizerT<T>& opt, std::size_t step_size, double gamma)
    : opt_(opt), step_size_(step_size), gamma_(gamma), base_(opt.lr()) {
  if (step_size == 0) throw ad::Error("StepLR: step_size must be positive");
}

template <class T>
void StepLRT<T>::step() {
  ++epoch_;
  opt_.set_lr(base_ * std::pow(gamma_, static_cast<double>(epoch_ / step_size_)));
}

template <class T>
WarmupDecayLRT<T>::WarmupDecayLRT(OptimizerT<T>& opt, std::size_t warmup, std::size_t total, double final_fraction)
    : opt_(opt), warmup_(warmup), total_(std::max<std::size_t>(total, 1)), final_(final_fraction), base_(opt.lr()) {
  if (!(final_fraction > 0)) throw ad::Error("WarmupDecayLR: final fraction must be positive");
  opt_.set_lr(base_ * factor(0));
}

template <class T>
double WarmupDecayLRT<T>::factor(std::size_t step) const {
  if (step < warmup_) return static_cast<double>(step + 1) / static_cast<double>(warmup_ + 1);
  const std::size_t half = total_ / 2;
  if (step < half) return 1.0;
  return std::pow(final_, std::min(1.0, static_cast<double>(step - half) / static_cast<double>(total_ - half)));
}

template <class T>
void WarmupDecayLRT<T>::step() {
  opt_.set_lr(base_ * factor(++step_));
}

template class WarmupDecayLRT<float>;
template class WarmupDecayLRT<double>;
template class OptimizerT<float>;
template class OptimizerT<double>;
template class SGDT<float>;
template class SGDT<double>;
template class AdamT<float>;
template class AdamT<double>;
template class StepLRT<float>;
template class StepLRT<double>;

}  // namespace nn
