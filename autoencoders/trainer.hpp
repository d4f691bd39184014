// The training loop shared by every model:
//   for each epoch: for each batch: zero_grad, L = objective(batch), L.backward(), optimizer.step()
// with callbacks after each batch and epoch (progress, metrics, schedules). An autoencoder's objective is its own
// loss(x); any other objective (a classifier's cross-entropy on the batch's labels, one greedy layer's
// reconstruction) trains through the same loop. It stops with a clear message when the loss is not finite,
// instead of training on NaN. Each batch runs with subnormal floats flushed to zero (ad::FlushDenormals, on every
// thread): what PyTorch's torch.set_flush_denormal(True) does, here for training only.
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
  Terms terms;             // means over the epoch's samples: "loss" first, then the objective's terms
  double seconds = 0;
  double samples_per_second = 0;
  double loss() const { return terms.loss(); }
  double term(const std::string& name) const { return terms[name]; }
};

// Called after each batch (epoch, batch index, number of batches, batch loss) and after each epoch.
struct Callbacks {
  std::function<void(std::size_t, std::size_t, std::size_t, double)> on_batch;
  std::function<void(const EpochStats&)> on_epoch;
};

// One batch's objective: its images batch.x, and its labels batch.labels when it needs them.
using Objective = std::function<Loss(const nn::Batch&)>;

// Trains `model` (train mode) for `epochs` on `objective`, and returns the stats of each epoch.
std::vector<EpochStats> fit(nn::Module& model, nn::DataLoader& loader, nn::Optimizer& optimizer, std::size_t epochs,
                            const Objective& objective, const Callbacks& callbacks = {});
// An autoencoder on its own objective, model.loss(batch.x).
std::vector<EpochStats> fit(AutoencoderModel& model, nn::DataLoader& loader, nn::Optimizer& optimizer,
                            std::size_t epochs, const Callbacks& callbacks = {});

// Mean terms of the objective over a data set ("loss" first), in eval mode and without a graph.
Terms evaluate(nn::Module& model, const Tensor& data, const std::vector<std::size_t>& labels, const Objective& objective,
               std::size_t batch_size = 1000);
Terms evaluate(AutoencoderModel& model, const Tensor& data, std::size_t batch_size = 1000);  // on model.loss

// Runs `fn` on the rows of `data` in batches under no-grad (eval helpers, e.g. encode a whole test set)
// and stacks the results along axis 0.
Tensor map_batches(const Tensor& data, const std::function<Tensor(const Tensor&)>& fn, std::size_t batch_size = 1000);

// A number, not a graph: the mean squared error per pixel between two data tensors of one shape, in double.
// (nn::mse_loss is the differentiable loss.)
double mean_squared_error(const Tensor& a, const Tensor& b);

}  // namespace ae
