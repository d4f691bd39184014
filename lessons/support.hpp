// What every lesson shares: the command line, data loading (full or --quick), progress, image grids (PNG via
// libpng), plots (gnuplot, from CSVs that are kept), metrics.json, and the lesson's README.md.
// The one header lessons include; the code is in lessons/support/ by job: flags.cpp (command line, run),
// lesson.cpp (data, progress, helpers), images.cpp (PNG grids, the caption font), plot.cpp (gnuplot),
// report.cpp (CSV, metrics.json, README.md).
//
//   int main(int argc, char** argv) {
//     return lessons::run(argc, argv, spec, [](lessons::Lesson& L) { ... L.metric("ae_test_mse", v, "..."); });
//   }
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "autoencoders/trainer.hpp"
#include "nn/data.hpp"

namespace lessons {

using ad::Tensor;

// A flag only one lesson takes, e.g. {"--ratings", "FILE", "a MovieLens ratings file"}; an empty value_name makes
// it a switch (Lesson::flag gives "1" when it is on). Read with Lesson::flag(name).
struct LessonFlag {
  std::string name, value_name, help, default_value;
};

struct Spec {
  std::string id;        // "01_undercomplete": the executable is lesson01_undercomplete, the folder out/01_undercomplete
  std::string title;     // "The undercomplete autoencoder and compression"
  std::string summary;   // a paragraph for the README: what the lesson shows
  std::string slides;    // the slides it reproduces, e.g. 004 "AUTOENCODER BÁSICO"
  std::size_t epochs = 10, batch = 128;
  double lr = 1e-3;
  bool datasets = true;  // accepts --dataset mnist|fashion
  bool reads_images = true;  // reads MNIST or Fashion-MNIST (false: a lesson on other data, e.g. ratings)
  std::size_t quick_train = 2000, quick_test = 500, quick_epochs = 1;
  std::vector<std::string> metrics;  // the metrics.json keys the lesson promises (LESSONS.md); the tests read them
                                     // with --spec, and the run fails if one is not written
  std::vector<LessonFlag> flags;     // the lesson's own flags, besides the common ones
  // The default --out is <out_root>/<id>: the repository's out/ for the lessons built in it (lessons/CMakeLists.txt
  // defines AE_LESSON_OUT_ROOT), ./out for a program built elsewhere (coursework).
#ifdef AE_LESSON_OUT_ROOT
  std::string out_root = AE_LESSON_OUT_ROOT;
#else
  std::string out_root = "out";
#endif
  // The lesson's source file, linked from its page (lessons/CMakeLists.txt defines AE_LESSON_SOURCE).
#ifdef AE_LESSON_SOURCE
  std::string source = AE_LESSON_SOURCE;
#else
  std::string source;
#endif
};

struct Options {
  std::size_t epochs = 0, batch = 0;
  double lr = 0;
  std::uint64_t seed = 1;
  std::string data_dir, out_dir, dataset = "mnist";
  int threads = 0;  // 0: the library default (AE_NUM_THREADS, else all cores)
  bool quick = false;
  std::string load;  // --load: a previous run's folder (or one .npz in it) whose models replace training
  std::map<std::string, std::string> flags;  // the lesson's own flags as given (Spec::flags), by name
};

// One row of an image grid: a caption and [k, h·w] images.
struct GridRow {
  std::string caption;
  Tensor images;
  enum class Scale { Pixels, PerImage, Signed } scale = Scale::Pixels;  // [0,1]; min..max; ±max|v| around grey
};

class Plot {
 public:
  Plot(std::string title, std::string xlabel, std::string ylabel);
  Plot& line(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, bool points = true);
  Plot& scatter(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, double size = 0.5);
  Plot& scatter_by_class(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::size_t>& cls,
                         const std::vector<std::string>& class_names);
  Plot& histogram(const std::string& name, const std::vector<double>& values, std::size_t bins, double lo, double hi);
  // Clustered bars: categories along x, one bar per series.
  Plot& bars(const std::vector<std::string>& categories, const std::vector<std::pair<std::string, std::vector<double>>>& series);
  Plot& log_x();
  Plot& log_y();
  Plot& command(const std::string& gnuplot_line);  // anything else (x2tics, ranges, ...)
  Plot& size(int width, int height);

