#include "lessons/support.hpp"

#include <png.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "autodiff/blas.hpp"
#include "autodiff/parallel.hpp"

#ifndef AE_SOURCE_DIR
#define AE_SOURCE_DIR "."
#endif

namespace lessons {

namespace fs = std::filesystem;

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct HelpRequested {};

std::string usage(const std::string& program, const Spec& spec) {
  std::ostringstream os;
  os << "usage: " << program << " [--epochs N] [--batch N] [--lr X] [--seed N] [--data-dir DIR] [--out DIR] [--threads N] [--quick]"
     << (spec.datasets ? " [--dataset mnist|fashion]" : "");
  return os.str();
}

std::string help(const std::string& program, const Spec& spec) {
  std::ostringstream os;
  os << program << ": " << spec.title << "\n  slides: " << spec.slides << "\n\n" << usage(program, spec) << "\n\n"
     << "  --epochs N        training epochs (default " << spec.epochs << ")\n"
     << "  --batch N         batch size (default " << spec.batch << ")\n"
     << "  --lr X            learning rate (default " << spec.lr << ")\n"
     << "  --seed N          the one seed behind all randomness (default 1)\n"
     << "  --data-dir DIR    where mnist/ and fashion/ are (default " << nn::default_data_dir() << ")\n"
     << "  --out DIR         output folder (default out/" << spec.id << ")\n"
     << "  --threads N       threads for the kernels (default: AE_NUM_THREADS, else all cores)\n"
     << "  --quick           a tiny subset and " << spec.quick_epochs << " epoch(s), for smoke tests\n";
  if (spec.datasets) os << "  --dataset NAME    mnist (default) or fashion\n";
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
  o.data_dir = nn::default_data_dir();
  o.out_dir = std::string(AE_SOURCE_DIR) + "/out/" + spec.id;
  bool epochs_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError("flag " + flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") throw HelpRequested{};
    else if (flag == "--epochs") o.epochs = parse_number<std::size_t>(flag, value()), epochs_given = true;
    else if (flag == "--batch") o.batch = parse_number<std::size_t>(flag, value());
    else if (flag == "--lr") o.lr = parse_number<double>(flag, value());
    else if (flag == "--seed") o.seed = parse_number<std::uint64_t>(flag, value());
    else if (flag == "--data-dir") o.data_dir = value();
    else if (flag == "--out") o.out_dir = value();
    else if (flag == "--threads") o.threads = parse_number<int>(flag, value());
    else if (flag == "--quick") o.quick = true;
    else if (flag == "--dataset" && spec.datasets) {
      o.dataset = value();
      if (o.dataset != "mnist" && o.dataset != "fashion") throw UsageError("--dataset must be mnist or fashion, not '" + o.dataset + "'");
    } else throw UsageError("unknown flag '" + flag + "'");
  }
  if (o.epochs == 0) throw UsageError("--epochs must be at least 1");
  if (o.batch == 0) throw UsageError("--batch must be at least 1");
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw UsageError("--lr must be a positive number");
  if (o.threads < 0) throw UsageError("--threads must be 0 or more");
  if (o.quick && !epochs_given) o.epochs = spec.quick_epochs;
  return o;
}

// ---- a 5×7 bitmap font for grid captions (upper case, digits, punctuation) --------------------------------
const std::map<char, std::array<const char*, 7>>& font() {
  static const std::map<char, std::array<const char*, 7>> f = {
      {' ', {"     ", "     ", "     ", "     ", "     ", "     ", "     "}},
      {'0', {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}},
      {'1', {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
      {'2', {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}},
      {'3', {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}},
      {'4', {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}},
      {'5', {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}},
      {'6', {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}},
      {'7', {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}},
      {'8', {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}},
      {'9', {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}},
      {'A', {" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
      {'B', {"#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "}},
      {'C', {" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "}},
      {'D', {"#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "}},
      {'E', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"}},
      {'F', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "}},
      {'G', {" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"}},
      {'H', {"#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
      {'I', {" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
      {'J', {"  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "}},
      {'K', {"#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"}},
      {'L', {"#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"}},
      {'M', {"#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"}},
      {'N', {"#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"}},
      {'O', {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
      {'P', {"#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "}},
      {'Q', {" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"}},
      {'R', {"#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"}},
      {'S', {" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "}},
      {'T', {"#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "}},
      {'U', {"#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
      {'V', {"#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "}},
      {'W', {"#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "}},
      {'X', {"#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"}},
      {'Y', {"#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "}},
      {'Z', {"#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"}},
      {'.', {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}},
      {',', {"     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "}},
      {':', {"     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "}},
      {'-', {"     ", "     ", "     ", "#####", "     ", "     ", "     "}},
      {'+', {"     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "}},
      {'=', {"     ", "     ", "#####", "     ", "#####", "     ", "     "}},
      {'(', {"   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "}},
      {')', {" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "}},
      {'/', {"     ", "    #", "   # ", "  #  ", " #   ", "#    ", "     "}},
      {'%', {"##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##"}},
      {'_', {"     ", "     ", "     ", "     ", "     ", "     ", "#####"}},
      {'\'', {"  #  ", "  #  ", "     ", "     ", "     ", "     ", "     "}},
      {'<', {"   # ", "  #  ", " #   ", "#    ", " #   ", "  #  ", "   # "}},
      {'>', {"#    ", " #   ", "  #  ", "   # ", "  #  ", " #   ", "#    "}},
      {'?', {" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  "}},
      {'!', {"  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  "}},
      {'*', {"     ", "  #  ", "# # #", " ### ", "# # #", "  #  ", "     "}},
      {'#', {" # # ", " # # ", "#####", " # # ", "#####", " # # ", " # # "}},
  };
  return f;
}

constexpr std::size_t kFontScale = 2, kGlyphW = 5 * kFontScale, kGlyphH = 7 * kFontScale, kGlyphGap = kFontScale;

std::size_t text_width(const std::string& s) { return s.empty() ? 0 : s.size() * (kGlyphW + kGlyphGap) - kGlyphGap; }

void draw_text(std::vector<std::uint8_t>& img, std::size_t width, std::size_t x0, std::size_t y0, const std::string& s) {
  const auto& f = font();
  std::size_t x = x0;
  for (char ch : s) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto it = f.count(c) ? f.find(c) : f.find('?');
    for (std::size_t r = 0; r < 7; ++r)
      for (std::size_t col = 0; col < 5; ++col)
        if (it->second[r][col] == '#')
          for (std::size_t dy = 0; dy < kFontScale; ++dy)
            for (std::size_t dx = 0; dx < kFontScale; ++dx) img[(y0 + r * kFontScale + dy) * width + x + col * kFontScale + dx] = 0;
    x += kGlyphW + kGlyphGap;
  }
}

bool have_gnuplot() {
  static const bool found = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  return found;
}

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

std::string gp_quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

std::string num(double v) {
  std::ostringstream os;
  os << std::setprecision(8) << v;
  return os.str();
}

bool stdout_is_terminal() { return isatty(fileno(stdout)); }

// A series name as a CSV field: no separators inside.
std::string csv_key(std::string name) {
  for (char& c : name)
    if (c == ',' || c == '"' || c == '\n') c = ';';
  return name;
}

}  // namespace

// ---- PNG ---------------------------------------------------------------------------------------------------

void write_png(const std::string& path, const std::vector<std::uint8_t>& pixels, std::size_t width, std::size_t height) {
  if (pixels.size() != width * height) throw ad::Error("write_png " + path + ": pixel buffer does not match " + std::to_string(width) + "x" + std::to_string(height));
  const std::string tmp = path + ".tmp";
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) throw ad::Error("write_png: cannot open " + tmp + " for writing");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::fclose(fp);
    std::remove(tmp.c_str());
    throw ad::Error("write_png: libpng failed writing " + path);
  }
  png_init_io(png, fp);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::size_t y = 0; y < height; ++y) png_write_row(png, const_cast<png_bytep>(pixels.data() + y * width));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (std::fclose(fp) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) throw ad::Error("write_png: cannot write " + path);
}

// ---- Plot --------------------------------------------------------------------------------------------------

Plot::Plot(std::string title, std::string xlabel, std::string ylabel)
    : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

Plot& Plot::line(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, bool points) {
  if (kind_ != Kind::None && kind_ != Kind::XY) throw ad::Error("Plot: cannot mix lines with another kind of plot");
  if (x.size() != y.size()) throw ad::Error("Plot::line '" + name + "': " + std::to_string(x.size()) + " x values, " + std::to_string(y.size()) + " y values");
  kind_ = Kind::XY;
  csv_header_ = "series,x,y";
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(csv_key(name) + "," + num(x[i]) + "," + num(y[i]));
  plot_clauses_.push_back("DATA every ::1 using 2:(strcol(1) eq " + gp_quote(csv_key(name)) + " ? $3 : 1/0) with " +
                          (points ? "linespoints pt 7 ps 0.8" : "lines") + " lw 2 title " + gp_quote(name));
  return *this;
}

Plot& Plot::scatter(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, double size) {
  if (kind_ != Kind::None && kind_ != Kind::XY) throw ad::Error("Plot: cannot mix a scatter with another kind of plot");
  kind_ = Kind::XY;
  csv_header_ = "series,x,y";
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(csv_key(name) + "," + num(x[i]) + "," + num(y[i]));
  plot_clauses_.push_back("DATA every ::1 using 2:(strcol(1) eq " + gp_quote(csv_key(name)) + " ? $3 : 1/0) with points pt 7 ps " +
                          num(size) + " title " + gp_quote(name));
  return *this;
}

Plot& Plot::scatter_by_class(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::size_t>& cls,
                             const std::vector<std::string>& class_names) {
  if (kind_ != Kind::None) throw ad::Error("Plot: a class scatter stands alone");
  kind_ = Kind::Class;
  csv_header_ = "x,y,class";
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(num(x[i]) + "," + num(y[i]) + "," + std::to_string(cls[i]));
  for (std::size_t c = 0; c < class_names.size(); ++c)
    plot_clauses_.push_back("DATA every ::1 using 1:(int($3) == " + std::to_string(c) + " ? $2 : 1/0) with points pt 7 ps 0.35 title " +
                            gp_quote(class_names[c]));
  return *this;
}

Plot& Plot::histogram(const std::string& name, const std::vector<double>& values, std::size_t bins, double lo, double hi) {
  if (kind_ != Kind::None && kind_ != Kind::XY) throw ad::Error("Plot: cannot mix a histogram with another kind of plot");
  if (bins == 0 || !(hi > lo)) throw ad::Error("Plot::histogram: needs bins > 0 and hi > lo");
  std::vector<double> counts(bins, 0.0);
  for (double v : values) {
    const double t = (v - lo) / (hi - lo);
    counts[static_cast<std::size_t>(std::clamp(t, 0.0, 1.0 - 1e-12) * static_cast<double>(bins))] += 1;
  }
  kind_ = Kind::XY;
  csv_header_ = "series,x,y";
  const double width = (hi - lo) / static_cast<double>(bins);
  for (std::size_t b = 0; b < bins; ++b)
    csv_rows_.push_back(csv_key(name) + "," + num(lo + (static_cast<double>(b) + 0.5) * width) + "," + num(counts[b] / std::max<double>(1.0, static_cast<double>(values.size()))));
  commands_.push_back("set style fill transparent solid 0.45 noborder");
  plot_clauses_.push_back("DATA every ::1 using 2:(strcol(1) eq " + gp_quote(csv_key(name)) + " ? $3 : 1/0):(" + num(width) +
                          ") with boxes title " + gp_quote(name));
  return *this;
}

Plot& Plot::bars(const std::vector<std::string>& categories, const std::vector<std::pair<std::string, std::vector<double>>>& series) {
  if (kind_ != Kind::None) throw ad::Error("Plot: bars stand alone");
  kind_ = Kind::Bars;
  csv_header_ = "category";
  for (auto& [name, v] : series) {
    csv_header_ += "," + csv_key(name);
    if (v.size() != categories.size()) throw ad::Error("Plot::bars: series '" + name + "' does not match the categories");
  }
  for (std::size_t c = 0; c < categories.size(); ++c) {
    std::string row = csv_key(categories[c]);
    for (auto& [name, v] : series) row += "," + num(v[c]);
    csv_rows_.push_back(row);
  }
  commands_.push_back("set style data histograms");
  commands_.push_back("set style histogram clustered gap 1");
  commands_.push_back("set style fill solid 0.8 border -1");
  commands_.push_back("set xtics rotate by -25");
  for (std::size_t s = 0; s < series.size(); ++s)
    plot_clauses_.push_back(std::string("DATA every ::1 using ") + std::to_string(s + 2) + (s == 0 ? ":xtic(1)" : "") +
                            " title " + gp_quote(series[s].first));
  return *this;
}

Plot& Plot::log_x() {
  commands_.push_back("set logscale x 2");
  return *this;
}
Plot& Plot::log_y() {
  commands_.push_back("set logscale y");
  return *this;
}
Plot& Plot::command(const std::string& line) {
  commands_.push_back(line);
  return *this;
}
Plot& Plot::size(int width, int height) {
  width_ = width;
  height_ = height;
  return *this;
}

// ---- Lesson ------------------------------------------------------------------------------------------------

Lesson::Lesson(Spec spec, Options options, std::string program)
    : spec_(std::move(spec)), options_(std::move(options)), program_(std::move(program)) {
  std::error_code ec;
  fs::create_directories(options_.out_dir, ec);
  if (ec) throw ad::Error("cannot create the output folder " + options_.out_dir + ": " + ec.message());
}

std::string Lesson::path(const std::string& file) const { return (fs::path(options_.out_dir) / file).string(); }

nn::Dataset Lesson::load(const std::string& kind, nn::Split split) {
  const std::size_t limit = options_.quick ? (split == nn::Split::Train ? spec_.quick_train : spec_.quick_test) : 0;
  return nn::load_dataset(kind, options_.data_dir, split, limit);
}

const nn::Dataset& Lesson::train_set() {
  if (!train_) train_ = std::make_unique<nn::Dataset>(load(options_.dataset, nn::Split::Train));
  return *train_;
}

const nn::Dataset& Lesson::test_set() {
  if (!test_) test_ = std::make_unique<nn::Dataset>(load(options_.dataset, nn::Split::Test));
  return *test_;
}

void Lesson::say(const std::string& line) const { std::cout << line << std::endl; }

ae::Callbacks Lesson::progress(const std::string& what, ae::Callbacks extra) {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  auto epoch_start = std::make_shared<std::chrono::steady_clock::time_point>(*last);
  const bool tty = stdout_is_terminal();
  ae::Callbacks cb;
  cb.on_batch = [=](std::size_t epoch, std::size_t batch, std::size_t batches, double loss) {
    if (batch == 1) *epoch_start = std::chrono::steady_clock::now();
    if (tty) {
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
    if (tty) std::cout << "\r" << std::string(110, ' ') << "\r";
    std::cout << os.str() << std::endl;
    if (extra.on_epoch) extra.on_epoch(s);
  };
  return cb;
}

void Lesson::grid(const std::string& stem, const std::vector<GridRow>& rows, const std::string& caption,
                  const std::string& slide, const std::string& notice, std::size_t side) {
  const std::size_t scale = 2, cell = side * scale, gap = 4, margin = 8;
  std::size_t label_w = 0, columns = 0;
  for (const auto& r : rows) {
    label_w = std::max(label_w, text_width(r.caption));
    if (r.images.dim() != 2 || r.images.size(1) != side * side)
      throw ad::Error("grid " + stem + ": row '" + r.caption + "' has images " + ad::shape_str(r.images.shape()) + ", expected [k, " + std::to_string(side * side) + "]");
    columns = std::max(columns, r.images.size(0));
  }
  const std::size_t left = margin + label_w + (label_w ? 12 : 0);
  const std::size_t width = left + columns * (cell + gap) - gap + margin;
  const std::size_t height = 2 * margin + rows.size() * (cell + gap) - gap;
  std::vector<std::uint8_t> img(width * height, 200);  // light grey: white images keep their edges
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t top = margin + r * (cell + gap);
    draw_text(img, width, margin, top + (cell - kGlyphH) / 2, rows[r].caption);
    const Tensor& ims = rows[r].images;
    for (std::size_t k = 0; k < ims.size(0); ++k) {
      const float* px = ims.data() + k * side * side;
      float lo = 0, hi = 1, amax = 0;
      if (rows[r].scale == GridRow::Scale::PerImage) {
        lo = *std::min_element(px, px + side * side);
        hi = *std::max_element(px, px + side * side);
        if (hi <= lo) hi = lo + 1;
      }
      for (std::size_t i = 0; i < side * side; ++i) amax = std::max(amax, std::abs(px[i]));
      if (amax == 0) amax = 1;
      for (std::size_t y = 0; y < side; ++y)
        for (std::size_t x = 0; x < side; ++x) {
          const float v = px[y * side + x];
          float t = rows[r].scale == GridRow::Scale::Signed ? 0.5f + 0.5f * v / amax : (v - lo) / (hi - lo);
          const auto g = static_cast<std::uint8_t>(std::lround(255.0f * std::clamp(t, 0.0f, 1.0f)));
          for (std::size_t dy = 0; dy < scale; ++dy)
            for (std::size_t dx = 0; dx < scale; ++dx)
              img[(top + y * scale + dy) * width + left + k * (cell + gap) + x * scale + dx] = g;
        }
    }
  }
  write_png(path(stem + ".png"), img, width, height);
  figures_.push_back({stem + ".png", caption, slide, notice});
}

void Lesson::plot(const std::string& stem, const Plot& p, const std::string& caption, const std::string& slide,
                  const std::string& notice) {
  {
    std::ofstream csv(path(stem + ".csv"));
    csv << p.csv_header_ << "\n";
    for (auto& r : p.csv_rows_) csv << r << "\n";
    if (!csv) throw ad::Error("cannot write " + path(stem + ".csv"));
  }
  {
    std::ofstream gp(path(stem + ".gp"));
    gp << "# Renders " << stem << ".png from " << stem << ".csv: gnuplot " << stem << ".gp\n"
       << "set terminal pngcairo size " << p.width_ << "," << p.height_ << " enhanced font 'Sans,11'\n"
       << "set output '" << stem << ".png'\n"
       << "set datafile separator ','\n"
       << "set title " << gp_quote(p.title_) << "\n"
       << "set xlabel " << gp_quote(p.xlabel_) << "\n"
       << "set ylabel " << gp_quote(p.ylabel_) << "\n"
       << "set grid\nset key outside right top\n";
    for (auto& c : p.commands_) gp << c << "\n";
    gp << "DATA = '" << stem << ".csv'\nplot ";
    for (std::size_t i = 0; i < p.plot_clauses_.size(); ++i) {
      const std::string& clause = p.plot_clauses_[i];
      gp << (i ? ", \\\n     " : "") << clause;
    }
    gp << "\n";
  }
  if (have_gnuplot()) {
    const std::string cmd = "cd '" + options_.out_dir + "' && gnuplot '" + stem + ".gp' > '" + stem + ".gnuplot.log' 2>&1";
    if (std::system(cmd.c_str()) != 0)
      throw ad::Error("gnuplot failed on " + path(stem + ".gp") + " (see " + path(stem + ".gnuplot.log") + ")");
    fs::remove(path(stem + ".gnuplot.log"));
  } else {
    static bool warned = false;
    if (!warned) say("note: gnuplot is not installed; the plots' CSV and .gp scripts are written, run 'gnuplot NAME.gp' to render them");
    warned = true;
  }
  figures_.push_back({stem + ".png", caption, slide, notice});
}

void Lesson::csv(const std::string& stem, const std::string& header, const std::vector<std::vector<std::string>>& rows,
                 const std::string& description) {
  std::ofstream out(path(stem + ".csv"));
  out << header << "\n";
  for (auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) out << (i ? "," : "") << r[i];
    out << "\n";
  }
  if (!out) throw ad::Error("cannot write " + path(stem + ".csv"));
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

void Lesson::finish(double seconds) {
  metric("run_seconds", seconds, "wall-clock time of the run");
  {
    std::ofstream js(path("metrics.json"));
    js << "{\n";
    for (std::size_t i = 0; i < metrics_.size(); ++i) {
      const auto& [key, value, meaning] = metrics_[i];
      js << "  \"" << json_escape(key) << "\": ";
      if (std::holds_alternative<double>(value)) js << num(std::get<double>(value));
      else js << "\"" << json_escape(std::get<std::string>(value)) << "\"";
      js << (i + 1 < metrics_.size() ? ",\n" : "\n");
    }
    js << "}\n";
    if (!js) throw ad::Error("cannot write " + path("metrics.json"));
  }
  std::ostringstream md;
  md << "# Lesson " << spec_.id.substr(0, 2) << ": " << spec_.title << "\n\n"
     << spec_.summary << "\n\n"
     << "Slides: " << spec_.slides << ".\n\n";
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
  md << "\n## Run\n\n`" << program_;
  if (options_.quick) md << " --quick";
  md << " --epochs " << options_.epochs << " --batch " << options_.batch << " --lr " << options_.lr << " --seed " << options_.seed;
  if (spec_.datasets) md << " --dataset " << options_.dataset;
  md << "` in " << fmt(seconds, 3) << " s" << (options_.quick ? " (quick mode: a small subset, numbers are not meaningful)" : "")
     << " on " << ad::num_threads() << " thread(s). BLAS: " << ad::blas::config() << ".\n";
  std::ofstream readme(path("README.md"));
  readme << md.str();
  if (!readme) throw ad::Error("cannot write " + path("README.md"));

  std::cout << "\n" << spec_.id << " metrics (" << options_.out_dir << "/metrics.json):\n";
  for (auto& [key, value, meaning] : metrics_)
    std::cout << "  " << std::left << std::setw(36) << key << " "
              << (std::holds_alternative<double>(value) ? fmt(std::get<double>(value), 5) : std::get<std::string>(value)) << "\n";
}

// ---- run ---------------------------------------------------------------------------------------------------

int run(int argc, char** argv, const Spec& spec, const std::function<void(Lesson&)>& body) {
  const std::string program = "lesson" + spec.id;
  Options options;
  try {
    options = parse(argc, argv, spec);
  } catch (const HelpRequested&) {
    std::cout << help(program, spec);
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
    if (stdout_is_terminal()) std::cout << std::endl;
    std::cerr << program << ": error: " << e.what() << std::endl;
    return 1;
  }
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
