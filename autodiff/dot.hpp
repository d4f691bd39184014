// The graph behind a tensor as Graphviz DOT, for teaching: `dot -Tpng graph.dot -o graph.png`.
#pragma once

#include <string>

#include "autodiff/tensor.hpp"

namespace ad {

template <class T>
std::string to_dot(const TensorT<T>& root);

}  // namespace ad
