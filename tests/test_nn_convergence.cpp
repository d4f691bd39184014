// Convergence: a small MLP classifier learns a real MNIST subset (well above the 10% of chance).
#define BOOST_TEST_MODULE nn_convergence
#include <cmath>

#include "helpers.hpp"
#include "nn/data.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/optim.hpp"

BOOST_AUTO_TEST_CASE(mlp_classifier_learns_mnist_subset) {
  const std::string data = nn::default_data_dir();
  const nn::Dataset train = nn::load_mnist(data, nn::Split::Train, 20000);
  const nn::Dataset test = nn::load_mnist(data, nn::Split::Test, 2000);
  ad::Generator gen(2024);
  nn::Sequential model({std::make_shared<nn::Linear>(784, 128, gen), std::make_shared<nn::ReLU>(),
                        std::make_shared<nn::Linear>(128, 10, gen)});
  nn::Adam adam(model.named_parameters(), 1e-3);
  nn::DataLoader loader(train.images, train.labels, 64, gen);
  double first_epoch_loss = 0, last_epoch_loss = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    double total = 0;
    std::size_t batches = 0;
    for (nn::Batch b; loader.next(b); ++batches) {
      adam.zero_grad();
      const ad::Tensor loss = nn::cross_entropy_loss(model(b.x), b.labels);
      BOOST_REQUIRE(std::isfinite(loss.item()));
      loss.backward();
      adam.step();
      total += loss.item();
    }
    (epoch == 0 ? first_epoch_loss : last_epoch_loss) = total / batches;
  }
  ad::NoGradGuard no_grad;
  const ad::Tensor logits = model(test.images);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < test.size(); ++i) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < 10; ++k)
      if (logits.value()(i, k) > logits.value()(i, best)) best = k;
    correct += best == test.labels[i];
  }
  const double accuracy = static_cast<double>(correct) / test.size();
  BOOST_TEST_MESSAGE("train loss epoch 1 " << first_epoch_loss << ", epoch 3 " << last_epoch_loss
                                           << "; test accuracy " << accuracy << " on " << test.size() << " images");
  BOOST_TEST(last_epoch_loss < 0.5 * first_epoch_loss);
  BOOST_TEST(accuracy > 0.90);  // chance is 0.10; full MNIST reaches 0.97 in 3 epochs
}
