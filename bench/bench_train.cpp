// Training benchmarks against ../shared/reference/torch_reference.py: the same models on Fashion-MNIST (60,000
// images), timed per epoch (shuffle, batch gather, forward, loss, backward, Adam step; evaluation outside).
//   bench_mlp  [--batch 128] [--epochs 5] [--threads 1] [--eval]   784-256-64-256-784, ReLU, sigmoid out, MSE
//   bench_vae  ...                                                   784-400-20-400-784, summed BCE + KL
//   bench_conv ...                                                   the reference's conv AE, MSE
// The last line printed is one JSON object: model, batch, sec_per_epoch (median of epochs 2..N), samples_per_sec,
// peak_rss_mb, threads, blas, core_round_trip_ns (bench/core_probe.hpp: measured before epoch 1 and after each
// epoch, outside the timed epochs).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "core_probe.hpp"

#include "autodiff/blas.hpp"
#include "autodiff/parallel.hpp"
#include "autoencoders/convolutional.hpp"
#include "autoencoders/trainer.hpp"
#include "autoencoders/variational.hpp"
#include "nn/losses.hpp"

#ifndef BENCH_MODEL
#error "BENCH_MODEL must be mlp, vae or conv"
#endif

namespace {

// The reference's MLP autoencoder: enc = Linear(784,256) ReLU Linear(256,64) ReLU; dec = Linear(64,256) ReLU
// Linear(256,784) Sigmoid; MSE.
class MLPAE : public ae::AutoencoderModel {
 public:
  explicit MLPAE(ad::Generator& gen) {
    enc = register_module("enc", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                     std::make_shared<nn::Linear>(784, 256, gen), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(256, 64, gen), std::make_shared<nn::ReLU>()}));
    dec = register_module("dec", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                     std::make_shared<nn::Linear>(64, 256, gen), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(256, 784, gen), std::make_shared<nn::Sigmoid>()}));
  }
  ad::Tensor encode(const ad::Tensor& x) override { return (*enc)(x); }
  ad::Tensor decode(const ad::Tensor& h) override { return (*dec)(h); }
  ae::Loss loss(const ad::Tensor& x) override {
    ae::Loss l;
    l.add("reconstruction", nn::mse_loss(reconstruct(x), x));
    return l;
  }
  std::string type_name() const override { return "MLPAE"; }
  std::shared_ptr<nn::Sequential> enc, dec;
};

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model_name = BENCH_MODEL;
  std::size_t batch = 128, epochs = 5;
  int threads = 1;
  bool eval = false;
  std::string data = "fashion";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "bench_" << model_name << ": " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--batch") batch = std::stoul(value());
    else if (a == "--epochs") epochs = std::stoul(value());
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--data") data = value();
    else if (a == "--eval") eval = true;
    else {
      std::cerr << "bench_" << model_name << ": unknown flag '" << a
                << "'; usage: bench_" << model_name << " [--batch N] [--epochs N] [--threads N] [--data fashion|mnist] [--eval]\n";
      return 2;
    }
  }
  try {
    if (threads > 0) ad::set_num_threads(threads);
    const nn::Dataset train = nn::load_dataset(data, nn::default_data_dir(), nn::Split::Train);
    const nn::Dataset test = nn::load_dataset(data, nn::default_data_dir(), nn::Split::Test);
    ad::Generator gen(1);
    std::unique_ptr<ae::AutoencoderModel> model;
    if (model_name == "mlp") model = std::make_unique<MLPAE>(gen);
    else if (model_name == "vae")
      model = std::make_unique<ae::VariationalAutoencoder>(ae::VAEOptions().input(784).hidden({400}).latent(20), gen);
    else model = std::make_unique<ae::ConvAutoencoder>(ae::ConvOptions(), gen);  // the reference conv AE
    nn::Adam adam(model->named_parameters(), 1e-3);
    nn::DataLoader loader(train.images, {}, batch, gen);
    std::vector<double> secs, round_trips{bench::core_round_trip_ns()};
    ae::Callbacks cb;
    cb.on_epoch = [&](const ae::EpochStats& s) {
      secs.push_back(s.seconds);
      round_trips.push_back(bench::core_round_trip_ns());
      std::printf("epoch %zu: %.3f s, loss %.5f, CPU 0-1 round trip after it %.0f ns\n", s.epoch, s.seconds, s.loss(),
                  round_trips.back());
      std::fflush(stdout);
    };
    ae::fit(*model, loader, adam, epochs, cb);
    std::vector<double> tail(secs.size() > 2 ? secs.begin() + 1 : secs.begin(), secs.end());
    std::sort(tail.begin(), tail.end());
    const double median = tail[tail.size() / 2];
    std::string metric;
    if (eval) {
      char buf[96];
      if (model_name == "vae")
        std::snprintf(buf, sizeof buf, ", \"test_neg_elbo_nats_per_image\": %.3f",
                      static_cast<ae::VariationalAutoencoder&>(*model).negative_elbo(test.images));
      else
        std::snprintf(buf, sizeof buf, ", \"test_mse_per_pixel\": %.5f", ae::evaluate(*model, test.images).loss());
      metric = buf;
    }
    std::string trips;
    for (double t : round_trips) trips += (trips.empty() ? "" : ", ") + std::to_string(static_cast<long>(t));
    std::printf("{\"model\": \"%s\", \"data\": \"%s\", \"batch\": %zu, \"epochs\": %zu, \"sec_per_epoch\": %.4f, "
                "\"samples_per_sec\": %.0f, \"peak_rss_mb\": %.1f, \"threads\": %d, \"blas\": \"%s\", "
                "\"core_round_trip_ns\": [%s]%s}\n",
                model_name.c_str(), data.c_str(), batch, epochs, median, static_cast<double>(train.size()) / median,
                peak_rss_mb(), ad::num_threads(), ad::blas::config().c_str(), trips.c_str(), metric.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_" << model_name << ": error: " << e.what() << "\n";
    return 1;
  }
}
