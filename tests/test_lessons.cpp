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

void check_lesson(const std::string& id, const std::vector<std::string>& keys) {
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
}

}  // namespace

BOOST_AUTO_TEST_CASE(lesson01_undercomplete) { check_lesson("01_undercomplete", {"ae_test_mse", "pca_test_mse", "ae_test_psnr"}); }

BOOST_AUTO_TEST_CASE(lesson02_linear_vs_pca) {
  check_lesson("02_linear_vs_pca", {"max_principal_angle_deg", "linear_ae_to_pca_mse_ratio", "curve_ae_to_pca_mse_ratio"});
}

BOOST_AUTO_TEST_CASE(lesson03_overcomplete) {
  check_lesson("03_overcomplete", {"nondigit_mse_overcomplete", "nondigit_mse_undercomplete", "digit_mse_overcomplete",
                                   "digit_mse_undercomplete"});
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
