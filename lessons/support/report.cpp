// The lesson's report: CSV tables, metrics, notes, and at the end metrics.json and README.md.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include <cstdio>

#include "autodiff/blas.hpp"
#include "nn/checkpoint.hpp"
#include "autodiff/parallel.hpp"
#include "lessons/support/internal.hpp"

namespace lessons {

namespace fs = std::filesystem;

namespace detail {

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}


std::string num(double v) {
  std::ostringstream os;
  os << std::setprecision(8) << v;
  return os.str();
}


// A series name as a CSV field: no separators inside.
std::string csv_key(std::string name) {
  for (char& c : name)
    if (c == ',' || c == '"' || c == '\n') c = ';';
  return name;
}


bool stdout_is_terminal() { return isatty(fileno(stdout)); }

// A name beside PATH that no other run (another process) and no other file of this run uses.
std::string temp_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Writes TEXT to a temporary name and renames it over PATH: a reader, or another run writing the same file,
// sees the old file or the new one, never a mix.
void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = temp_name(path);
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      std::remove(tmp.c_str());
      throw ad::Error("cannot write " + path);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw ad::Error("cannot write " + path + " (rename failed)");
  }
}

}  // namespace detail

using detail::json_escape;
using detail::num;

void Lesson::claim(const std::string& file) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (std::find(written_.begin(), written_.end(), file) != written_.end())
    throw ad::Error("lesson " + spec_.id + ": " + file + " is written twice (a plot writes <stem>.csv and <stem>.png; "
                    "give the table or figure another name)");
  written_.push_back(file);
}

void Lesson::csv(const std::string& stem, const std::string& header, const std::vector<std::vector<std::string>>& rows,
                 const std::string& description) {
  if (rows.empty() && loaded()) {  // a training history: none under --load
    skipped_plots_ += (skipped_plots_.empty() ? "" : ", ") + stem + ".csv";
    return;
  }
  claim(stem + ".csv");
  std::ostringstream out;
  out << header << "\n";
  for (auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << r[i];
    out << "\n";
  }
  detail::write_file(path(stem + ".csv"), out.str());
  csvs_.emplace_back(stem + ".csv", description);
}

void Lesson::metric(const std::string& key, double value, const std::string& meaning) {
  if (!std::isfinite(value)) throw ad::Error("metric '" + key + "' is not finite (" + std::to_string(value) + ")");
  metrics_.emplace_back(key, value, meaning);
}

void Lesson::metric(const std::string& key, const std::string& value, const std::string& meaning) {
  metrics_.emplace_back(key, value, meaning);
}

void Lesson::note(const std::string& paragraph) { notes_.push_back(paragraph); }

void Lesson::save_model(const nn::Module& model, const std::string& file, const std::string& description) {
  claim(file);
  const std::string tmp = detail::temp_name(path(file));
  nn::save(model, tmp);
  fs::rename(tmp, path(file));
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  (detail::job_models ? *detail::job_models : models_)
      .emplace_back(file, description + " (" + model.type_name() + ", " + std::to_string(model.parameter_count()) + " parameters)");
}

bool Lesson::load_model(nn::Module& model, const std::string& file) {
  const std::string from = loadable(file);
  if (from.empty()) return false;
  nn::load(model, from);
  note_loaded(from);
  return true;
}

bool Lesson::load_model(std::vector<std::pair<std::string, ad::Tensor64>>& arrays, const std::string& file) {
  const std::string from = loadable(file);
  if (from.empty()) return false;
  const auto stored = nn::load_npz<double>(from);
  for (auto& [name_, tensor] : arrays) {
    const std::string& name = name_;  // (a lambda cannot capture a structured binding in C++17)
    auto it = std::find_if(stored.begin(), stored.end(), [&](const auto& e) { return e.first == name; });
    if (it == stored.end()) throw ad::Error("--load: " + from + " has no array '" + name + "'");
    if (it->second.shape() != tensor.shape())
      throw ad::Error("--load: " + from + ": '" + name + "' is " + ad::shape_str(it->second.shape()) + ", the model's " +
                      ad::shape_str(tensor.shape()));
    tensor.value() = it->second.value();
  }
  note_loaded(from);
  return true;
}

void Lesson::note_loaded(const std::string& from) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  loaded_models_.push_back(from);
  say("loaded " + from + " (training skipped)");
}

std::string Lesson::loadable(const std::string& file) {
  if (!loaded()) return "";
  fs::path dir(options_.load);
  if (!fs::is_directory(dir)) {
    if (dir.extension() != ".npz" || !fs::exists(dir))
      throw ad::Error("--load " + options_.load + ": not a folder of a previous run, nor a .npz file in one");
    dir = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  }
  const fs::path from = dir / file;
  if (!fs::exists(from))
    throw ad::Error("--load: " + from.string() + " does not exist (this lesson loads " + file + "; run it once with --out " +
                    dir.string() + " to make it)");
  return from.string();
}

void Lesson::save_model(const std::vector<std::pair<std::string, ad::Tensor64>>& arrays, const std::string& file,
                        const std::string& description) {
  claim(file);
  const std::string tmp = detail::temp_name(path(file));
  nn::save_npz(tmp, arrays);
  fs::rename(tmp, path(file));
  std::size_t count = 0;
  for (const auto& a : arrays) count += a.second.numel();
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  (detail::job_models ? *detail::job_models : models_)
      .emplace_back(file, description + " (float64, " + std::to_string(count) + " parameters)");
}