 private:
  friend class Lesson;
  enum class Kind { None, XY, Class, Bars };
  std::string title_, xlabel_, ylabel_;
  Kind kind_ = Kind::None;
  std::vector<std::string> csv_rows_, plot_clauses_, commands_;
  std::string csv_header_;
  int width_ = 900, height_ = 600;
  bool empty_series_ = false;  // a series without points (a training curve, under --load)
};

class Lesson {
 public:
  Lesson(Spec spec, Options options, std::string program);
  const Spec& spec() const { return spec_; }
  const Options& options() const { return options_; }
  bool quick() const { return options_.quick; }
  std::string path(const std::string& file) const;  // inside the output folder

  // The lesson's data set (--dataset), full or --quick-sized.
  const nn::Dataset& train_set();
  const nn::Dataset& test_set();
  nn::Dataset load(const std::string& kind, nn::Split split);  // another data set, sized the same way
  std::size_t epochs() const { return options_.epochs; }
  // The value of one of the lesson's own flags (Spec::flags): as given, else its default; a switch gives "1" or "".
  std::string flag(const std::string& name) const;

  // Progress for ae::fit: a bar per epoch on a terminal, plain lines otherwise (and inside concurrently()).
  ae::Callbacks progress(const std::string& what, ae::Callbacks extra = {});
  void say(const std::string& line) const;

  // Runs independent jobs side by side, each on one thread (ad::parallel_tasks): on two cores, two models train in
  // about three quarters of the time they take one after the other with both threads each (docs/PERFORMANCE.md).
  // A job may train, load and save models and say things (its lines may interleave with another's); figures,
  // tables and metrics come after. Each job computes what it would alone on one thread; its models are listed in
  // the README in the order of the jobs. With --load (nothing to train) the jobs run one after the other.
  void concurrently(const std::vector<std::function<void()>>& jobs);

  // Outputs. Each figure goes into the README with the slide it reproduces and what to notice.
  void grid(const std::string& stem, const std::vector<GridRow>& rows, const std::string& caption,
            const std::string& slide, const std::string& notice, std::size_t image_side = 28);
  void plot(const std::string& stem, const Plot& plot, const std::string& caption, const std::string& slide,
            const std::string& notice);
  // A graph in Graphviz's language (e.g. ad::to_dot's): STEM.dot is always kept, STEM.png rendered by `dot` when
  // Graphviz is installed (otherwise the lesson says so and the README links the .dot).
  void graph(const std::string& stem, const std::string& dot_source, const std::string& caption, const std::string& slide,
             const std::string& notice);
  void csv(const std::string& stem, const std::string& header, const std::vector<std::vector<std::string>>& rows,
           const std::string& description);
  void metric(const std::string& key, double value, const std::string& meaning);
  void metric(const std::string& key, const std::string& value, const std::string& meaning);
  void note(const std::string& paragraph);  // extra README text
  // Saves a trained model as FILE (.npz, PyTorch state_dict names) in the output folder; the README lists it with
  // the lines that open it in numpy and load it back in C++.
  void save_model(const nn::Module& model, const std::string& file, const std::string& description);
  // With --load PATH: fills MODEL from FILE in that folder (PATH, or the folder of PATH when it is a .npz) and
  // returns true, so the lesson skips training it; without --load returns false. A lesson writes
  //   if (!L.load_model(model, "ae.npz")) ae::fit(model, ...);   L.save_model(model, "ae.npz", "...");
  // Plots of training curves have no data then: they are left out, and the README says why.
  bool load_model(nn::Module& model, const std::string& file);
  bool load_model(std::vector<std::pair<std::string, ad::Tensor64>>& arrays, const std::string& file);  // by name
  bool loaded() const { return !options_.load.empty(); }
  // The same for parameters kept as named float64 tensors (a model written out with autodiff ops, lesson 00).
  void save_model(const std::vector<std::pair<std::string, ad::Tensor64>>& arrays, const std::string& file,
                  const std::string& description);

