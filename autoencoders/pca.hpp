// PCA, the linear baseline: the hyperplane of lowest dimension that describes the data with minimum squared error
//   ("PCA encuentra hiperplano de menor dimensión que describe los datos con mínimo error" — slides 004 "GUARDA:
//   Autoencoder básico ≠ PCA"; 001 "Encoder = PCA, if it uses linear activation functions").
// Fit: eigendecomposition of the covariance C = (1/(N−1)) X̃ᵀX̃ of the centred data X̃ (LAPACK, in double).
// transform: z = (x − μ) Vₖ;  inverse_transform: x' = z Vₖᵀ + μ.
// Departure from the slide: none in the model; the covariance takes 1/(N−1) (the sample covariance, as numpy's
// cov), which scales the explained variances, not the axes.
#pragma once

#include "autodiff/ops.hpp"

namespace ae {

class PCA {
 public:
  // Keeps the whole spectrum, so any number of components can be used afterwards.
  void fit(const ad::Tensor& data);
  bool fitted() const { return !eigenvalues_.empty(); }
  std::size_t dim() const { return mean_.size(); }

  ad::Tensor transform(const ad::Tensor& x, std::size_t k) const;          // [N, D] → [N, k]
  ad::Tensor inverse_transform(const ad::Tensor& z) const;                 // [N, k] → [N, D]
  ad::Tensor reconstruct(const ad::Tensor& x, std::size_t k) const;        // inverse_transform(transform(x, k))
  ad::Tensor components(std::size_t k) const;                              // [k, D], rows = principal axes
  const std::vector<double>& explained_variance() const { return eigenvalues_; }  // descending
  double explained_variance_ratio(std::size_t k) const;                    // Σ_{i<k} λ_i / Σ λ_i
  ad::Tensor mean() const;                                                 // [D]

 private:
  void check(std::size_t k, const char* op) const;
  std::vector<double> mean_, eigenvalues_;
  std::vector<double> axes_;  // [D, D] row-major, row i = i-th principal axis
};

// Principal angles in degrees between the column spaces of a [D, k] and b [D, l] (ascending), computed from
// the singular values of Q_aᵀ Q_b: 0° means the spaces share a direction.
std::vector<double> principal_angles_degrees(const ad::Tensor& a, const ad::Tensor& b);

}  // namespace ae
