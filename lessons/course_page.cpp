// Writes the course page, <out>/index.html, from the lessons that have run (scripts/lessons.sh calls it last):
//   course_page [OUT]     (default: the repository's out/)
#include <iostream>
#include <sstream>

#include "lessons/support.hpp"

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : AE_LESSON_OUT_ROOT;
  std::vector<std::string> ids;
  std::stringstream list(AE_LESSON_IDS);
  for (std::string id; std::getline(list, id, ',');) ids.push_back(id);
  try {
    std::cout << "course page: " << lessons::write_course_page(out, ids) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "course_page: error: " << e.what() << std::endl;
    return 1;
  }
}
