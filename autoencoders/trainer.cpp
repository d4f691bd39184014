#include "autoencoders/trainer.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include "autodiff/denormals.hpp"

namespace ae {

namespace {
// sums["loss"] and each term, weighted by the batch's size.
void add_terms(Terms& sums, const Loss& l, double total, double weight) {
  if (sums.values.empty()) {
    sums.values.emplace_back("loss", 0.0);
    for (auto& [n, v] : l.terms.values) sums.values.emplace_back(n, 0.0);
  }
  sums.values[0].second += weight * total;
  for (std::size_t i = 0; i < l.terms.values.size() && i + 1 < sums.values.size(); ++i)
    sums.values[i + 1].second += weight * l.terms.values[i].second;
}

// The labels of rows start..end, or none.
std::vector<std::size_t> labels_of(const std::vector<std::size_t>& labels, std::size_t start, std::size_t end) {
  if (labels.empty()) return {};
  return std::vector<std::size_t>(labels.begin() + static_cast<std::ptrdiff_t>(start), labels.begin() + static_cast<std::ptrdiff_t>(end));
}
}  // namespace

std::vector<EpochStats> fit(nn::Module& model, nn::DataLoader& loader, nn::Optimizer& optimizer, std::size_t epochs,
                            const Objective& objective, const Callbacks& callbacks) {
  std::vector<EpochStats> history;
  const std::size_t batches = loader.num_batches();
  for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    const auto t0 = std::chrono::steady_clock::now();
    Terms sums;
    std::size_t seen = 0, b = 0;
    for (nn::Batch batch; loader.next(batch); ++b) {
      // Weights fed only zeros (MNIST's border pixels) decay toward 0 and their products pass through the
      // subnormal floats, where x86 arithmetic is many times slower: each batch runs with them flushed to 0.
      const ad::FlushDenormals ftz;
      optimizer.zero_grad();
      Loss l = objective(batch);
      const double total = l.total.item();
      if (!std::isfinite(total)) {
        std::ostringstream os;
        os << "training stopped: the loss is " << total << " at epoch " << epoch << ", batch " << b + 1 << " of " << batches;
        for (auto& [n, v] : l.terms.values) os << " (" << n << " " << v << ")";
        os << "; try a smaller learning rate";
        throw NonFiniteLoss(os.str());
      }
      l.total.backward();
      optimizer.step();
      add_terms(sums, l, total, static_cast<double>(batch.x.size(0)));
      seen += batch.x.size(0);
      if (callbacks.on_batch) callbacks.on_batch(epoch, b + 1, batches, total);
    }
    EpochStats s;
    s.epoch = epoch;
    s.epochs = epochs;
    for (auto& [n, v] : sums.values) s.terms.values.emplace_back(n, v / static_cast<double>(seen));
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.samples_per_second = static_cast<double>(seen) / std::max(s.seconds, 1e-9);
    history.push_back(s);
    if (callbacks.on_epoch) callbacks.on_epoch(s);
  }
  return history;
}

std::vector<EpochStats> fit(AutoencoderModel& model, nn::DataLoader& loader, nn::Optimizer& optimizer,
                            std::size_t epochs, const Callbacks& callbacks) {
  return fit(model, loader, optimizer, epochs, [&model](const nn::Batch& b) { return model.loss(b.x); }, callbacks);
}

Terms evaluate(nn::Module& model, const Tensor& data, const std::vector<std::size_t>& labels, const Objective& objective,
               std::size_t batch_size) {
  const bool was_training = model.is_training();
  model.eval();
  ad::NoGradGuard no_grad;
  Terms sums;
  const std::size_t n = data.size(0);
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t end = std::min(n, start + batch_size);
    nn::Batch batch;
    batch.x = ad::slice(data, 0, start, end);
    batch.labels = labels_of(labels, start, end);
    const Loss l = objective(batch);
    add_terms(sums, l, l.total.item(), static_cast<double>(end - start));
  }
  for (auto& [name, v] : sums.values) v /= static_cast<double>(n);
  model.train(was_training);
  return sums;
}

Terms evaluate(AutoencoderModel& model, const Tensor& data, std::size_t batch_size) {
  return evaluate(model, data, {}, [&model](const nn::Batch& b) { return model.loss(b.x); }, batch_size);
}

Tensor map_batches(const Tensor& data, const std::function<Tensor(const Tensor&)>& fn, std::size_t batch_size) {
  ad::NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (std::size_t start = 0; start < data.size(0); start += batch_size)
    parts.push_back(fn(ad::slice(data, 0, start, std::min(data.size(0), start + batch_size))));
  return parts.size() == 1 ? parts[0] : ad::concat(parts, 0);
}

double mean_squared_error(const Tensor& a, const Tensor& b) {
  ad::NoGradGuard no_grad;
  if (a.shape() != b.shape())
    throw ad::Error("mean_squared_error: shapes " + ad::shape_str(a.shape()) + " and " + ad::shape_str(b.shape()) + " differ");
  double s = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const double d = static_cast<double>(a.data()[i]) - b.data()[i];
    s += d * d;
  }
  return s / static_cast<double>(a.numel());
}

}  // namespace ae
