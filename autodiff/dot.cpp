#include "autodiff/dot.hpp"

#include <sstream>
#include <unordered_map>

#include "autodiff/internal.hpp"

namespace ad {

// Boxes: ops (with their output shape); ellipses: leaves (named where named; filled when they require grad).
template <class T>
std::string to_dot(const TensorT<T>& root) {
  detail::require_defined("to_dot", root);
  std::ostringstream os;
  os << "digraph autodiff {\n  rankdir=BT;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
  std::unordered_map<const Node<T>*, std::size_t> id;
  std::vector<const Node<T>*> stack{root.node().get()};
  id[root.node().get()] = 0;
  while (!stack.empty()) {
    const Node<T>* n = stack.back();
    stack.pop_back();
    const std::size_t me = id.at(n);
    const std::string shape = shape_str(to_shape(n->value.shape()));
    if (n->is_leaf()) {
      const std::string label = n->name.empty() ? n->op : n->name;  // "leaf", or the op of a no-grad result
      os << "  n" << me << " [shape=ellipse, label=\"" << label << "\\n" << shape << "\""
         << (n->requires_grad ? ", style=filled, fillcolor=lightblue" : "") << "];\n";
    } else {
      os << "  n" << me << " [shape=box, label=\"" << n->op << "\\n" << shape << "\"];\n";
    }
    for (const auto& in : n->inputs) {
      auto [it, added] = id.emplace(in.get(), id.size());
      if (added) stack.push_back(in.get());
      os << "  n" << it->second << " -> n" << me << ";\n";
    }
  }
  os << "}\n";
  return os.str();
}

template std::string to_dot(const TensorT<float>&);
template std::string to_dot(const TensorT<double>&);

}  // namespace ad
