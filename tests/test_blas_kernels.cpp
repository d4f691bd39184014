// Which OpenBLAS kernels the library's products run on (autodiff/blas_kernels.cpp). CTest runs this twice: as the
// environment has it, and with OPENBLAS_CORETYPE=Prescott, which the library must leave as the user asked.
#define BOOST_TEST_MODULE blas_kernels
#include <boost/test/unit_test.hpp>

#include <cblas.h>
#include <strings.h>

#include <cstdlib>
#include <string>

#include "autodiff/blas.hpp"
#include "autodiff/ops.hpp"
#include "autodiff/parallel.hpp"

BOOST_AUTO_TEST_CASE(products_run_on_the_kernels_the_cpu_allows_unless_the_environment_names_them) {
  ad::num_threads();  // the pool starts, and with it the choice of kernels
  const std::string core = openblas_get_corename(), blas = ad::blas::config();
  BOOST_TEST_MESSAGE("BLAS: " << blas);
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  __builtin_cpu_init();
  if (env && *env) {
    BOOST_TEST(strcasecmp(core.c_str(), env) == 0, "OPENBLAS_CORETYPE=" << env << " but the kernels are " << core);
    BOOST_TEST(blas.find("the library chose") == std::string::npos);
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    BOOST_TEST(core != "Prescott", "a CPU with AVX2 and FMA runs OpenBLAS's generic SSE3 kernels: " << blas);
  }
  // the products still compute what they should on whichever kernels were chosen
  ad::Tensor a = ad::Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3}),
             b = ad::Tensor::from_vector({1, 0, 0, 1, 1, 1}, {3, 2});
  const ad::Tensor c = ad::matmul(a, b);
  BOOST_TEST(c.data()[0] == 4.0f);
  BOOST_TEST(c.data()[1] == 5.0f);
  BOOST_TEST(c.data()[2] == 10.0f);
  BOOST_TEST(c.data()[3] == 11.0f);
}
