// Plots: each is a CSV of its numbers plus the gnuplot script that draws it (both kept beside the PNG).
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "lessons/support/internal.hpp"

namespace lessons {

namespace fs = std::filesystem;
using detail::csv_key;
using detail::num;

namespace detail {

bool have_tool(const std::string& name) {
  static std::map<std::string, bool> found;
  auto it = found.find(name);
  if (it == found.end()) {
    bool ok = false;
    for (char c : name) ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    it = found.emplace(name, ok && std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0).first;
  }
  return it->second;
}

// ARGV[0] run inside DIR with its output in LOG, without a shell (no path is ever parsed as a command).
bool run_tool(const std::string& dir, const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace detail

namespace {

std::string gp_quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}


}  // namespace

Plot::Plot(std::string title, std::string xlabel, std::string ylabel)
    : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

Plot& Plot::line(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, bool points) {
  if (kind_ != Kind::None && kind_ != Kind::XY) throw ad::Error("Plot: cannot mix lines with another kind of plot");
  if (x.size() != y.size()) throw ad::Error("Plot::line '" + name + "': " + std::to_string(x.size()) + " x values, " + std::to_string(y.size()) + " y values");
  kind_ = Kind::XY;
  csv_header_ = "series,x,y";
  empty_series_ = empty_series_ || x.empty();
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(csv_key(name) + "," + num(x[i]) + "," + num(y[i]));
  plot_clauses_.push_back("DATA every ::1 using 2:(strcol(1) eq " + gp_quote(csv_key(name)) + " ? $3 : 1/0) with " +
                          (points ? "linespoints pt 7 ps 0.8" : "lines") + " lw 2 title " + gp_quote(name) + " noenhanced");
  return *this;
}

Plot& Plot::scatter(const std::string& name, const std::vector<double>& x, const std::vector<double>& y, double size) {
  if (kind_ != Kind::None && kind_ != Kind::XY) throw ad::Error("Plot: cannot mix a scatter with another kind of plot");
  kind_ = Kind::XY;
  csv_header_ = "series,x,y";
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(csv_key(name) + "," + num(x[i]) + "," + num(y[i]));
  plot_clauses_.push_back("DATA every ::1 using 2:(strcol(1) eq " + gp_quote(csv_key(name)) + " ? $3 : 1/0) with points pt 7 ps " +
                          num(size) + " title " + gp_quote(name) + " noenhanced");
  return *this;
}

Plot& Plot::scatter_by_class(const std::vector<double>& x, const std::vector<double>& y, const std::vector<std::size_t>& cls,
                             const std::vector<std::string>& class_names) {
  if (kind_ != Kind::None) throw ad::Error("Plot: a class scatter stands alone");
  if (y.size() != x.size() || cls.size() != x.size())
    throw ad::Error("Plot::scatter_by_class: " + std::to_string(x.size()) + " x, " + std::to_string(y.size()) + " y and " +
                    std::to_string(cls.size()) + " classes");
  kind_ = Kind::Class;
  csv_header_ = "x,y,class";
  for (std::size_t i = 0; i < x.size(); ++i) csv_rows_.push_back(num(x[i]) + "," + num(y[i]) + "," + std::to_string(cls[i]));
  // Ten distinguishable colours (matplotlib's tab10), cycled beyond; the points are small, so each class's key
  // entry is drawn separately (keyentry) with a marker large enough to read, and each class's name is written
  // large, in its colour, at the median of its points.
  static const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  commands_.push_back("set style textbox opaque noborder");
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    std::vector<double> xc, yc;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (cls[i] == c) xc.push_back(x[i]), yc.push_back(y[i]);
    if (!xc.empty())
      commands_.push_back("set label " + gp_quote(class_names[c]) + " noenhanced at " + num(median(xc)) + "," + num(median(yc)) +
                          " center front boxed font 'Sans-Bold,20' textcolor rgb \"" + colours[c % 10] + "\"");
  }
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    const std::string colour = std::string("lc rgb \"") + colours[c % 10] + "\"";
    plot_clauses_.push_back("DATA every ::1 using 1:(int($3) == " + std::to_string(c) + " ? $2 : 1/0) with points pt 7 ps 0.35 " +
                            colour + " notitle");
    plot_clauses_.push_back("keyentry with points pt 7 ps 1.5 " + colour + " title " + gp_quote(class_names[c]));
  }
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
                          ") with boxes title " + gp_quote(name) + " noenhanced");
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
                            " title " + gp_quote(series[s].first) + " noenhanced");
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

