// The coursework graders' framework (coursework/grader.hpp): a check's points, its first failure, the lines
// coursework/grade.py reads, and has_metrics for the lessons' milestones.
#define BOOST_TEST_MODULE grader
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "coursework/grader.hpp"

namespace {
// What a Grader printed while f ran.
template <class F>
std::string printed(F f) {
  std::ostringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  f();
  std::cout.rdbuf(old);
  return out.str();
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_check_keeps_its_first_failure) {
  grader::Check c;
  c.expect(true, "not this");
  c.near(1.0, 1.0 + 1e-9, 1e-6, "close enough");
  BOOST_TEST(!c.failed());
  c.near(2.0, 1.0, 0.5, "x");
  c.expect(false, "second");
  BOOST_TEST(c.failed());
  BOOST_TEST(c.failure() == "x: got 2, expected 1");
  grader::Check n;
  n.near(std::nan(""), 1.0, 1e9, "nan", 1e9);  // a NaN is never near
  BOOST_TEST(n.failed());
}

BOOST_AUTO_TEST_CASE(has_metrics_names_the_first_missing_metric) {
  const std::map<std::string, double> m{{"auroc_fashion", 0.9}, {"auroc_heldout_digit", 0.7}};
  grader::Check all;
  BOOST_TEST(grader::has_metrics(all, m, "11", {"auroc_fashion", "auroc_heldout_digit"}));
  BOOST_TEST(!all.failed());
  grader::Check missing;
  BOOST_TEST(!grader::has_metrics(missing, m, "11", {"auroc_fashion", "auroc_seen", "auroc_other"}));
  BOOST_TEST(missing.failure() == "lesson 11 wrote no metric auroc_seen");
}

BOOST_AUTO_TEST_CASE(the_grader_prints_each_check_and_the_score) {
  const std::string out = printed([] {
    grader::Grader g("demo");
    g.check("passes", 2, [](grader::Check& c) { c.expect(true, ""); });
    g.check("fails", 3, [](grader::Check& c) { c.expect(false, "wrong\nvalue"); });
    g.check("throws", 1, [](grader::Check&) { throw std::runtime_error("exercise demo is yours to write"); });
    BOOST_TEST(g.finish() == 0);
  });
  BOOST_TEST(out == "CHECK 2/2 passes :: ok\n"
                    "CHECK 0/3 fails :: wrong value\n"
                    "CHECK 0/1 throws :: threw: exercise demo is yours to write\n"
                    "SCORE demo 2/6\n");
}

namespace {
// A folder under the build's working directory holding a fake lesson program `lesson<id>` (a shell script).
std::string fake_lesson(const std::string& dir, const std::string& id, const std::string& body) {
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/tmp'").c_str());
  const std::string exe = dir + "/lesson" + id;
  std::ofstream(exe) << "#!/bin/sh\n" << body << "\n";
  std::system(("chmod +x '" + exe + "'").c_str());
  return exe;
}
bool empty_folder(const std::string& dir) {
  return std::system(("test -z \"$(ls -A '" + dir + "')\"").c_str()) == 0;
}
}  // namespace

BOOST_AUTO_TEST_CASE(run_lesson_reads_the_numbers_and_leaves_no_temporary_folder) {
  const std::string dir = "grader_fake_lessons";
  // the program is given --quick --threads 1 --out DIR: write metrics.json into DIR ($5)
  fake_lesson(dir, "99_ok",
              "mkdir -p \"$5\" && printf '{\\n  \"lesson\": \"99\",\\n  \"auroc\": 0.875,\\n  \"k\": 3\\n}\\n' "
              "> \"$5/metrics.json\"");
  fake_lesson(dir + "_fail", "99_fail", "echo 'training...'; echo 'lesson99: error: the loss is not finite' >&2; exit 1");
  setenv("AE_LESSONS_DIR", dir.c_str(), 1);
  setenv("TMPDIR", (dir + "/tmp").c_str(), 1);
  const auto m = grader::run_lesson("99_ok");
  BOOST_TEST(m.size() == 2u);  // the text value "99" is not a number
  BOOST_TEST(m.at("auroc") == 0.875);
  BOOST_TEST(m.at("k") == 3.0);
  BOOST_TEST(empty_folder(dir + "/tmp"));

  setenv("AE_LESSONS_DIR", (dir + "_fail").c_str(), 1);
  setenv("TMPDIR", (dir + "_fail/tmp").c_str(), 1);
  try {
    grader::run_lesson("99_fail");
    BOOST_FAIL("a failing lesson must throw");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()) == "lesson99_fail --quick failed: lesson99: error: the loss is not finite");
  }
  BOOST_TEST(empty_folder(dir + "_fail/tmp"));  // removed although the check threw
  BOOST_CHECK_THROW(grader::run_lesson("98_missing"), std::runtime_error);
  unsetenv("TMPDIR");
}
