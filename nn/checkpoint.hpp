// Checkpoints as uncompressed .npz files: numpy.load("model.npz")["encoder.0.weight"] opens them by name.
// Writes are atomic (a temporary file, then rename). Loads are all-or-nothing: a truncated or corrupt file,
// a missing or extra parameter, or a shape mismatch fails with a message naming the file and the parameter,
// before anything is changed.
#pragma once

#include <string>

#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace nn {

// Arrays by name; float32 for float, float64 for double. Loading converts either to T.
template <class T> void save_npz(const std::string& path, const Named<T>& arrays);
template <class T> Named<T> load_npz(const std::string& path);

// A module's parameters and buffers.
template <class T> void save(const ModuleT<T>& module, const std::string& path);
template <class T> void load(ModuleT<T>& module, const std::string& path);
// An optimizer's state (momenta, step count).
template <class T> void save(const OptimizerT<T>& optimizer, const std::string& path);
template <class T> void load(OptimizerT<T>& optimizer, const std::string& path);

}  // namespace nn
