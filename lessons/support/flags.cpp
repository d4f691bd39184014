// The command line every lesson takes, and run(): parse the flags, run the lesson, map errors to exit codes
// (0 done, 1 missing or corrupt data or another error, 2 bad flags).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>

#include "autodiff/parallel.hpp"
#include "lessons/support/internal.hpp"

namespace lessons {

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct HelpRequested {};
struct SpecRequested {};

std::string usage(const std::string& program, const Spec& spec) {
  std::ostringstream os;
  os << "usage: " << program << " [--epochs N] [--batch N] [--lr X] [--seed N] [--data-dir DIR] [--out DIR] [--threads N] [--quick] [--load PATH]"
     << (spec.datasets ? " [--dataset mnist|fashion]" : "");
  for (const auto& f : spec.flags) os << " [" << f.name << (f.value_name.empty() ? "" : " " + f.value_name) << "]";
  return os.str();
}

std::string help(const std::string& program, const Spec& spec) {
  std::ostringstream os;
  os << program << ": " << spec.title << "\n  slides: " << spec.slides << "\n\n" << usage(program, spec) << "\n\n"
     << "  --epochs N        training epochs (default " << spec.epochs << ")\n"
     << "  --batch N         batch size (default " << spec.batch << ")\n"
     << "  --lr X            learning rate (default " << spec.lr << ")\n"
     << "  --seed N          the one seed behind all randomness (default 1)\n"
     << "  --data-dir DIR    where mnist/ and fashion/ are (default: the first of";
  for (const auto& d : nn::data_dir_candidates()) os << " " << d;
  os << " that has them)\n"
     << "  --out DIR         output folder (default " << spec.out_root << "/" << spec.id << ")\n"
     << "  --threads N       threads for the kernels (default: AE_NUM_THREADS, else all cores)\n"
     << "  --quick           a tiny subset and " << spec.quick_epochs << " epoch(s), for smoke tests\n"
     << "  --load PATH       skip training: load the models a previous run saved in folder PATH (or PATH's folder, for a\n"
     << "                    .npz), then evaluate and redraw (use the same --quick/--dataset/flags as that run)\n"
     << "  --spec            print the lesson's id, title, slides and metrics.json keys as JSON, and exit\n";
  if (spec.datasets) os << "  --dataset NAME    mnist (default) or fashion\n";
  for (const auto& f : spec.flags) {
    std::string head = f.name + (f.value_name.empty() ? "" : " " + f.value_name);
    head.resize(std::max<std::size_t>(head.size() + 1, 18), ' ');
    os << "  " << head << f.help << (f.default_value.empty() ? "" : " (default " + f.default_value + ")") << "\n";
  }
  return os.str();
}

template <class T>
T parse_number(const std::string& flag, const std::string& text) {
  std::istringstream is(text);
  T v;
  if (!(is >> v) || !is.eof()) throw UsageError("malformed value '" + text + "' for " + flag);
  if constexpr (std::is_unsigned_v<T>) {
    if (text.find('-') != std::string::npos) throw UsageError("malformed value '" + text + "' for " + flag);
  }
  return v;
}

Options parse(int argc, char** argv, const Spec& spec) {
  Options o;
  o.epochs = spec.epochs;
  o.batch = spec.batch;
  o.lr = spec.lr;
  o.out_dir = spec.out_root + "/" + spec.id;
  bool epochs_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError("flag " + flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") throw HelpRequested{};
    else if (flag == "--spec") throw SpecRequested{};
    else if (flag == "--epochs") o.epochs = parse_number<std::size_t>(flag, value()), epochs_given = true;
    else if (flag == "--batch") o.batch = parse_number<std::size_t>(flag, value());
    else if (flag == "--lr") o.lr = parse_number<double>(flag, value());
    else if (flag == "--seed") o.seed = parse_number<std::uint64_t>(flag, value());
    else if (flag == "--data-dir") o.data_dir = value();
    else if (flag == "--out") o.out_dir = value();
    else if (flag == "--threads") o.threads = parse_number<int>(flag, value());
    else if (flag == "--quick") o.quick = true;
    else if (flag == "--load") o.load = value();
    else if (flag == "--dataset" && spec.datasets) {
      o.dataset = value();
      if (o.dataset != "mnist" && o.dataset != "fashion") throw UsageError("--dataset must be mnist or fashion, not '" + o.dataset + "'");
    } else {
      auto own = std::find_if(spec.flags.begin(), spec.flags.end(), [&](const LessonFlag& f) { return f.name == flag; });
      if (own == spec.flags.end()) throw UsageError("unknown flag '" + flag + "'");
      o.flags[flag] = own->value_name.empty() ? "1" : value();
    }
  }
  // Bounds: a typo should not start a thousand threads or a run of years.
  constexpr std::size_t kMaxEpochs = 100000, kMaxBatch = 65536;
  constexpr int kMaxThreads = 256;
  if (o.epochs == 0) throw UsageError("--epochs must be at least 1");
  if (o.epochs > kMaxEpochs) throw UsageError("--epochs " + std::to_string(o.epochs) + " is more than the limit of " + std::to_string(kMaxEpochs));
  if (o.batch == 0) throw UsageError("--batch must be at least 1");
  if (o.batch > kMaxBatch) throw UsageError("--batch " + std::to_string(o.batch) + " is more than the limit of " + std::to_string(kMaxBatch));
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw UsageError("--lr must be a positive number");
  if (o.threads < 0) throw UsageError("--threads must be 0 or more");
  if (o.threads > kMaxThreads) throw UsageError("--threads " + std::to_string(o.threads) + " is more than the limit of " + std::to_string(kMaxThreads));
  if (o.quick && !epochs_given) o.epochs = spec.quick_epochs;
  return o;
}


// --spec: what the lesson is and the metrics.json keys it promises, as one JSON object.
std::string spec_json(const Spec& spec) {
  std::ostringstream os;
  os << "{\"id\": \"" << detail::json_escape(spec.id) << "\", \"title\": \"" << detail::json_escape(spec.title)
     << "\", \"slides\": \"" << detail::json_escape(spec.slides) << "\", \"metrics\": [";
  for (std::size_t i = 0; i < spec.metrics.size(); ++i) os << (i ? ", " : "") << "\"" << detail::json_escape(spec.metrics[i]) << "\"";
  os << "], \"reads_images\": " << (spec.reads_images ? "true" : "false") << ", \"flags\": [";
  for (std::size_t i = 0; i < spec.flags.size(); ++i) os << (i ? ", " : "") << "\"" << detail::json_escape(spec.flags[i].name) << "\"";
  os << "]}";
  return os.str();
}

}  // namespace

int run(int argc, char** argv, const Spec& spec, const std::function<void(Lesson&)>& body) {
  const std::string program = "lesson" + spec.id;
  Options options;
  try {
    options = parse(argc, argv, spec);
  } catch (const HelpRequested&) {
    std::cout << help(program, spec);
    return 0;
  } catch (const SpecRequested&) {
    std::cout << spec_json(spec) << std::endl;
    return 0;
  } catch (const UsageError& e) {
    std::cerr << program << ": " << e.what() << "; " << usage(program, spec) << std::endl;
    return 2;
  }
  try {
    if (options.threads > 0) ad::set_num_threads(options.threads);
    const auto t0 = std::chrono::steady_clock::now();
    Lesson lesson(spec, options, program);
    std::cout << program << ": " << spec.title << (options.quick ? " (quick)" : "") << " -> " << options.out_dir << std::endl;
    body(lesson);
    lesson.finish(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
  } catch (const std::exception& e) {
    if (detail::stdout_is_terminal()) std::cout << std::endl;
    std::cerr << program << ": error: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace lessons
