// Every lesson runs end to end in --quick mode and writes all its outputs: valid PNGs, non-empty CSVs, a
// metrics.json with its keys (LESSONS.md) and finite values, and a README that shows each figure.
// Bad flags exit 2 naming the flag; a missing data folder exits 1 naming the file and the set-up script.
#define BOOST_TEST_MODULE lessons
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "helpers.hpp"

namespace fs = std::filesystem;

namespace {

struct Run {
  int code;
  std::string output;
};

Run run(const std::string& command) {
  const fs::path log = fs::temp_directory_path() / ("lesson_" + std::to_string(::getpid()) + ".log");
  const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(log);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string exe(const std::string& id) { return std::string(LESSON_DIR) + "/lesson" + id; }

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A flat JSON object of numbers and strings: {"key": 1.5, "other": "text"}.
std::map<std::string, std::string> parse_flat_json(const std::string& text) {
  std::map<std::string, std::string> out;
  const std::regex entry("\"([^\"]+)\"\\s*:\\s*(\"[^\"]*\"|[-+0-9.eE]+|[A-Za-z]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

using Metrics = std::map<std::string, double>;

// Runs a lesson with --quick, checks its outputs, and returns its numeric metrics.
Metrics check_lesson(const std::string& id, const std::vector<std::string>& keys) {
  const fs::path out = fs::temp_directory_path() / ("ae_lesson_" + std::to_string(::getpid()) + "_" + id);
  fs::remove_all(out);
  const Run r = run(exe(id) + " --quick --out '" + out.string() + "'");
  BOOST_TEST_MESSAGE(r.output);
  BOOST_REQUIRE_MESSAGE(r.code == 0, id << " exited " << r.code << ":\n" << r.output);

  std::size_t pngs = 0, csvs = 0;
  for (const auto& f : fs::directory_iterator(out)) {
    const std::string name = f.path().filename().string();
    if (f.path().extension() == ".png") {
      ++pngs;
      const std::string bytes = read(f.path());
      BOOST_TEST_CONTEXT(name) {
        BOOST_TEST(bytes.size() > 1000u);
        BOOST_TEST(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
      }
    }
    if (f.path().extension() == ".csv") {
      ++csvs;
      const std::string text = read(f.path());
      BOOST_TEST_CONTEXT(name) { BOOST_TEST(std::count(text.begin(), text.end(), '\n') >= 2); }
    }
  }
  BOOST_TEST(pngs >= 2u);
  BOOST_TEST(csvs >= 1u);

  const auto metrics = parse_flat_json(read(out / "metrics.json"));
  for (const auto& key : keys) {
    BOOST_TEST_CONTEXT(id << " metrics.json key " << key) {
      BOOST_REQUIRE(metrics.count(key) == 1u);
      const std::string& v = metrics.at(key);
      if (v.front() != '"') BOOST_TEST(std::isfinite(std::stod(v)));
    }
  }
  for (const auto& [key, v] : metrics)
    if (v.front() != '"') BOOST_TEST_CONTEXT(key) { BOOST_TEST(std::isfinite(std::stod(v))); }

  const std::string readme = read(out / "README.md");
  BOOST_TEST(readme.find("# Lesson " + id.substr(0, 2)) != std::string::npos);
  const std::regex image("!\\[[^\\]]*\\]\\(([^)]+)\\)");
  std::size_t shown = 0;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), image); it != std::sregex_iterator(); ++it, ++shown)
    BOOST_TEST_CONTEXT("README image " << (*it)[1]) { BOOST_TEST(fs::exists(out / std::string((*it)[1]))); }
  BOOST_TEST(shown == pngs);  // every figure is shown and explained
  BOOST_TEST(readme.find("*Reproduces:*") != std::string::npos);
  fs::remove_all(out);
  Metrics numbers;
  for (const auto& [key, v] : metrics)
    if (v.front() != '"') numbers[key] = std::stod(v);
  return numbers;
}

// metrics.json keeps 8 significant digits: relations between its values hold to about 1e-7.
bool near(double a, double b, double rel = 1e-6) { return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b)); }

}  // namespace