  void finish(double seconds);  // metrics.json, README.md, index.html, the final table

 private:
  struct Figure {
    std::string file, caption, slide, notice;
  };
  Spec spec_;
  Options options_;
  std::string program_;
  std::unique_ptr<nn::Dataset> train_, test_;
  std::vector<Figure> figures_;
  std::vector<std::pair<std::string, std::string>> csvs_;
  std::vector<std::pair<std::string, std::string>> models_;  // file, description
  std::vector<std::string> written_;                         // every output file, so none is written twice
  void claim(const std::string& file);                       // throws if a figure, table or model already used it
  std::vector<std::tuple<std::string, std::variant<double, std::string>, std::string>> metrics_;
  std::vector<std::string> notes_;
  std::vector<std::string> loaded_models_;  // --load: the files read
  mutable std::recursive_mutex mutex_;       // what jobs of concurrently() share: output lines, the lists above
  bool concurrent_ = false;                  // inside concurrently()
  std::string skipped_plots_;               // --load: the training-curve plots left out
  std::string loadable(const std::string& file);  // --load: the path of FILE to read, "" without --load
  void note_loaded(const std::string& from);      // --load: FILE was read
  std::string html(const std::string& prefix, const std::string& readme_run) const;  // the page's body (page.cpp)
  void write_pages(const std::string& run_line) const;  // index.html and section.html (page.cpp)
};

// The models and data of a lesson's interactive panel on the course page (export.cpp): written by write() as
// page_models.js in the output folder, a script the page loads from disk (web/autoencoder.js runs the models).
//   PageExport(L).model("vae_2d_decoder", {vae->decoder, std::make_shared<nn::Sigmoid>()}, some_z, "...")
//                .array("codes", codes).labels("labels", labels).value("threshold", tau).write();
class PageExport {
 public:
  explicit PageExport(const Lesson& lesson);
  // LAYERS applied in order (Sequentials are opened; Linear, ReLU, LeakyReLU, Sigmoid, Tanh, Identity), weights
  // stored as float16, with test vectors: TEST_INPUTS [n, in] and this C++ model's outputs for them (float32,
  // with the stored weights), which the page and tests/web check the JS forward pass against.
  PageExport& model(const std::string& name, const std::vector<std::shared_ptr<nn::Module>>& layers,
                    const Tensor& test_inputs, const std::string& description);
  PageExport& array(const std::string& name, const Tensor& values);                     // float32, any shape
  PageExport& labels(const std::string& name, const std::vector<std::size_t>& values);  // 0..255
  PageExport& value(const std::string& name, double v);
  PageExport& text(const std::string& name, const std::string& v);
  std::string write() const;  // <out>/page_models.js; returns its path

 private:
  const Lesson& lesson_;
  std::vector<std::pair<std::string, std::string>> models_, data_;  // name, JSON
};

// The course page: <out_root>/index.html with every lesson in LESSON_IDS that has run (its section.html), in order,
// and a line for each one that has not; plain HTML and CSS that open from disk. Returns the page's path.
std::string write_course_page(const std::string& out_root, const std::vector<std::string>& lesson_ids);

// Parses the flags, runs the lesson, writes its outputs; returns the exit code
// (0 done, 1 missing/corrupt data or another error, 2 bad flags).
int run(int argc, char** argv, const Spec& spec, const std::function<void(Lesson&)>& body);

// Helpers the lessons share.
std::vector<std::size_t> first_of_each_class(const nn::Dataset& data, std::size_t per_class = 1);
Tensor rows(const Tensor& images, const std::vector<std::size_t>& indices);
double psnr_from_mse(double mse);  // 10 log10(1 / MSE) for pixels in [0, 1]
double median(std::vector<double> v);  // the middle value (the mean of the middle two for an even count)
std::string fmt(double v, int precision = 4);

// Writes an 8-bit greyscale PNG (used by grids; exposed for tests).
void write_png(const std::string& path, const std::vector<std::uint8_t>& pixels, std::size_t width, std::size_t height);

}  // namespace lessons
