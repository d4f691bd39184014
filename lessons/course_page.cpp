// Writes the course page, <out>/index.html, from the lessons that have run (scripts/lessons.sh calls it last):
//   course_page [OUT]     (default: the repository's out/)
// Then adds the interactive panels: each beside the figures of its lesson, run in the page by web/panels.js on the
// models that lesson exported (OUT/<lesson>/page_models.js, lessons/support/export.cpp). web/ is copied to OUT/web/
// and everything is loaded with classic <script src> tags, so the page still opens from disk with no server. A panel
// whose lesson has not run is left out, with a sentence naming the command that makes it.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lessons/support.hpp"

namespace fs = std::filesystem;

namespace {

#ifdef AE_WEB_DIR
const fs::path kWebDir = AE_WEB_DIR;
#else
const fs::path kWebDir =
    fs::path(__FILE__).parent_path().parent_path() / "web";  // this file is lessons/course_page.cpp
#endif
const std::vector<std::string> kWebFiles = {"autoencoder.js", "panels.js", "panels.css"};

struct Panel {
  std::string id, lesson;  // the element's id; the lesson whose section holds it and whose page_models.js it runs
  std::string figure;      // the lesson's figure the panel follows
  std::string title, text;
};

const std::vector<Panel> kPanels = {
    {"ae-latent", "10_variational", "latent_2d_plain_ae.png", "Try it: walk through both 2-D latent spaces",
     "Each dot is the code of a test image, coloured by its digit. Move the pointer over a scatter (or drag, or touch "
     "it; or focus it with Tab and use the arrow keys): the z under the cross goes through that model's decoder. In "
     "the VAE's space nearly every z decodes to a digit, and neighbouring z to similar ones. In the plain "
     "autoencoder's, move into the empty wedges between the arms and beyond them: its decoder was never asked what "
     "to draw there, and it draws blots and torn strokes. The black ring in the other scatter marks the same test "
     "image, the one whose code is nearest the cross. (The plain autoencoder is lesson 10's, with the VAE's layers, "
     "which makes the comparison fair; lesson 08's deeper 2-D autoencoder is left out: its decoder alone holds 1.4 M "
     "weights, more than the page's budget.)"},
    {"ae-interpolation", "10_variational", "interpolations.png", "Try it: interpolate between two test digits",
     "Pick two test digits a and b and move the slider (or focus it and use the arrow keys): the straight line from "
     "the code of a to the code of b decoded by the 2-D VAE (μ of each) and by the plain 2-D autoencoder, and the "
     "pixels of a and b cross-faded. Each strip shows nine steps of the path; the orange box is the step nearest t."},
    {"ae-draw", "05_denoising", "denoising.png", "Try it: draw a digit",
     "Draw in the black square with the mouse, a finger or a pen, or with the keyboard (Tab to the square: the arrow "
     "keys move the pen, Shift moves it ten pixels, the space bar puts it down and lifts it). The drawing is prepared "
     "as MNIST's digits were (its ink scaled into 20×20 pixels, its centre of mass moved to the centre of 28×28), "
     "Gaussian noise of the "
     "chosen σ is added, clip(x + σε, 0, 1) with one fixed draw of ε, and the result goes to this lesson's "
     "denoising autoencoder (trained on Gaussian noise; the slider marks its level) and to lesson 11's anomaly "
     "detector, the autoencoder trained on all MNIST training digits whose reconstruction error, (1/784) Σ (x − "
     "x')², is held against the threshold τ that lesson 11 set from its errors on its own training digits: above "
     "τ the input is flagged as anomalous. Try a digit, then a dense scribble, a Fashion-MNIST item or more noise: "
     "they come back badly and are flagged. A simple letter such as A, made of digit-like strokes, often passes: the "
     "detector's code was sized to reconstruct digits sharply, so that clothes fail, and its τ separates digits "
     "from clothes, not from every shape that is not a digit."},
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string command(const std::string& lesson) { return "<code>build/lessons/lesson" + lesson + "</code>"; }

// Puts TEXT into LESSON's section: after the figure FIGURE when it has one, else after its figures (before the
// "Metrics" heading). False if the section is absent.
bool insert_in_section(std::string& html, const std::string& lesson, const std::string& text,
                       const std::string& figure = "") {
  const auto section = html.find("<section class=\"lesson\" id=\"" + lesson + "\">");
  if (section == std::string::npos) return false;
  const auto metrics = html.find("<h3>Metrics</h3>", section);
  if (metrics == std::string::npos) throw std::runtime_error("the section of " + lesson + " has no Metrics heading");
  const auto img =
      figure.empty() ? std::string::npos : html.find("<img src=\"" + lesson + "/" + figure + "\"", section);
  const auto end = img < metrics ? html.find("</figure>\n", img) : std::string::npos;
  html.insert(end < metrics ? end + 10 : metrics, text);
  return true;
}

void insert_before(std::string& html, const std::string& mark, const std::string& text) {
  const auto at = html.find(mark);
  if (at == std::string::npos) throw std::runtime_error("the course page has no " + mark);
  html.insert(at, text);
}

void add_panels(const fs::path& out) {
  fs::create_directories(out / "web");
  for (const auto& f : kWebFiles) {
    if (!fs::exists(kWebDir / f)) throw std::runtime_error((kWebDir / f).string() + " not found (the panels' scripts)");
    fs::copy_file(kWebDir / f, out / "web" / f, fs::copy_options::overwrite_existing);
  }
  const fs::path index = out / "index.html";
  std::string html = read(index);
  const auto exported = [&](const std::string& lesson) { return fs::exists(out / lesson / "page_models.js"); };
  std::ostringstream list;
  for (const auto& p : kPanels) {
    if (!exported(p.lesson)) {
      const std::string sentence =
          "<p class=\"missing\">The panel “" + p.title + "” appears here once lesson " + p.lesson +
          " has written its models for the page: run " + command(p.lesson) +
          " (or <code>bash scripts/lessons.sh</code>), then <code>build/lessons/course_page</code>.</p>\n";
      insert_in_section(html, p.lesson, sentence, p.figure);
      list << "<li class=\"missing\">" << p.title << " (lesson " << p.lesson << "): not available yet; run "
           << command(p.lesson) << ", then <code>build/lessons/course_page</code></li>\n";
      continue;
    }
    std::string extra;
    if (p.id == "ae-draw" && !exported("11_anomaly_detection"))
      extra =
          "<p class=\"missing\">The anomaly score against lesson 11's threshold appears here once lesson 11 has "
          "run: " +
          command("11_anomaly_detection") + ", then <code>build/lessons/course_page</code>.</p>\n";
    insert_in_section(html, p.lesson,
                      "<div class=\"ae-panel\" id=\"" + p.id + "\" data-drawn=\"no\">\n<h3>" + p.title + "</h3>\n<p>" +
                          p.text + "</p>\n" + extra +
                          "<div class=\"ae-body\"><noscript>This panel needs JavaScript.</noscript></div>\n</div>\n",
                      p.figure);
    list << "<li><a href=\"#" << p.id << "\">" << p.title << "</a> (lesson " << p.lesson << ")</li>\n";
  }
  if (exported("11_anomaly_detection"))
    insert_in_section(
        html, "11_anomaly_detection",
        exported("05_denoising")
            ? "<p>Draw a digit in <a href=\"#ae-draw\">the drawing panel</a> (lesson 05) to score it with this "
              "lesson's detector and τ.</p>\n"
            : "<p class=\"missing\">The drawing panel that scores a drawing with this lesson's detector "
              "sits in lesson 05's section: run " +
                  command("05_denoising") +
                  ", then "
                  "<code>build/lessons/course_page</code>.</p>\n");

  std::string scripts = "<script src=\"web/autoencoder.js\"></script>\n";
  for (const std::string lesson : {"05_denoising", "10_variational", "11_anomaly_detection"})
    if (exported(lesson)) scripts += "<script src=\"" + lesson + "/page_models.js\"></script>\n";
  scripts += "<script src=\"web/panels.js\"></script>\n";
  insert_before(html, "</head>", "<link rel=\"stylesheet\" href=\"web/panels.css\">\n");
  insert_before(
      html, "<ol class=\"toc\"",
      "<h2>Interactive panels</h2>\n<p>Models trained by the lessons, run in this page (no server, no "
      "network): the check below runs each on test vectors and compares with the C++ outputs.</p>\n"
      "<p class=\"ae-check\" id=\"ae-models-check\">models check: not run (this needs JavaScript)</p>\n<ul>\n" +
          list.str() + "</ul>\n<p id=\"ae-ready\" class=\"slides\"></p>\n<h2>Lessons</h2>\n");
  insert_before(html, "</body>", scripts);
  const fs::path tmp = index.string() + ".panels.tmp";  // then renamed: a reader never sees half a page
  {
    std::ofstream file(tmp, std::ios::binary);
    file << html;
    if (!file) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, index);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : AE_LESSON_OUT_ROOT;
  std::vector<std::string> ids;
  std::stringstream list(AE_LESSON_IDS);
  for (std::string id; std::getline(list, id, ',');) ids.push_back(id);
  try {
    const std::string page = lessons::write_course_page(out, ids);
    add_panels(out);
    std::cout << "course page: " << page << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "course_page: error: " << e.what() << std::endl;
    return 1;
  }
}
