// The graph engine: results, backward sweep (iterative topological order), graph freeing.
#include <malloc.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xnoalias.hpp>

#include "autodiff/internal.hpp"

namespace ad {

namespace {
thread_local bool grad_enabled = true;

// Training allocates and frees the same large buffers every step; freed memory stays in the heap so the next step
// reuses warm pages instead of faulting fresh ones in (docs/PERFORMANCE.md, "Memory").
const bool heap_tuned = [] {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum: buffers up to 32 MB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  return true;
}();
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::size_t shape_numel(const Shape& shape) {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

namespace detail {
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(op, ": shapes ", shape_str(a), " and ", shape_str(b), " cannot be broadcast (axis ", i, ": ", da, " vs ",
           db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}
}  // namespace detail

// Destroying a long chain recursively would overflow the stack: unlink it iteratively instead.
template <class T>
Node<T>::~Node() {
  std::vector<std::shared_ptr<Node>> pending = std::move(inputs);
  if (grad) pending.push_back(std::move(grad));
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    if (n.use_count() == 1) {  // we hold the last reference: take its links before it dies
      for (auto& in : n->inputs) pending.push_back(std::move(in));
      n->inputs.clear();
      if (n->grad) pending.push_back(std::move(n->grad));
    }
  }
}

template <class T>
TensorT<T>::TensorT(Array value, bool requires_grad) : node_(std::make_shared<Node<T>>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

template <class T>
TensorT<T> TensorT<T>::from_vector(const std::vector<T>& values, const Shape& shape, bool requires_grad) {
  if (values.size() != shape_numel(shape))
    detail::fail("Tensor::from_vector: ", values.size(), " values do not fill shape ", shape_str(shape));
  Array a = Array::from_shape(shape);
  std::copy(values.begin(), values.end(), a.begin());
  return TensorT(std::move(a), requires_grad);
}

template <class T>
TensorT<T> TensorT<T>::scalar(T value, bool requires_grad) {
  Array a = xt::xarray<T>(value);
  return TensorT(std::move(a), requires_grad);
}

template <class T>
TensorT<T> TensorT<T>::zeros(const Shape& shape, bool requires_grad) {
  return full(shape, T(0), requires_grad);
}

template <class T>
TensorT<T> TensorT<T>::ones(const Shape& shape, bool requires_grad) {
  return full(shape, T(1), requires_grad);
}

template <class T>
TensorT<T> TensorT<T>::full(const Shape& shape, T value, bool requires_grad) {
  Array a = Array::from_shape(shape);
  a.fill(value);
  return TensorT(std::move(a), requires_grad);
}

template <class T>
Node<T>& TensorT<T>::checked() const {
  if (!node_) throw Error("Tensor: use of an undefined tensor (default-constructed, or a gradient never computed)");
  return *node_;
}

template <class T>
std::size_t TensorT<T>::size(std::size_t axis) const {
  if (axis >= dim()) detail::fail("Tensor::size: axis ", axis, " out of range for shape ", shape_str(shape()));
  return value().shape()[axis];
}

template <class T>
T TensorT<T>::item() const {
  if (numel() != 1) detail::fail("Tensor::item: tensor of shape ", shape_str(shape()), " has ", numel(), " elements, not 1");
  return *value().data();
}

template <class T>
TensorT<T>& TensorT<T>::set_requires_grad(bool requires_grad) {
  if (!is_leaf())
    detail::fail("Tensor::set_requires_grad: only leaves can change requires_grad (this is the result of '", op(), "')");
  checked().requires_grad = requires_grad;
  return *this;
}

template <class T>
TensorT<T>& TensorT<T>::set_name(std::string name) {
  checked().name = std::move(name);
  return *this;
}

template <class T>
TensorT<T> TensorT<T>::grad() const {
  return TensorT(checked().grad);
}

template <class T>
void TensorT<T>::set_grad(const TensorT& grad) {
  if (grad.defined() && grad.shape() != shape())
    detail::fail("Tensor::set_grad: gradient of shape ", shape_str(grad.shape()), " for a tensor of shape ",
                 shape_str(shape()));
  checked().grad = grad.node();
}

template <class T>
void TensorT<T>::zero_grad() {
  checked().grad.reset();
}

template <class T>
void TensorT<T>::retain_grad() {
  checked().retains_grad = true;
}

template <class T>
TensorT<T> TensorT<T>::detach() const {
  return TensorT(Array(value()), false);
}

template <class T>
TensorT<T> make_result(xt::xarray<T>&& value, const char* op, std::vector<TensorT<T>> inputs, BackwardFn<T> backward) {
  auto node = std::make_shared<Node<T>>();
  node->value = std::move(value);
  node->op = op;
  if (is_grad_enabled()) {
    const bool any = std::any_of(inputs.begin(), inputs.end(), [](const TensorT<T>& t) { return t.requires_grad(); });
    if (any) {
      node->requires_grad = true;
      node->inputs.reserve(inputs.size());
      for (auto& t : inputs) node->inputs.push_back(t.node());
      node->backward = std::move(backward);
    }
  }
  return TensorT<T>(std::move(node));
}

namespace {

// Nodes reachable from root that need a gradient, inputs before their users (iterative post-order DFS).
template <class T>
std::vector<std::shared_ptr<Node<T>>> topological_order(const std::shared_ptr<Node<T>>& root) {
  std::vector<std::shared_ptr<Node<T>>> order;
  std::unordered_set<Node<T>*> visited{root.get()};
  std::vector<std::pair<std::shared_ptr<Node<T>>, std::size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (node->freed)
      detail::fail("backward: the graph through '", node->op, "' ", shape_str(to_shape(node->value.shape())),
                   " was already freed by an earlier backward(); pass retain_graph=true to the first backward to go "
                   "through it again");
    if (next < node->inputs.size()) {
      const std::shared_ptr<Node<T>>& in = node->inputs[next++];
      if (in->requires_grad && visited.insert(in.get()).second) stack.push_back({in, 0});
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  return order;  // root last
}

// Accumulated gradient of one node during a sweep; `owned` means nobody else holds the tensor,
// so later contributions can be added in place.
template <class T>
struct Accumulated {
  TensorT<T> grad;
  bool owned = false;
};

// sum += g, or a new sum + g, elementwise on the library's threads (a shared weight's gradients are whole weight
// matrices; each element is one addition, so the split does not change the bits).
template <class T>
void add_into(xt::xarray<T>& sum, const xt::xarray<T>& g) {
  if (sum.shape() != g.shape()) {  // never in a sweep (gradients have their input's shape); xtensor broadcasts
    xt::noalias(sum) += g;
    return;
  }
  T* s = sum.data();
  const T* x = g.data();
  detail::parallel_elements(sum.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) s[i] += x[i];
  });
}
template <class T>
xt::xarray<T> added(const xt::xarray<T>& a, const xt::xarray<T>& b) {
  if (a.shape() != b.shape()) return a + b;
  xt::xarray<T> out = xt::xarray<T>::from_shape(a.shape());
  T* o = out.data();
  const T *x = a.data(), *y = b.data();
  detail::parallel_elements(out.size(), [&](std::size_t i0, std::size_t i1) {
    for (std::size_t i = i0; i < i1; ++i) o[i] = x[i] + y[i];
  });
  return out;
}

template <class T>
void accumulate(Accumulated<T>& acc, const TensorT<T>& g, bool create_graph) {
  if (!acc.grad.defined()) {
    acc.grad = g;
    return;
  }
  if (create_graph) {
    acc.grad = add(acc.grad, g);
  } else if (acc.owned || acc.grad.node().use_count() == 1) {  // nobody else holds the first contribution
    add_into(acc.grad.value(), g.value());
    acc.owned = true;
  } else {
    acc.grad = TensorT<T>(added(acc.grad.value(), g.value()));
    acc.owned = true;
  }
}

// Add g into a node's persistent .grad (leaves, retain_grad).
template <class T>
void accumulate_into_grad(Node<T>& node, const TensorT<T>& g, bool create_graph) {
  if (!node.grad) {
    // The same gradient tensor may be shared by several nodes (a + b hands g to both): adopt it only
    // when nobody else holds it, else copy, so that a later += cannot change another tensor's gradient.
    const bool exclusive = g.node().use_count() == 1;
    node.grad = create_graph || exclusive ? g.node() : TensorT<T>(xt::xarray<T>(g.value())).node();
  } else if (create_graph) {
    node.grad = add(TensorT<T>(node.grad), g).node();
  } else {
    add_into(node.grad->value, g.value());
  }
}

template <class T>
std::vector<TensorT<T>> run_backward(const TensorT<T>& root, const TensorT<T>& seed, bool retain_graph,
                                     bool create_graph, const std::vector<TensorT<T>>* capture) {
  if (!root.requires_grad())
    detail::fail("backward: the tensor of shape ", shape_str(root.shape()), " (op '", root.op(),
                 "') does not require grad: no input of its graph has requires_grad set");
  TensorT<T> g0 = seed;
  if (!g0.defined()) {
    if (root.numel() != 1)
      detail::fail("backward: output of shape ", shape_str(root.shape()),
                   " is not a scalar; pass the upstream gradient explicitly");
    g0 = TensorT<T>::ones(root.shape());
  } else if (g0.shape() != root.shape()) {
    detail::fail("backward: gradient of shape ", shape_str(g0.shape()), " for an output of shape ",
                 shape_str(root.shape()));
  }
  retain_graph = retain_graph || create_graph;

  const std::vector<std::shared_ptr<Node<T>>> order = topological_order(root.node());
  std::unordered_map<Node<T>*, Accumulated<T>> grads;
  grads.reserve(order.size());
  grads[root.node().get()].grad = g0;

  // For grad(): the gradients of the asked-for tensors, taken as the sweep passes them.
  std::unordered_map<Node<T>*, TensorT<T>> captured;
  if (capture)
    for (auto& t : *capture) captured.emplace(t.node().get(), TensorT<T>());

  std::unique_ptr<NoGradGuard> no_grad;
  std::unique_ptr<EnableGradGuard> with_grad;
  if (create_graph) with_grad = std::make_unique<EnableGradGuard>();
  else no_grad = std::make_unique<NoGradGuard>();

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node<T>* node = it->get();
    auto found = grads.find(node);
    if (found == grads.end()) continue;  // nothing flowed here
    const TensorT<T> g = std::move(found->second.grad);
    grads.erase(found);  // spent: its memory can go as soon as this node is done
    if (auto c = captured.find(node); c != captured.end()) c->second = g;
    if (!capture && (node->is_leaf() || node->retains_grad)) accumulate_into_grad(*node, g, create_graph);
    if (node->is_leaf()) continue;

    std::vector<TensorT<T>> inputs;
    std::vector<bool> needs;
    inputs.reserve(node->inputs.size());
    for (auto& in : node->inputs) {
      inputs.emplace_back(in);
      needs.push_back(in->requires_grad);
    }
    // The node's own handle, for backward functions that use their output (exp, sigmoid, ...).
    const TensorT<T> self(*it);
    const std::vector<TensorT<T>> in_grads = node->backward(BackwardArgs<T>{inputs, self, g, needs});
    if (in_grads.size() != inputs.size())
      detail::fail("backward of '", node->op, "': returned ", in_grads.size(), " gradients for ", inputs.size(), " inputs");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      if (!needs[i] || !in_grads[i].defined()) continue;
      if (in_grads[i].shape() != inputs[i].shape())
        detail::fail("backward of '", node->op, "': gradient for input ", i, " has shape ",
                     shape_str(in_grads[i].shape()), ", the input has ", shape_str(inputs[i].shape()));
      accumulate(grads[inputs[i].node().get()], in_grads[i], create_graph);
    }
    if (!retain_graph) {
      node->inputs.clear();
      node->backward = nullptr;
      node->freed = true;
    }
  }

