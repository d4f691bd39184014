// The grader's small framework: one program per exercise, a list of checks with points.
//
//   int main() {
//     grader::Grader g("sparse_kl");
//     g.check("value on a worked example", 2, [](grader::Check& c) {
//       c.near(penalty_of({0.1, 0.2}), 0.0326, 1e-4, "KL(0.05 || rho_hat)");
//     });
//     return g.finish();
//   }
//
// Each check prints one line, then the grader prints its total (coursework/grade.py reads these lines):
//   CHECK <earned>/<points> <name> :: ok | <why it failed>
//   SCORE <exercise> <earned>/<total>
// A check earns its points when its body returns without a failed expectation and without throwing; an exception
// (e.g. the skeleton's "exercise ... is yours to write") fails that check with the exception's message, and the
// next check still runs. The program exits 0 when it ran to the end, whatever the score.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/gradcheck.hpp"
#include "autodiff/ops.hpp"

namespace grader {

// What a check's body uses to state its expectations; the first failed one is the check's message.
class Check {
 public:
  void expect(bool ok, const std::string& why) {
    if (!ok && failure_.empty()) failure_ = why;
  }
  // |got - want| <= atol + rtol * |want|
  void near(double got, double want, double rtol, const std::string& what, double atol = 0.0) {
    const bool ok = std::isfinite(got) && std::abs(got - want) <= atol + rtol * std::abs(want);
    if (!ok) expect(false, what + ": got " + str(got) + ", expected " + str(want));
  }
  // Every entry of got against want (same number of entries).
  template <class T>
  void all_near(const ad::TensorT<T>& got, const ad::TensorT<T>& want, double rtol, double atol, const std::string& what) {
    if (got.numel() != want.numel()) {
      expect(false, what + ": " + std::to_string(got.numel()) + " values, expected " + std::to_string(want.numel()));
      return;
    }
    for (std::size_t i = 0; i < got.numel(); ++i) {
      const double g = static_cast<double>(got.data()[i]), w = static_cast<double>(want.data()[i]);
      if (!(std::isfinite(g) && std::abs(g - w) <= atol + rtol * std::abs(w))) {
        expect(false, what + ": entry " + std::to_string(i) + " is " + str(g) + ", expected " + str(w));
        return;
      }
    }
  }
  // Autodiff against central differences in float64 (ad::gradcheck), for every input.
  void gradcheck(const std::function<ad::Tensor64(const std::vector<ad::Tensor64>&)>& f,
                 const std::vector<ad::Tensor64>& inputs, const std::string& what) {
    const auto r = ad::gradcheck(f, inputs);
    expect(r.ok && r.checked > 0, what + ": " + (r.ok ? std::string("nothing was checked") : r.message));
  }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }

  static std::string str(double v) {
    std::ostringstream o;
    o.precision(7);
    o << v;
    return o.str();
  }

 private:
  std::string failure_;
};

class Grader {
 public:
  explicit Grader(std::string exercise) : exercise_(std::move(exercise)) {}

  void check(const std::string& name, int points, const std::function<void(Check&)>& body) {
    Check c;
    try {
      body(c);
    } catch (const std::exception& e) {
      c.expect(false, std::string("threw: ") + e.what());
    } catch (...) {
      c.expect(false, "threw something that is not a std::exception");
    }
    const int earned = c.failed() ? 0 : points;
    total_ += points;
    earned_ += earned;
    std::string why = c.failed() ? c.failure() : "ok";
    for (char& ch : why)
      if (ch == '\n' || ch == '\r') ch = ' ';
    std::cout << "CHECK " << earned << "/" << points << " " << name << " :: " << why << std::endl;
  }

  int finish() {
    std::cout << "SCORE " << exercise_ << " " << earned_ << "/" << total_ << std::endl;
    return 0;
  }

 private:
  std::string exercise_;
  int total_ = 0, earned_ = 0;
};

// count values uniform in [lo, hi) from gen: inputs for the graders' checks.
inline std::vector<double> uniform(std::size_t count, ad::Generator& gen, double lo, double hi) {
  std::vector<double> v(count);
  for (double& e : v) e = lo + (hi - lo) * gen.uniform();
  return v;
}

// A lesson's quick run with the student's library, for milestones: runs
// $AE_LESSONS_DIR/lesson<id> --quick --threads 1 --out <a temporary folder> [extra flags], then reads the numbers
// of its metrics.json. Throws (so the check fails with the reason) when the lesson is missing, fails or hangs.
inline std::map<std::string, double> run_lesson(const std::string& id, const std::string& extra_flags = "") {
  const char* dir = std::getenv("AE_LESSONS_DIR");
  if (!dir || !*dir) throw std::runtime_error("AE_LESSONS_DIR is not set (coursework/grade.py sets it)");
  const std::string exe = std::string(dir) + "/lesson" + id;
  if (!std::ifstream(exe)) throw std::runtime_error("no lesson program " + exe);
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/ae_grade_XXXXXX";
  char* tmpl = pattern.data();
  if (!mkdtemp(tmpl)) throw std::runtime_error("cannot make a temporary folder in " + pattern);
  struct RemoveOnExit {  // also when the lesson fails and the check throws
    std::string dir;
    ~RemoveOnExit() { std::system(("rm -rf '" + dir + "'").c_str()); }
  } remove_on_exit{tmpl};
  const std::string out = std::string(tmpl) + "/" + id, log = std::string(tmpl) + "/log.txt";
  const std::string cmd = "timeout 600 '" + exe + "' --quick --threads 1 --out '" + out + "' " + extra_flags + " >'" + log +
                          "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream logf(log);
  std::string last, line;
  while (std::getline(logf, line))
    if (!line.empty()) last = line;
  if (rc != 0) throw std::runtime_error("lesson" + id + " --quick failed: " + last);
  std::ifstream js(out + "/metrics.json");
  if (!js) throw std::runtime_error("lesson" + id + " wrote no metrics.json");
  std::map<std::string, double> metrics;
  while (std::getline(js, line)) {  // lines of the form   "key": number,
    const auto q1 = line.find('"'), q2 = line.find('"', q1 + 1), colon = line.find(':', q2 + 1);
    if (q1 == std::string::npos || q2 == std::string::npos || colon == std::string::npos) continue;
    const std::string value = line.substr(colon + 1);
    if (value.find('"') != std::string::npos) continue;  // a text value
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str()) metrics[line.substr(q1 + 1, q2 - q1 - 1)] = v;
  }
  return metrics;
}

// True when run_lesson's metrics hold every key; otherwise fails the check, naming the first missing metric:
//   auto m = grader::run_lesson("11_anomaly_detection");
//   if (!grader::has_metrics(c, m, "11", {"auroc_fashion", "auroc_heldout_digit"})) return;
inline bool has_metrics(Check& c, const std::map<std::string, double>& metrics, const std::string& lesson,
                        std::initializer_list<std::string> keys) {
  for (const auto& key : keys)
    if (!metrics.count(key)) {
      c.expect(false, "lesson " + lesson + " wrote no metric " + key);
      return false;
    }
  return true;
}

}  // namespace grader
