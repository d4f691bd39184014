// A new variant in one file: the orthogonal linear autoencoder.
//   "Si activaciones lineales y L error cuadrático medio → f(x) describe el mismo subespacio que PCA"  — slides 004
// A linear autoencoder finds PCA's subspace but not PCA's axes: any invertible mix A of the code's axes,
// W1 → A W1 and W2 → W2 A⁻¹, reconstructs equally well (lesson 02). A penalty asks for an
// orthonormal basis, as PCA's components are: the decoder's columns (the images the code mixes) orthonormal,
//   L = (1/n) Σ ‖x − W2 (W1 x + b1) − b2‖² + λ ‖W2ᵀ W2 − I‖²_F
// The extension points used: AutoencoderOptions for the architecture, and add_penalties for the new term.
// Departure from PCA: the basis is orthonormal but may still be rotated inside the subspace (PCA orders its axes by
// variance; nothing in L does).
#pragma once

#include "autoencoders/autoencoder.hpp"

struct OrthogonalOptions {
  AE_ARG(std::size_t, input) = 784;
  AE_ARG(std::size_t, code) = 16;
  AE_ARG(double, lambda) = 1.0;  // λ; 0 gives the plain linear autoencoder
};

class OrthogonalAutoencoder : public ae::Autoencoder {
 public:
  OrthogonalAutoencoder(OrthogonalOptions options, ad::Generator& gen)
      : ae::Autoencoder(ae::AutoencoderOptions()
                            .sizes({options.input(), options.code()})
                            .code(ae::Activation::Identity)
                            .output(ae::Activation::Identity),
                        gen),
        lambda_(options.lambda()) {}
  std::string type_name() const override { return "OrthogonalAutoencoder"; }

  // ‖W2ᵀ W2 − I‖_F: 0 when the decoder's columns are orthonormal.
  double orthogonality_error() {
    ad::NoGradGuard no_graph;
    return std::sqrt(ad::sum(ad::square(gram_minus_identity())).item());
  }

 protected:
  void add_penalties(ae::Loss& loss, const ad::Tensor& input, const ad::Tensor& h) override {
    (void)input, (void)h;
    if (lambda_ > 0) loss.add("orthogonality", ad::sum(ad::square(gram_minus_identity())), lambda_);
  }

 private:
  ad::Tensor gram_minus_identity() {
    // The decoder's columns, not the encoder's rows: pixels that never vary (MNIST's border) give the encoder's
    // weights on them no gradient from the reconstruction, so only the decoder can carry PCA's basis.
    const ad::Tensor& w2 = decoder_linear[0]->weight;  // [input, code]
    const std::size_t m = w2.size(1);
    ad::Tensor identity = ad::Tensor::zeros({m, m});
    for (std::size_t i = 0; i < m; ++i) identity.data()[i * m + i] = 1;
    return ad::sub(ad::matmul(w2, w2, true, false), identity);
  }
  double lambda_;
};
