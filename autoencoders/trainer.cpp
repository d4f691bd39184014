#include "autoencoders/trainer.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

namespace ae {

double EpochStats::term(const std::string& name) const {
  for (auto& [n, v] : terms)
    if (n == name) return v;
  throw ad::Error("EpochStats: no term '" + name + "'");
}

namespace {
void add_terms(std::vector<std::pair<std::string, double>>& sums, const Loss& l, double total, double weight) {
  if (sums.empty()) {
    sums.emplace_back("loss", 0.0);
    for (auto& [n, v] : l.terms) sums.emplace_back(n, 0.0);
  }
  sums[0].second += weight * total;
  for (std::size_t i = 0; i < l.terms.size() && i + 1 < sums.size(); ++i) sums[i + 1].second += weight * l.terms[i].second;
}
}  // namespace

std::vector<EpochStats> fit(AutoencoderModel& model, nn::DataLoader& loader, nn::Optimizer& optimizer,
                            std::size_t epochs, const Callbacks& callbacks) {
  std::vector<EpochStats> history;
  const std::size_t batches = loader.num_batches();
  for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::pair<std::string, double>> sums;
    std::size_t seen = 0, b = 0;
    for (nn::Batch batch; loader.next(batch); ++b) {
      optimizer.zero_grad();
      Loss l = model.loss(batch.x);
      const double total = l.total.item();
      if (!std::isfinite(total)) {
        std::ostringstream os;
        os << "training stopped: the loss is " << total << " at epoch " << epoch << ", batch " << b + 1 << " of " << batches;
        for (auto& [n, v] : l.terms) os << " (" << n << " " << v << ")";
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
    for (auto& [n, v] : sums) s.terms.emplace_back(n, v / static_cast<double>(seen));
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.samples_per_second = static_cast<double>(seen) / std::max(s.seconds, 1e-9);
    history.push_back(s);
    if (callbacks.on_epoch) callbacks.on_epoch(s);
  }
  return history;
}

std::vector<std::pair<std::string, double>> evaluate(AutoencoderModel& model, const Tensor& data, std::size_t batch_size) {
  const bool was_training = model.is_training();
  model.eval();
  ad::NoGradGuard no_grad;
  std::vector<std::pair<std::string, double>> sums;
  const std::size_t n = data.size(0);
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::size_t end = std::min(n, start + batch_size);
    const Tensor x = ad::slice(data, 0, start, end);
    const Loss l = model.loss(x);
    add_terms(sums, l, l.total.item(), static_cast<double>(end - start));
  }
  for (auto& [name, v] : sums) v /= static_cast<double>(n);
  model.train(was_training);
  return sums;
}

Tensor map_batches(const Tensor& data, const std::function<Tensor(const Tensor&)>& fn, std::size_t batch_size) {
  ad::NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (std::size_t start = 0; start < data.size(0); start += batch_size)
    parts.push_back(fn(ad::slice(data, 0, start, std::min(data.size(0), start + batch_size))));
  return parts.size() == 1 ? parts[0] : ad::concat(parts, 0);
}

double mse(const Tensor& a, const Tensor& b) {
  ad::NoGradGuard no_grad;
  if (a.shape() != b.shape()) throw ad::Error("mse: shapes " + ad::shape_str(a.shape()) + " and " + ad::shape_str(b.shape()) + " differ");
  double s = 0;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const double d = static_cast<double>(a.data()[i]) - b.data()[i];
    s += d * d;
  }
  return s / static_cast<double>(a.numel());
}

}  // namespace ae
