// Grader of exercise corruption (coursework/exercises/corruption.md): ae::corrupt's masking noise (each pixel set to
// 0 with probability ν) and salt-and-pepper (each pixel set to 0 or 1, half each, with probability p), the R(ξ'|ξ)
// of the denoising autoencoder (lesson 05). Statistics on a seeded sample of a million pixels: a correct answer
// that draws its random numbers in another order still passes.
#include <cmath>

#include "autoencoders/corruption.hpp"
#include "coursework/grader.hpp"

using ad::Tensor;

namespace {
constexpr std::size_t kRows = 1000, kCols = 1000;  // a million pixels
constexpr double kN = static_cast<double>(kRows * kCols);

// A rate within 5 standard errors of p (binomial, n = kN): a correct answer fails once in 3 million runs.
void rate_near(grader::Check& c, double got, double p, const std::string& what) {
  const double tol = 5 * std::sqrt(p * (1 - p) / kN) + 1e-12;
  if (std::abs(got - p) > tol)
    c.expect(false, what + " is " + grader::Check::str(got) + ", expected " + grader::Check::str(p) + " +- " + grader::Check::str(tol));
}

struct Counts {
  double zeros = 0, ones = 0, kept = 0, other = 0;  // fractions of the pixels
};

// Compares the corrupted pixels with the clean ones.
Counts count(const Tensor& clean, const Tensor& noisy) {
  Counts k;
  for (std::size_t i = 0; i < clean.numel(); ++i) {
    const float a = clean.data()[i], b = noisy.data()[i];
    if (b == a) k.kept += 1;
    else if (b == 0.0f) k.zeros += 1;
    else if (b == 1.0f) k.ones += 1;
    else k.other += 1;
  }
  k.zeros /= kN, k.ones /= kN, k.kept /= kN, k.other /= kN;
  return k;
}

// Clean pixels in (0.01, 0.99): any change to 0 or 1 shows.
Tensor clean_pixels(std::uint64_t seed) {
  ad::Generator gen(seed);
  return ad::rand_uniform<float>({kRows, kCols}, gen, 0.01f, 0.99f);
}

bool same(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.numel(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}
}  // namespace

int main() {
  grader::Grader g("corruption");

  g.check("masking, nu = 0.3: a fraction nu of the pixels set to 0, the others untouched", 2, [](grader::Check& c) {
    const Tensor x = clean_pixels(41);
    ad::Generator gen(42);
    const Counts k = count(x, ae::corrupt(x, ae::Corruption::Masking, 0.3, gen));
    rate_near(c, k.zeros, 0.3, "the fraction of pixels set to 0");
    c.expect(k.ones == 0 && k.other == 0, "masking changed pixels to values other than 0 (" +
                                              grader::Check::str(100 * (k.ones + k.other)) + " % of them)");
  });

  g.check("masking: nu = 0 changes nothing, nu = 1 sets every pixel to 0, and the input is not modified", 1, [](grader::Check& c) {
    const Tensor x = clean_pixels(43), copy = x.detach();
    ad::Generator gen(44);
    c.expect(same(ae::corrupt(x, ae::Corruption::Masking, 0.0, gen), x), "masking at nu = 0 changed some pixels");
    const Counts k = count(x, ae::corrupt(x, ae::Corruption::Masking, 1.0, gen));
    c.expect(k.zeros == 1.0, "masking at nu = 1 left " + grader::Check::str(100 * (1 - k.zeros)) + " % of the pixels non-zero");
    c.expect(same(x, copy), "corrupt modified its input x (it must return a corrupted copy)");
  });

  g.check("salt-and-pepper, p = 0.2: a fraction p/2 set to 0, p/2 set to 1, the others untouched", 2, [](grader::Check& c) {
    const Tensor x = clean_pixels(45);
    ad::Generator gen(46);
    const Counts k = count(x, ae::corrupt(x, ae::Corruption::SaltAndPepper, 0.2, gen));
    rate_near(c, k.zeros, 0.1, "the fraction of pixels set to 0 (pepper)");
    rate_near(c, k.ones, 0.1, "the fraction of pixels set to 1 (salt)");
    c.expect(k.other == 0, "salt-and-pepper changed " + grader::Check::str(100 * k.other) + " % of the pixels to values other than 0 and 1");
  });

  g.check("salt-and-pepper: p = 0 changes nothing, p = 1 leaves only 0s and 1s, about half each", 1, [](grader::Check& c) {
    const Tensor x = clean_pixels(47);
    ad::Generator gen(48);
    c.expect(same(ae::corrupt(x, ae::Corruption::SaltAndPepper, 0.0, gen), x), "salt-and-pepper at p = 0 changed some pixels");
    const Counts k = count(x, ae::corrupt(x, ae::Corruption::SaltAndPepper, 1.0, gen));
    c.expect(k.zeros + k.ones == 1.0, "salt-and-pepper at p = 1 left pixels that are neither 0 nor 1");
    rate_near(c, k.ones, 0.5, "at p = 1, the fraction of 1s");
  });

  g.check("one seed drives it: the same seed gives the same corruption, another seed another", 2, [](grader::Check& c) {
    const Tensor x = clean_pixels(49);
    for (auto kind : {ae::Corruption::Masking, ae::Corruption::SaltAndPepper}) {
      const std::string name = kind == ae::Corruption::Masking ? "masking" : "salt-and-pepper";
      ad::Generator a(7), b(7), d(8);
      const Tensor ya = ae::corrupt(x, kind, 0.25, a), yb = ae::corrupt(x, kind, 0.25, b), yd = ae::corrupt(x, kind, 0.25, d);
      c.expect(same(ya, yb), name + ": two generators with seed 7 gave different corruptions");
      c.expect(!same(ya, yd), name + ": seeds 7 and 8 gave the same corruption");
      c.expect(!same(ya, ae::corrupt(x, kind, 0.25, a)), name + ": a second call with the same generator repeated the first");
    }
  });

  g.check("milestone: lesson 05 --quick: salt-and-pepper input at 10 dB (+- 0.5), masked input above the Gaussian one, "
          "the salt-and-pepper DAE above its input", 2,
          [](grader::Check& c) {
            auto m = grader::run_lesson("05_denoising");
            const double sp = m["psnr_noisy_salt_and_pepper"];
            c.expect(m.count("psnr_noisy_salt_and_pepper") && std::abs(sp - 10.0) < 0.5,
                     "psnr_noisy_salt_and_pepper is " + grader::Check::str(sp) + " dB; p = 0.2 flips about half the hit pixels: MSE p/2, 10 dB");
            c.expect(m["psnr_noisy_masking"] > m["psnr_noisy"], "psnr_noisy_masking " + grader::Check::str(m["psnr_noisy_masking"]) +
                                                                    " dB is not above psnr_noisy (Gaussian) " + grader::Check::str(m["psnr_noisy"]));
            c.expect(m["psnr_dae_salt_and_pepper"] > sp, "the salt-and-pepper DAE (" + grader::Check::str(m["psnr_dae_salt_and_pepper"]) +
                                                             " dB) does not beat its corrupted input (" + grader::Check::str(sp) + " dB)");
          });
  return g.finish();
}
