// The tensor of the reverse-mode autodiff: values on an xtensor container plus a node in the graph.
//
// Design (after flashlight's Variable and micrograd):
//   * a TensorT<T> is a cheap handle (shared_ptr) to a Node<T>;
//   * a Node keeps its value, the nodes it was computed from, and a backward function;
//   * backward functions are written with the same tensor ops, so a gradient can itself be differentiated
//     (backward(create_graph = true)); without create_graph they run under NoGradGuard and record nothing;
//   * backward() walks an iterative topological order (no recursion), and so does the destructor.
//
// T is float for training and double for gradient checks; both are instantiated in the .cpp files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace ad {

using Shape = std::vector<std::size_t>;

// "[128,784]": how every error message writes a shape.
std::string shape_str(const Shape& shape);
template <class S>
Shape to_shape(const S& s) { return Shape(s.begin(), s.end()); }
std::size_t shape_numel(const Shape& shape);

// Every error the library raises: the message names the op and the shapes (or the file).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- grad mode ---------------------------------------------------------------------------------
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// RAII: inside its scope ops record no graph (evaluation, optimizer steps, plain backward).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// RAII: the opposite, used by backward(create_graph = true).
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

template <class T>
class TensorT;
template <class T>
struct Node;

// What a backward function receives: its inputs, its own output, dL/d(output), and which inputs need a gradient.
template <class T>
struct BackwardArgs {
  const std::vector<TensorT<T>>& inputs;
  const TensorT<T>& output;
  const TensorT<T>& grad;
  const std::vector<bool>& needs;
};

// Returns dL/d(input i) for every input (an undefined tensor where !needs[i]).
template <class T>
using BackwardFn = std::function<std::vector<TensorT<T>>(const BackwardArgs<T>&)>;

template <class T>
struct Node {
  xt::xarray<T> value;
  bool requires_grad = false;
  bool freed = false;          // backward() released this node's graph
  bool retains_grad = false;   // a non-leaf asked to keep its .grad
  std::string op = "leaf";     // for errors and to_dot
  std::string name;            // optional, e.g. "encoder.0.weight"
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn<T> backward;      // empty for leaves
  std::shared_ptr<Node> grad;  // accumulated dL/d(this), for leaves (and retain_grad)

  // A leaf has no backward: created by the user, or computed when no gradient was needed.
  bool is_leaf() const { return !backward && !freed; }
  ~Node();  // iterative: a 100,000-op chain must not overflow the stack
};

template <class T>
class TensorT {
 public:
  using value_type = T;
  using Array = xt::xarray<T>;

  TensorT() = default;  // undefined: no node
  explicit TensorT(Array value, bool requires_grad = false);
  explicit TensorT(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

  static TensorT from_vector(const std::vector<T>& values, const Shape& shape, bool requires_grad = false);
  static TensorT scalar(T value, bool requires_grad = false);
  static TensorT zeros(const Shape& shape, bool requires_grad = false);
  static TensorT ones(const Shape& shape, bool requires_grad = false);
  static TensorT full(const Shape& shape, T value, bool requires_grad = false);

  bool defined() const { return static_cast<bool>(node_); }
  const Array& value() const { return checked().value; }
  Array& value() { return checked().value; }  // in-place updates (optimizers); not recorded in the graph
  const T* data() const { return value().data(); }
  T* data() { return value().data(); }
  Shape shape() const { return to_shape(value().shape()); }
  std::size_t dim() const { return value().dimension(); }
  std::size_t numel() const { return value().size(); }
  std::size_t size(std::size_t axis) const;
  T item() const;  // the single value of a one-element tensor

  bool requires_grad() const { return checked().requires_grad; }
  TensorT& set_requires_grad(bool requires_grad = true);  // leaves only
  bool is_leaf() const { return checked().is_leaf(); }
  const std::string& op() const { return checked().op; }
  const std::string& name() const { return checked().name; }
  TensorT& set_name(std::string name);

  // dL/d(this) accumulated by backward(); undefined until the first backward reaches it.
  TensorT grad() const;
  void set_grad(const TensorT& grad);
  void zero_grad();    // drops the gradient (like PyTorch's zero_grad(set_to_none=True))
  void retain_grad();  // keep .grad on a non-leaf too

  // Reverse-mode sweep from this tensor. A non-scalar needs an explicit upstream gradient.
  // retain_graph keeps the graph for another backward; create_graph records the backward itself
  // (and implies retain_graph), so the gradients can be differentiated again.
  void backward(bool retain_graph = false, bool create_graph = false) const;
  void backward(const TensorT& grad, bool retain_graph = false, bool create_graph = false) const;

  // A new leaf with a copy of the values and no history.
  TensorT detach() const;

  const std::shared_ptr<Node<T>>& node() const { return node_; }

 private:
  Node<T>& checked() const;
  std::shared_ptr<Node<T>> node_;
};

using Tensor = TensorT<float>;
using Tensor64 = TensorT<double>;

// torch.autograd.grad: dL/d(inputs) for an output, without touching any .grad.
// Inputs the output does not depend on get zeros.
template <class T>
std::vector<TensorT<T>> grad(const TensorT<T>& output, const std::vector<TensorT<T>>& inputs,
                             const TensorT<T>& grad_output = TensorT<T>(), bool retain_graph = false,
                             bool create_graph = false);

// How every op builds its result: records inputs and backward only when grad mode is on and an input needs it.
template <class T>
TensorT<T> make_result(xt::xarray<T>&& value, const char* op, std::vector<TensorT<T>> inputs, BackwardFn<T> backward);

// A constant (no grad) copy of t in another precision, e.g. to compare float32 with float64.
template <class U, class T>
TensorT<U> cast(const TensorT<T>& t);

}  // namespace ad
