#include "autoencoders/pca.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xview.hpp>

#include "autodiff/blas.hpp"

namespace ae {

void PCA::fit(const ad::Tensor& data) {
  if (data.dim() != 2 || data.size(0) < 2) throw ad::Error("PCA::fit: data must be [N ≥ 2, D], got " + ad::shape_str(data.shape()));
  const std::size_t n = data.size(0), d = data.size(1);
  mean_.assign(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean_[j] += data.data()[i * d + j];
  for (auto& m : mean_) m /= static_cast<double>(n);
  std::vector<double> centered(n * d);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) centered[i * d + j] = data.data()[i * d + j] - mean_[j];
  xt::xtensor<double, 2> cov = xt::zeros<double>({d, d});
  ad::blas::gemm<double>(true, false, d, d, n, 1.0 / static_cast<double>(n - 1), centered.data(), d, centered.data(), d,
                         0.0, cov.data(), d);
  const auto [values, vectors] = xt::linalg::eigh(cov);  // ascending eigenvalues, eigenvectors in columns
  eigenvalues_.resize(d);
  axes_.resize(d * d);
  for (std::size_t i = 0; i < d; ++i) {
    const std::size_t src = d - 1 - i;  // descending
    eigenvalues_[i] = std::max(0.0, static_cast<double>(values(src)));
    // fix the sign (largest-magnitude coordinate positive) so the axes are reproducible
    std::size_t big = 0;
    for (std::size_t j = 0; j < d; ++j)
      if (std::abs(vectors(j, src)) > std::abs(vectors(big, src))) big = j;
    const double sign = vectors(big, src) < 0 ? -1.0 : 1.0;
    for (std::size_t j = 0; j < d; ++j) axes_[i * d + j] = sign * vectors(j, src);
  }
}

void PCA::check(std::size_t k, const char* op) const {
  if (!fitted()) throw ad::Error(std::string("PCA::") + op + ": fit() first");
  if (k == 0 || k > dim())
    throw ad::Error(std::string("PCA::") + op + ": " + std::to_string(k) + " components requested, data has " + std::to_string(dim()) + " dimensions");
}

ad::Tensor PCA::components(std::size_t k) const {
  check(k, "components");
  ad::Tensor c = ad::Tensor::zeros({k, dim()});
  for (std::size_t i = 0; i < k * dim(); ++i) c.data()[i] = static_cast<float>(axes_[i]);
  return c;
}

ad::Tensor PCA::mean() const {
  ad::Tensor m = ad::Tensor::zeros({dim()});
  for (std::size_t j = 0; j < dim(); ++j) m.data()[j] = static_cast<float>(mean_[j]);
  return m;
}

ad::Tensor PCA::transform(const ad::Tensor& x, std::size_t k) const {
  check(k, "transform");
  if (x.dim() != 2 || x.size(1) != dim())
    throw ad::Error("PCA::transform: input " + ad::shape_str(x.shape()) + " should be [N, " + std::to_string(dim()) + "]");
  ad::NoGradGuard no_grad;
  return ad::matmul(ad::sub(x, mean()), components(k), false, true);
}

ad::Tensor PCA::inverse_transform(const ad::Tensor& z) const {
  if (z.dim() != 2) throw ad::Error("PCA::inverse_transform: codes must be [N, k], got " + ad::shape_str(z.shape()));
  check(z.size(1), "inverse_transform");
  ad::NoGradGuard no_grad;
  return ad::add(ad::matmul(z, components(z.size(1))), mean());
}

ad::Tensor PCA::reconstruct(const ad::Tensor& x, std::size_t k) const { return inverse_transform(transform(x, k)); }

double PCA::explained_variance_ratio(std::size_t k) const {
  check(k, "explained_variance_ratio");
  const double total = std::accumulate(eigenvalues_.begin(), eigenvalues_.end(), 0.0);
  return std::accumulate(eigenvalues_.begin(), eigenvalues_.begin() + static_cast<std::ptrdiff_t>(k), 0.0) / total;
}

std::vector<double> principal_angles_degrees(const ad::Tensor& a, const ad::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(0))
    throw ad::Error("principal_angles_degrees: bases " + ad::shape_str(a.shape()) + " and " + ad::shape_str(b.shape()) +
                    " must be [D, k] and [D, l]");
  auto orthonormal = [](const ad::Tensor& m) {
    xt::xtensor<double, 2> md = xt::cast<double>(m.value());
    auto [q, r] = xt::linalg::qr(md, xt::linalg::qrmode::reduced);
    return xt::xtensor<double, 2>(q);
  };
  const xt::xtensor<double, 2> qa = orthonormal(a), qb = orthonormal(b);
  const xt::xtensor<double, 2> m = xt::linalg::dot(xt::transpose(qa), qb);
  const auto [u, s, vt] = xt::linalg::svd(m, false);
  std::vector<double> angles;
  for (double v : s) angles.push_back(std::acos(std::clamp(v, -1.0, 1.0)) * 180.0 / M_PI);
  std::sort(angles.begin(), angles.end());
  return angles;
}

}  // namespace ae
