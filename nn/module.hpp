// Modules: a tree of named parameters (`encoder.0.weight`), buffers kept apart (BatchNorm's running
// statistics), train()/eval(), zero_grad() and a Keras-like summary(). Names follow PyTorch's C++ frontend.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/ops.hpp"

namespace nn {

using ad::Shape;
using ad::TensorT;

template <class T>
using Named = std::vector<std::pair<std::string, TensorT<T>>>;

template <class T>
class ModuleT : public std::enable_shared_from_this<ModuleT<T>> {
 public:
  virtual ~ModuleT() = default;

  // Calls forward(); every call of a child should go through here, so summary() can see it.
  TensorT<T> operator()(const TensorT<T>& x);
  virtual TensorT<T> forward(const TensorT<T>& x) = 0;

  virtual std::string type_name() const = 0;        // "Linear"
  virtual std::string describe() const { return ""; }  // "784 -> 256"

  // Recursive, in registration order; a parameter shared by two modules (tied weights) appears once.
  std::vector<TensorT<T>> parameters() const;
  Named<T> named_parameters() const;
  Named<T> named_buffers() const;
  // Parameters and buffers together, module by module (each module's parameters, then its buffers, then its
  // children's), in the order of PyTorch's state_dict(): what a checkpoint holds.
  Named<T> state_dict() const;
  std::vector<std::pair<std::string, std::shared_ptr<ModuleT>>> named_children() const { return children_; }
  std::size_t parameter_count() const;

  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();

  // Each layer reached by a forward pass on zeros of `input_shape` (batch first), its output shape and
  // parameter count, and the total; like Keras' model.summary().
  std::string summary(const Shape& input_shape);

 protected:
  TensorT<T>& register_parameter(const std::string& name, TensorT<T> value);
  TensorT<T>& register_buffer(const std::string& name, TensorT<T> value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    children_.emplace_back(name, module);
    return module;
  }

 private:
  void collect(const std::string& prefix, bool params, bool buffers, Named<T>& out, std::vector<const void*>& seen) const;
  Named<T> params_;
  Named<T> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<ModuleT>>> children_;
  bool training_ = true;
};

// Children applied in order: Sequential({Linear(...), ReLU(), ...}); names "0", "1", ...
template <class T>
class SequentialT : public ModuleT<T> {
 public:
  SequentialT() = default;
  explicit SequentialT(std::vector<std::shared_ptr<ModuleT<T>>> layers);
  void push_back(std::shared_ptr<ModuleT<T>> layer);
  TensorT<T> forward(const TensorT<T>& x) override;
  std::string type_name() const override { return "Sequential"; }
  std::size_t size() const { return layers_.size(); }
  const std::shared_ptr<ModuleT<T>>& operator[](std::size_t i) const { return layers_.at(i); }

 private:
  std::vector<std::shared_ptr<ModuleT<T>>> layers_;
};

using Module = ModuleT<float>;
using Sequential = SequentialT<float>;

}  // namespace nn
