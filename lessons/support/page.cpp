// The lessons as web pages: each lesson writes index.html (its own page) and section.html (the same body, for the
// course page), and write_course_page puts the sections that exist into <out_root>/index.html. Plain HTML with
// inline CSS and relative links: the pages open from disk, with no server and no network.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lessons/support/internal.hpp"

namespace lessons {

namespace fs = std::filesystem;

namespace {

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

// Escaped text with the README's two inline marks: `code` and **bold**.
std::string inline_marks(const std::string& s) {
  std::string e = escape(s), o;
  bool code = false, bold = false;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (e[i] == '`') {
      o += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && e.compare(i, 2, "**") == 0) {
      o += bold ? "</b>" : "<b>";
      bold = !bold;
      ++i;
    } else {
      o += e[i];
    }
  }
  if (code) o += "</code>";
  if (bold) o += "</b>";
  return o;
}

std::string href(const fs::path& target, const fs::path& from_dir) {
  std::error_code ec;
  const fs::path rel = fs::relative(target, from_dir, ec);
  return escape((ec || rel.empty() ? fs::absolute(target) : rel).generic_string());
}

const char* kStyle = R"(<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 1080px; margin: 0 auto; padding: 1em 2em 4em; overflow-wrap: anywhere; }
nav { background: #24343f; color: #eee; padding: 0.8em 2em; }
nav a { color: #bfe3ff; }
h1 { margin-bottom: 0.2em; }
section.lesson { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1.5em 1em; margin: 2em 0; }
.slides { color: #555; font-style: italic; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ccc; background: #fff; }
figcaption { font-size: 0.95em; color: #333; }
table { border-collapse: collapse; font-size: 0.9em; display: block; max-width: 100%; overflow-x: auto; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; vertical-align: top; text-align: left; }
td.value { font-family: monospace; white-space: nowrap; }
code { background: #f0f0f0; padding: 0 0.2em; }
.missing { color: #777; }
ol.toc li { margin: 0.2em 0; }
</style>)";

std::string page(const std::string& title, const std::string& nav, const std::string& body) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << escape(title) << "</title>\n"
     << kStyle << "\n</head>\n<body>\n<nav>" << nav << "</nav>\n<main>\n" << body << "</main>\n</body>\n</html>\n";
  return os.str();
}

}  // namespace

// The body both pages share. PREFIX is prepended to the lesson's own files ("" on its page, "<id>/" on the course
// page); the source link is made relative to the folder the page sits in.
std::string Lesson::html(const std::string& prefix, const std::string& run_line) const {
  const fs::path page_dir = prefix.empty() ? fs::path(options_.out_dir) : fs::path(options_.out_dir).parent_path();
  std::ostringstream os;
  os << "<section class=\"lesson\" id=\"" << escape(spec_.id) << "\">\n<h2>Lesson " << escape(spec_.id.substr(0, 2)) << ": "
     << escape(spec_.title) << "</h2>\n<p class=\"slides\">Slides: " << escape(spec_.slides) << "</p>\n<p>"
     << inline_marks(spec_.summary) << "</p>\n";
  for (const auto& n : notes_) os << "<p>" << inline_marks(n) << "</p>\n";
  os << "<h3>Figures</h3>\n";
  for (const auto& f : figures_) {
    const std::string file = escape(prefix + f.file);
    os << "<figure>";
    if (f.file.size() > 4 && f.file.compare(f.file.size() - 4, 4, ".png") == 0)
      os << "<a href=\"" << file << "\"><img src=\"" << file << "\" alt=\"" << escape(f.caption) << "\" loading=\"lazy\"></a>";
    else
      os << "<p><a href=\"" << file << "\">" << escape(f.file) << "</a> (not rendered: see the run's output)</p>";
    os << "<figcaption><b>" << inline_marks(f.caption) << "</b><br><i>Reproduces:</i> " << inline_marks(f.slide) << ". "
       << inline_marks(f.notice) << "</figcaption></figure>\n";
  }
  os << "<h3>Metrics</h3>\n<table>\n<tr><th>key</th><th>value</th><th>meaning, and the reference to hold it against</th></tr>\n";
  for (const auto& [key, value, meaning] : metrics_)
    os << "<tr><td><code>" << escape(key) << "</code></td><td class=\"value\">"
       << escape(std::holds_alternative<double>(value) ? fmt(std::get<double>(value), 5) : std::get<std::string>(value))
       << "</td><td>" << inline_marks(meaning) << "</td></tr>\n";
  os << "</table>\n<h3>Files</h3>\n<ul>\n";
  os << "<li><a href=\"" << escape(prefix) << "metrics.json\">metrics.json</a>, <a href=\"" << escape(prefix)
     << "README.md\">README.md</a></li>\n";
  for (const auto& [file, desc] : csvs_)
    os << "<li><a href=\"" << escape(prefix + file) << "\">" << escape(file) << "</a>: " << inline_marks(desc) << "</li>\n";
  for (const auto& [file, desc] : models_)
    os << "<li><a href=\"" << escape(prefix + file) << "\">" << escape(file) << "</a>: " << inline_marks(desc) << "</li>\n";
  if (fs::exists(path("page_models.js")))
    os << "<li><a href=\"" << escape(prefix) << "page_models.js\">page_models.js</a>: " << inline_marks(detail::kPageModelsNote) << "</li>\n";
  if (!spec_.source.empty())
    os << "<li>the lesson's code: <a href=\"" << href(spec_.source, page_dir) << "\">" << escape(fs::path(spec_.source).filename().string())
       << "</a></li>\n";
  os << "</ul>\n<p class=\"slides\">Run: " << inline_marks(run_line) << "</p>\n</section>\n";
  return os.str();
}

void Lesson::write_pages(const std::string& run_line) const {
  const std::string nav = "<a href=\"../index.html\">All lessons</a> · Lesson " + escape(spec_.id);
  detail::write_file(path("index.html"), page("Lesson " + spec_.id + ": " + spec_.title, nav, html("", run_line)));
  detail::write_file(path("section.html"), html(spec_.id + "/", run_line));
}

std::string write_course_page(const std::string& out_root, const std::vector<std::string>& lesson_ids) {
  std::ostringstream toc, body;
  std::size_t ran = 0;
  for (const auto& id : lesson_ids) {
    const fs::path section = fs::path(out_root) / id / "section.html";
    std::ifstream in(section);
    if (!in) {
      toc << "<li class=\"missing\">" << escape(id) << ": not run yet (<code>build/lessons/lesson" << escape(id)
          << "</code>, or <code>bash scripts/lessons.sh</code> for all)</li>\n";
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::string title = id;
    const auto a = s.find("<h2>"), b = s.find("</h2>");
    if (a != std::string::npos && b != std::string::npos && b > a) title = s.substr(a + 4, b - a - 4);
    toc << "<li><a href=\"#" << escape(id) << "\">" << title << "</a> · <a href=\"" << escape(id) << "/index.html\">own page</a></li>\n";
    body << s;
    ++ran;
  }
  std::ostringstream main;
  main << "<h1>Autoencoders, lesson by lesson</h1>\n<p>Each lesson trains its models on real data and reproduces the "
          "slides' figures; below each figure is the slide it reproduces and what to notice, and beside each metric the "
          "reference to hold it against. "
       << ran << " of " << lesson_ids.size() << " lessons have run.</p>\n<ol class=\"toc\" start=\"0\">\n"
       << toc.str() << "</ol>\n"
       << body.str();
  const fs::path file = fs::path(out_root) / "index.html";
  fs::create_directories(out_root);
  detail::write_file(file.string(), page("Autoencoders: the course", "Autoencoders: the course", main.str()));
  return file.string();
}

}  // namespace lessons
