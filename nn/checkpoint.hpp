// Checkpoints as uncompressed .npz files: numpy.load("model.npz")["encoder.0.weight"] opens them by name.
// Writes are atomic (a temporary file, then rename). Loads are all-or-nothing: a truncated or corrupt file,
// a missing or extra parameter, or a shape mismatch fails with a message naming the file and the parameter,
// before anything is changed.
#pragma once

#include <string>

#include "nn/module.hpp"
#include "nn/optim.hpp"

namespace nn {

// Arrays by name; written as float32 for float, float64 for double. Loading reads what numpy writes: float32,
// float64, integer and bool arrays (converted to T), either byte order, C or Fortran order.
template <class T> void save_npz(const std::string& path, const Named<T>& arrays);
template <class T> Named<T> load_npz(const std::string& path);

// How the names in a file map to a module's, for weights from (or for) a model whose layers have other names:
// {"fc1.", "encoder.0."} loads the file's "fc1.weight" into the module's "encoder.0.weight", and save writes
// "encoder.0.weight" as "fc1.weight". The first pair whose prefix starts the name applies; names that match no
// pair are kept.
using NameMap = std::vector<std::pair<std::string, std::string>>;  // {file prefix, module prefix}

// A module's parameters and buffers (a PyTorch state_dict's entries, BatchNorm's num_batches_tracked included).
// In PyTorch: model.load_state_dict({k: torch.from_numpy(v) for k, v in numpy.load("model.npz").items()}), and
// numpy.savez("model.npz", **{k: v.numpy() for k, v in model.state_dict().items()}) the other way.
template <class T> void save(const ModuleT<T>& module, const std::string& path, const NameMap& names = {});
template <class T> void load(ModuleT<T>& module, const std::string& path, const NameMap& names = {});
// An optimizer's state (momenta, step count).
template <class T> void save(const OptimizerT<T>& optimizer, const std::string& path);
template <class T> void load(OptimizerT<T>& optimizer, const std::string& path);

}  // namespace nn
