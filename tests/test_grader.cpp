// The coursework graders' framework (coursework/grader.hpp): a check's points, its first failure, the lines
// coursework/grade.py reads, and has_metrics for the lessons' milestones.
#define BOOST_TEST_MODULE grader
#include <boost/test/unit_test.hpp>

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