void Lesson::plot(const std::string& stem, const Plot& p, const std::string& caption, const std::string& slide,
                  const std::string& notice) {
  if (p.csv_rows_.empty() || (loaded() && p.empty_series_)) {
    if (!loaded()) throw ad::Error("plot " + stem + ": no data (every series is empty)");
    skipped_plots_ += (skipped_plots_.empty() ? "" : ", ") + stem + ".png";
    say("not drawn: " + stem + ".png (a training curve; the models were loaded)");
    return;
  }
  claim(stem + ".csv");
  claim(stem + ".png");
  {
    std::ostringstream csv;
    csv << p.csv_header_ << "\n";
    for (auto& r : p.csv_rows_) csv << r << "\n";
    detail::write_file(path(stem + ".csv"), csv.str());
  }
  // gnuplot draws into a temporary file, renamed when it is complete; the script kept beside it names the PNG.
  const std::string png_tmp = fs::path(detail::temp_name(path(stem + ".png"))).filename().string();
  const std::string gp_tmp = fs::path(detail::temp_name(path(stem + ".gp"))).filename().string();
  {
    std::ostringstream gp;
    gp << "# Renders " << stem << ".png from " << stem << ".csv: gnuplot " << stem << ".gp\n"
       << "set terminal pngcairo size " << p.width_ << "," << p.height_ << " enhanced font 'Sans,11'\n"
       << "set output '" << stem << ".png'\n"
       << "set datafile separator ','\n"
       << "set title " << gp_quote(p.title_) << " noenhanced\n"
       << "set xlabel " << gp_quote(p.xlabel_) << " noenhanced\n"
       << "set ylabel " << gp_quote(p.ylabel_) << " noenhanced\n"
       << "set grid\nset key outside right top\n";
    for (auto& c : p.commands_) gp << c << "\n";
    gp << "DATA = '" << stem << ".csv'\nplot ";
    for (std::size_t i = 0; i < p.plot_clauses_.size(); ++i) {
      const std::string& clause = p.plot_clauses_[i];
      gp << (i ? ", \\\n     " : "") << clause;
    }
    gp << "\n";
    detail::write_file(path(stem + ".gp"), gp.str());
    std::string run = gp.str();  // the same script, drawing into the temporary file
    const std::string out_line = "set output '" + stem + ".png'";
    run.replace(run.find(out_line), out_line.size(), "set output '" + png_tmp + "'");
    detail::write_file(path(gp_tmp), run);
  }
  if (detail::have_tool("gnuplot")) {
    const std::string log = gp_tmp + ".log";
    const bool ok = detail::run_tool(options_.out_dir, {"gnuplot", gp_tmp}, log);
    fs::remove(path(gp_tmp));
    if (!ok) {
      fs::remove(path(png_tmp));
      throw ad::Error("gnuplot failed on " + path(stem + ".gp") + " (see " + path(log) + ")");
    }
    fs::remove(path(log));
    fs::rename(path(png_tmp), path(stem + ".png"));
  } else {
    static bool warned = false;
    if (!warned) say("note: gnuplot is not installed; the plots' CSV and .gp scripts are written, run 'gnuplot NAME.gp' to render them");
    warned = true;
  }
  figures_.push_back({stem + ".png", caption, slide, notice});
}

void Lesson::graph(const std::string& stem, const std::string& dot_source, const std::string& caption,
                   const std::string& slide, const std::string& notice) {
  claim(stem + ".dot");
  claim(stem + ".png");
  detail::write_file(path(stem + ".dot"), dot_source);
  std::string file = stem + ".dot";
  if (detail::have_tool("dot")) {
    const std::string png_tmp = fs::path(detail::temp_name(path(stem + ".png"))).filename().string();
    if (!detail::run_tool(options_.out_dir, {"dot", "-Tpng", "-Gdpi=96", stem + ".dot", "-o", png_tmp}, stem + ".dot.log")) {
      fs::remove(path(png_tmp));
      throw ad::Error("Graphviz dot failed on " + path(stem + ".dot") + " (see " + path(stem + ".dot.log") + ")");
    }
    fs::remove(path(stem + ".dot.log"));
    fs::rename(path(png_tmp), path(stem + ".png"));
    file = stem + ".png";
  } else {
    say("note: Graphviz is not installed (apt-get install graphviz); " + stem + ".dot is written, run 'dot -Tpng " +
        stem + ".dot -o " + stem + ".png' to render it");
  }
  figures_.push_back({file, caption, slide, notice});
}

}  // namespace lessons