// Each lesson's metrics are also held to relations they must satisfy whatever the training did.
BOOST_AUTO_TEST_CASE(lesson01_undercomplete) {
  Metrics m = check_lesson("01_undercomplete", {"ae_test_mse", "pca_test_mse", "ae_test_psnr", "pca_test_psnr"});
  // PSNR for pixels in [0, 1]: 10 log10(1 / MSE), in dB
  BOOST_TEST(near(m["ae_test_psnr"], 10 * std::log10(1 / m["ae_test_mse"])));
  BOOST_TEST(near(m["pca_test_psnr"], 10 * std::log10(1 / m["pca_test_mse"])));
  BOOST_TEST(m["ae_test_mse"] == m["ae_test_mse_M32"]);  // the headline is the M = 32 row
  BOOST_TEST(m["pca_test_mse"] == m["pca_test_mse_M32"]);
  double previous = 1.0;  // PCA's error falls as components are added (nested subspaces)
  for (const char* k : {"M2", "M4", "M8", "M16", "M32", "M64", "M128"}) {
    const double pca = m[std::string("pca_test_mse_") + k], ae = m[std::string("ae_test_mse_") + k];
    BOOST_TEST_CONTEXT(k) {
      BOOST_TEST(pca < previous);
      BOOST_TEST((ae > 0 && ae < 1));
    }
    previous = pca;
  }
}

BOOST_AUTO_TEST_CASE(lesson02_linear_vs_pca) {
  Metrics m = check_lesson("02_linear_vs_pca", {"max_principal_angle_deg", "linear_ae_to_pca_mse_ratio", "curve_ae_to_pca_mse_ratio"});
  BOOST_TEST(near(m["linear_ae_to_pca_mse_ratio"], m["linear_ae_test_mse"] / m["pca_test_mse"]));
  BOOST_TEST(near(m["curve_ae_to_pca_mse_ratio"], m["curve_ae_mse"] / m["curve_pca_mse"]));
  BOOST_TEST(m["mean_principal_angle_deg"] >= 0);
  BOOST_TEST(m["mean_principal_angle_deg"] <= m["max_principal_angle_deg"]);
  BOOST_TEST(m["max_principal_angle_deg"] <= 90);
}

BOOST_AUTO_TEST_CASE(lesson03_overcomplete) {
  Metrics m = check_lesson("03_overcomplete", {"nondigit_mse_overcomplete", "nondigit_mse_undercomplete", "digit_mse_overcomplete",
                                               "digit_mse_undercomplete"});
  for (const std::string model : {"overcomplete", "undercomplete"}) {
    BOOST_TEST_CONTEXT(model) {  // the non-digit error is the mean over the three non-digit sets
      const double mean3 = (m["noise_mse_" + model] + m["fashion_mse_" + model] + m["inverted_digits_mse_" + model]) / 3;
      BOOST_TEST(near(m["nondigit_mse_" + model], mean3, 1e-5));
    }
  }
}

BOOST_AUTO_TEST_CASE(bad_flags_exit_2_naming_the_flag) {
  for (const char* args : {"--frobnicate", "--epochs", "--epochs ten", "--lr -1", "--dataset cifar", "--batch 0"}) {
    const Run r = run(exe("01_undercomplete") + " " + std::string(args));
    BOOST_TEST_CONTEXT(args) {
      BOOST_TEST(r.code == 2);
      BOOST_TEST(r.output.find("usage:") != std::string::npos);
      BOOST_TEST(std::count(r.output.begin(), r.output.end(), '\n') == 1);  // one line
    }
  }
  BOOST_TEST(run(exe("01_undercomplete") + " --frobnicate").output.find("'--frobnicate'") != std::string::npos);
  BOOST_TEST(run(exe("02_linear_vs_pca") + " --dataset fashion").code == 2);  // this lesson takes no --dataset
  const Run help = run(exe("01_undercomplete") + " --help");
  BOOST_TEST(help.code == 0);
  BOOST_TEST(help.output.find("--quick") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_data_exits_1_with_its_message) {
  const fs::path empty = fs::temp_directory_path() / ("ae_empty_" + std::to_string(::getpid()));
  fs::create_directories(empty);
  for (const std::string id : {"01_undercomplete", "02_linear_vs_pca", "03_overcomplete"}) {
    const Run r = run(exe(id) + " --quick --data-dir '" + empty.string() + "' --out '" + (empty / "out").string() + "'");
    BOOST_TEST_CONTEXT(id) {
      BOOST_TEST(r.code == 1);
      BOOST_TEST(r.output.find("error: missing data file") != std::string::npos);
      BOOST_TEST(r.output.find("train-images-idx3-ubyte") != std::string::npos);
      BOOST_TEST(r.output.find("scripts/setup.sh") != std::string::npos);
    }
  }
  // a corrupt file: named, exit 1
  fs::create_directories(empty / "mnist");
  std::ofstream(empty / "mnist" / "train-images-idx3-ubyte") << "not an idx file";
  const Run r = run(exe("01_undercomplete") + " --quick --data-dir '" + empty.string() + "' --out '" + (empty / "out").string() + "'");
  BOOST_TEST(r.code == 1);
  BOOST_TEST(r.output.find("train-images-idx3-ubyte") != std::string::npos);
  BOOST_TEST(r.output.find("wrong magic number") != std::string::npos);
  fs::remove_all(empty);
}