  std::vector<TensorT<T>> result;
  if (capture) {
    for (auto& t : *capture) {
      const TensorT<T>& g = captured.at(t.node().get());
      result.push_back(g.defined() ? g : TensorT<T>::zeros(t.shape()));
    }
  }
  return result;
}

}  // namespace

template <class T>
void TensorT<T>::backward(bool retain_graph, bool create_graph) const {
  run_backward(*this, TensorT(), retain_graph, create_graph, static_cast<const std::vector<TensorT<T>>*>(nullptr));
}

template <class T>
void TensorT<T>::backward(const TensorT& grad, bool retain_graph, bool create_graph) const {
  run_backward(*this, grad, retain_graph, create_graph, static_cast<const std::vector<TensorT<T>>*>(nullptr));
}

template <class T>
std::vector<TensorT<T>> grad(const TensorT<T>& output, const std::vector<TensorT<T>>& inputs,
                             const TensorT<T>& grad_output, bool retain_graph, bool create_graph) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined()) detail::fail("grad: input ", i, " is undefined");
  return run_backward(output, grad_output, retain_graph, create_graph, &inputs);
}

template <class U, class T>
TensorT<U> cast(const TensorT<T>& t) {
  xt::xarray<U> v = xt::cast<U>(t.value());
  return TensorT<U>(std::move(v), false);
}

#define AD_TENSOR(T)                                                                                          \
  template struct Node<T>;                                                                                    \
  template class TensorT<T>;                                                                                  \
  template TensorT<T> make_result(xt::xarray<T>&&, const char*, std::vector<TensorT<T>>, BackwardFn<T>);      \
  template std::vector<TensorT<T>> grad(const TensorT<T>&, const std::vector<TensorT<T>>&, const TensorT<T>&, \
                                        bool, bool);
AD_INSTANTIATE(AD_TENSOR)
template TensorT<float> cast<float, double>(const TensorT<double>&);
template TensorT<double> cast<double, float>(const TensorT<float>&);
template TensorT<float> cast<float, float>(const TensorT<float>&);
template TensorT<double> cast<double, double>(const TensorT<double>&);

}  // namespace ad