void Lesson::finish(double seconds) {
  std::string unmeasured;  // with --load, the promised keys that measure training (no training happened)
  for (const auto& key : spec_.metrics) {  // every key the lesson promises (its Spec) must have been written
    bool written = false;
    for (const auto& m : metrics_) written = written || std::get<0>(m) == key;
    if (!written && !loaded()) throw ad::Error("lesson " + spec_.id + " did not write its metric '" + key + "'");
    if (!written) unmeasured += (unmeasured.empty() ? "`" : ", `") + key + "`";
  }
  metric("run_seconds", seconds, "wall-clock time of the run");
  {
    std::ostringstream js;
    js << "{\n";
    for (std::size_t i = 0; i < metrics_.size(); ++i) {
      const auto& [key, value, meaning] = metrics_[i];
      js << "  \"" << json_escape(key) << "\": ";
      if (std::holds_alternative<double>(value)) js << num(std::get<double>(value));
      else js << "\"" << json_escape(std::get<std::string>(value)) << "\"";
      js << (i + 1 < metrics_.size() ? ",\n" : "\n");
    }
    js << "}\n";
    detail::write_file(path("metrics.json"), js.str());
  }
  std::ostringstream md;
  md << "# Lesson " << spec_.id.substr(0, 2) << ": " << spec_.title << "\n\n"
     << spec_.summary << "\n\n"
     << "Slides: " << spec_.slides << ".\n\n";
  if (loaded()) {
    std::string from;
    for (const auto& f : loaded_models_) from += (from.empty() ? "" : ", ") + std::string("`") + f + "`";
    note("**Models loaded, not trained** (`--load " + options_.load + "`): " + (from.empty() ? std::string("none") : from) +
         "." + (skipped_plots_.empty() ? std::string() : " Not drawn, since they show training that did not happen here: " + skipped_plots_ + ".") +
         (unmeasured.empty() ? std::string() : " Not measured, for the same reason: " + unmeasured + "."));
  }
  for (auto& n : notes_) md << n << "\n\n";
  md << "## Figures\n\n";
  for (auto& f : figures_) {
    md << "### " << f.caption << "\n\n![" << f.caption << "](" << f.file << ")\n\n"
       << "*Reproduces:* " << f.slide << ".\n\n" << f.notice << "\n\n";
  }
  md << "## Metrics (`metrics.json`)\n\n| key | value | meaning |\n|---|---|---|\n";
  for (auto& [key, value, meaning] : metrics_)
    md << "| `" << key << "` | " << (std::holds_alternative<double>(value) ? fmt(std::get<double>(value), 5) : std::get<std::string>(value))
       << " | " << meaning << " |\n";
  if (!csvs_.empty() || !figures_.empty()) {
    md << "\n## Data files\n\nEvery plot's numbers are in the CSV of the same name (with the gnuplot script that draws it).\n";
    for (auto& [file, desc] : csvs_) md << "- `" << file << "`: " << desc << "\n";
  }
  if (!models_.empty()) {
    md << "\n## Trained models\n\n";
    for (auto& [file, desc] : models_) md << "- `" << file << "`: " << desc << "\n";
    md << "\nEach is a `.npz` of named arrays (the parameters and buffers, as PyTorch's `state_dict` names them):\n\n"
       << "```python\nimport numpy as np\nweights = np.load(\"" << models_.front().first
       << "\")\nfor name in weights.files: print(name, weights[name].shape)\n```\n\n"
       << "In C++, `nn::load(model, \"" << models_.front().first
       << "\")` fills a model built with the same options (the lesson's source shows them).\n";
  }
  if (std::filesystem::exists(path("page_models.js")))
    md << "\n## For the course page\n\n- `page_models.js`: " << detail::kPageModelsNote << "\n";
  std::ostringstream run;
  run << "`" << program_;
  if (options_.quick) run << " --quick";
  run << " --epochs " << options_.epochs << " --batch " << options_.batch << " --lr " << options_.lr << " --seed " << options_.seed;
  if (spec_.datasets) run << " --dataset " << options_.dataset;
  for (const auto& [name, value] : options_.flags) run << " " << name << (value == "1" ? "" : " " + value);
  run << "` in " << fmt(seconds, 3) << " s" << (options_.quick ? " (quick mode: a small subset, numbers are not meaningful)" : "")
      << " on " << ad::num_threads() << " thread(s). BLAS: " << ad::blas::config() << ".";
  md << "\n## Run\n\n" << run.str() << "\n";
  detail::write_file(path("README.md"), md.str());
  write_pages(run.str());

  std::cout << "\n" << spec_.id << " metrics (" << options_.out_dir << "/metrics.json):\n";
  for (auto& [key, value, meaning] : metrics_)
    std::cout << "  " << std::left << std::setw(36) << key << " "
              << (std::holds_alternative<double>(value) ? fmt(std::get<double>(value), 5) : std::get<std::string>(value)) << "\n";
}


}  // namespace lessons
