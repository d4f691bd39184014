#include "nn/module.hpp"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

namespace nn {

namespace {
// While summary() runs, every module call is recorded here (one summary at a time per thread).
struct SummaryRow {
  const void* module;
  Shape output;
};
thread_local std::vector<SummaryRow>* recording = nullptr;
}  // namespace

template <class T>
TensorT<T> ModuleT<T>::operator()(const TensorT<T>& x) {
  TensorT<T> y = forward(x);
  if (recording) recording->push_back({this, y.shape()});
  return y;
}

template <class T>
void ModuleT<T>::collect(const std::string& prefix, bool params, bool buffers, Named<T>& out,
                         std::vector<const void*>& seen) const {
  auto add = [&](const Named<T>& own) {
    for (const auto& [name, t] : own) {
      const void* id = t.node().get();
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      seen.push_back(id);
      out.emplace_back(prefix + name, t);
    }
  };
  if (params) add(params_);
  if (buffers) add(buffers_);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out, seen);
}

template <class T>
Named<T> ModuleT<T>::named_parameters() const {
  Named<T> out;
  std::vector<const void*> seen;
  collect("", true, false, out, seen);
  return out;
}

template <class T>
Named<T> ModuleT<T>::named_buffers() const {
  Named<T> out;
  std::vector<const void*> seen;
  collect("", false, true, out, seen);
  return out;
}

template <class T>
Named<T> ModuleT<T>::state_dict() const {
  Named<T> out;
  std::vector<const void*> seen;
  collect("", true, true, out, seen);
  return out;
}

template <class T>
std::vector<TensorT<T>> ModuleT<T>::parameters() const {
  std::vector<TensorT<T>> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

template <class T>
std::size_t ModuleT<T>::parameter_count() const {
  std::size_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

template <class T>
void ModuleT<T>::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

template <class T>
void ModuleT<T>::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

template <class T>
TensorT<T>& ModuleT<T>::register_parameter(const std::string& name, TensorT<T> value) {
  if (value.is_leaf()) value.set_requires_grad(true);
  value.set_name(name);
  params_.emplace_back(name, std::move(value));
  return params_.back().second;
}

template <class T>
TensorT<T>& ModuleT<T>::register_buffer(const std::string& name, TensorT<T> value) {
  value.set_name(name);
  buffers_.emplace_back(name, std::move(value));
  return buffers_.back().second;
}

template <class T>
std::string ModuleT<T>::summary(const Shape& input_shape) {
  // Qualified names of every module in the tree.
  std::map<const void*, std::pair<std::string, const ModuleT*>> names;
  std::vector<std::pair<std::string, const ModuleT*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    names[m] = {prefix.empty() ? "(model)" : prefix, m};
    for (auto& [n, c] : m->children_) stack.push_back({prefix.empty() ? n : prefix + "." + n, c.get()});
  }
  std::vector<SummaryRow> rows;
  const bool was_training = training_;
  eval();  // no dropout or batch-statistics updates while probing shapes
  {
    ad::NoGradGuard no_grad;
    recording = &rows;
    try {
      (*this)(TensorT<T>::zeros(input_shape));
    } catch (...) {
      recording = nullptr;
      train(was_training);
      throw;
    }
    recording = nullptr;
  }
  train(was_training);

  std::ostringstream os;
  os << std::left << std::setw(28) << "layer" << std::setw(34) << "type" << std::setw(18) << "output shape"
     << std::right << std::setw(12) << "params" << "\n"
     << std::string(92, '-') << "\n";
  os << std::left << std::setw(28) << "input" << std::setw(34) << "" << std::setw(18) << ad::shape_str(input_shape)
     << "\n";
  for (const auto& row : rows) {
    auto [name, m] = names.at(row.module);
    if (m == this) continue;
    std::size_t own = 0;
    for (auto& [n, p] : m->params_) own += p.numel();
    std::string type = m->type_name();
    if (!m->describe().empty()) type += "(" + m->describe() + ")";
    os << std::left << std::setw(28) << name << std::setw(34) << type << std::setw(18) << ad::shape_str(row.output)
       << std::right << std::setw(12) << own << "\n";
  }
  os << std::string(92, '-') << "\n"
     << "total parameters: " << parameter_count() << "\n";
  return os.str();
}

template <class T>
SequentialT<T>::SequentialT(std::vector<std::shared_ptr<ModuleT<T>>> layers) {
  for (auto& l : layers) push_back(std::move(l));
}

template <class T>
void SequentialT<T>::push_back(std::shared_ptr<ModuleT<T>> layer) {
  if (!layer) throw ad::Error("Sequential: layer " + std::to_string(layers_.size()) + " is null");
  this->register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

template <class T>
TensorT<T> SequentialT<T>::forward(const TensorT<T>& x) {
  TensorT<T> h = x;
  for (auto& layer : layers_) h = (*layer)(h);
  return h;
}

template class ModuleT<float>;
template class ModuleT<double>;
template class SequentialT<float>;
template class SequentialT<double>;

}  // namespace nn
