// A lesson's data (full or --quick-sized), progress lines, and the helpers lessons share.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "autodiff/parallel.hpp"
#include "lessons/support/internal.hpp"

namespace lessons {

namespace fs = std::filesystem;

namespace {
// Calls f when the scope ends, by return or by exception.
template <class F>
struct OnExit {
  F f;
  ~OnExit() { f(); }
};
template <class F>
OnExit(F) -> OnExit<F>;
}  // namespace

Lesson::Lesson(Spec spec, Options options, std::string program)
    : spec_(std::move(spec)), options_(std::move(options)), program_(std::move(program)) {
  std::error_code ec;
  fs::create_directories(options_.out_dir, ec);
  if (ec) throw ad::Error("cannot create the output folder " + options_.out_dir + ": " + ec.message());
  // Writable before any training; and a previous run's summaries go now, so that a run that fails part-way
  // never leaves new figures beside an old metrics.json (they are written last, by finish()).
  const std::string probe = detail::temp_name(path(".write_test"));
  if (!std::ofstream(probe).good()) throw ad::Error("the output folder " + options_.out_dir + " is not writable");
  fs::remove(probe, ec);
  for (const char* summary : {"metrics.json", "README.md", "index.html", "section.html", "page_models.js"})
    fs::remove(path(summary), ec);
}

std::string Lesson::flag(const std::string& name) const {
  auto own = std::find_if(spec_.flags.begin(), spec_.flags.end(), [&](const LessonFlag& f) { return f.name == name; });
  if (own == spec_.flags.end()) throw ad::Error("lesson " + spec_.id + " has no flag " + name + " (add it to Spec::flags)");
  auto given = options_.flags.find(name);
  return given != options_.flags.end() ? given->second : own->default_value;
}

double median(std::vector<double> v) {
  if (v.empty()) throw ad::Error("median of no values");
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::string Lesson::path(const std::string& file) const { return (fs::path(options_.out_dir) / file).string(); }

nn::Dataset Lesson::load(const std::string& kind, nn::Split split) {
  const std::size_t limit = options_.quick ? (split == nn::Split::Train ? spec_.quick_train : spec_.quick_test) : 0;
  return nn::load_dataset(kind, options_.data_dir, split, limit);
}

const nn::Dataset& Lesson::train_set() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (!train_) train_ = std::make_unique<nn::Dataset>(load(options_.dataset, nn::Split::Train));
  return *train_;
}

const nn::Dataset& Lesson::test_set() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (!test_) test_ = std::make_unique<nn::Dataset>(load(options_.dataset, nn::Split::Test));
  return *test_;
}

void Lesson::say(const std::string& line) const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  std::cout << line << std::endl;
}

namespace detail {
thread_local std::vector<std::pair<std::string, std::string>>* job_models = nullptr;
}

void Lesson::concurrently(const std::vector<std::function<void()>>& jobs) {
  if (loaded()) {
    for (auto& job : jobs) job();
    return;
  }
  std::vector<std::vector<std::pair<std::string, std::string>>> saved(jobs.size());  // each job's models
  concurrent_ = true;
  OnExit leave{[&] { concurrent_ = false; }};
  ad::parallel_tasks(jobs.size(), [&](std::size_t i) {
    detail::job_models = &saved[i];
    OnExit forget{[] { detail::job_models = nullptr; }};
    jobs[i]();
  });
  for (auto& models : saved) models_.insert(models_.end(), models.begin(), models.end());
}

ae::Callbacks Lesson::progress(const std::string& what, ae::Callbacks extra) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto epoch_start = std::make_shared<std::chrono::steady_clock::time_point>(*last);
  const bool tty = detail::stdout_is_terminal();
  ae::Callbacks cb;
  cb.on_batch = [=](std::size_t epoch, std::size_t batch, std::size_t batches, double loss) {
    if (batch == 1) *epoch_start = std::chrono::steady_clock::now();
    if (tty && !concurrent_) {
      const auto now = std::chrono::steady_clock::now();
      if (batch == batches || now - *last > std::chrono::milliseconds(100)) {
        *last = now;
        const double elapsed = std::chrono::duration<double>(now - *epoch_start).count();
        const double rate = static_cast<double>(batch * options_.batch) / std::max(elapsed, 1e-9);
        const double eta = elapsed / static_cast<double>(batch) * static_cast<double>(batches - batch);
        const std::size_t filled = 24 * batch / batches;
        std::cout << "\r  " << what << " epoch " << epoch << "/" << options_.epochs << " [" << std::string(filled, '#')
                  << std::string(24 - filled, '.') << "] " << batch << "/" << batches << " loss " << fmt(loss, 5) << " "
                  << static_cast<long>(rate) << " samples/s ETA " << fmt(eta, 2) << "s   " << std::flush;
      }
    }
    if (extra.on_batch) extra.on_batch(epoch, batch, batches, loss);
  };
  cb.on_epoch = [=](const ae::EpochStats& s) {
    std::ostringstream os;
    os << "  " << what << " epoch " << s.epoch << "/" << s.epochs;
    for (auto& [name, v] : s.terms.values) os << " " << name << " " << fmt(v, 5);
    os << " (" << fmt(s.seconds, 2) << " s, " << static_cast<long>(s.samples_per_second) << " samples/s)";
    {
      std::lock_guard<std::recursive_mutex> lock(mutex_);
      if (tty && !concurrent_) std::cout << "\r" << std::string(110, ' ') << "\r";
      std::cout << os.str() << std::endl;
    }
    if (extra.on_epoch) extra.on_epoch(s);
  };
  return cb;
}

// ---- helpers -----------------------------------------------------------------------------------------------

std::vector<std::size_t> first_of_each_class(const nn::Dataset& data, std::size_t per_class) {
  std::vector<std::size_t> picked;
  for (std::size_t c = 0; c < 10; ++c) {
    std::size_t found = 0;
    for (std::size_t i = 0; i < data.size() && found < per_class; ++i)
      if (data.labels[i] == c) {
        picked.push_back(i);
        ++found;
      }
  }
  return picked;
}

Tensor rows(const Tensor& images, const std::vector<std::size_t>& indices) {
  ad::NoGradGuard no_grad;
  return ad::index_select(images, indices);
}

double psnr_from_mse(double mse) { return 10.0 * std::log10(1.0 / std::max(mse, 1e-12)); }

std::string fmt(double v, int precision) {
  std::ostringstream os;
  os << std::setprecision(precision) << v;
  return os.str();
}

}  // namespace lessons
