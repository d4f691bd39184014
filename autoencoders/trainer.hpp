// The training loop shared by every variant:
//   for each epoch: for each batch: zero_grad, L = model.loss(x), L.backward(), optimizer.step()
// with per-epoch callbacks (progress, metrics, checkpoints). It stops with a clear message when the loss is
// not finite, instead of training on NaN.
#pragma once

#include <functional>
#include <stdexcept>

#include "autoencoders/model.hpp"
#include "nn/data.hpp"
#include "nn/optim.hpp"

namespace ae {

class NonFiniteLoss : public ad::Error {
 public:
  using ad::Error::Error;
};

struct EpochStats {
  std::size_t epoch = 0;   // 1-based
  std::size_t epochs = 0;
  std::vector<std::pair<std::string, double>> terms;  // mean over the epoch's batches; "loss" first
  double seconds = 0;
  double samples_per_second = 0;
  double loss() const { return terms.empty() ? 0.0 : terms.front().second; }
  double term(const std::string& name) const;  // throws if absent
};

// Called after each batch (epoch, batch index, number of batches, batch loss) and after each epoch.
struct Callbacks {
  std::function<void(std::size_t, std::size_t, std::size_t, double)> on_batch;
  std::function<void(const EpochStats&)> on_epoch;
};

// Trains for `epochs` and returns the stats of each epoch.
std::vector<EpochStats> fit(AutoencoderModel& model, nn::DataLoader& loader, nn::Optimizer& optimizer,
                            std::size_t epochs, const Callbacks& callbacks = {});

// Mean loss terms over a data set, in eval mode and without a graph ("loss" first).
std::vector<std::pair<std::string, double>> evaluate(AutoencoderModel& model, const Tensor& data,
                                                     std::size_t batch_size = 1000);

// Runs `fn` on the rows of `data` in batches under no-grad (eval helpers, e.g. encode a whole test set)
// and stacks the results along axis 0.
Tensor map_batches(const Tensor& data, const std::function<Tensor(const Tensor&)>& fn, std::size_t batch_size = 1000);

// Mean squared error per pixel between two [N, D] tensors.
double mse(const Tensor& a, const Tensor& b);

}  // namespace ae
