// What the lesson support's files share (internal: lessons include lessons/support.hpp only).
#pragma once

#include <string>

#include "lessons/support.hpp"

#ifndef AE_SOURCE_DIR
#define AE_SOURCE_DIR "."
#endif

namespace lessons::detail {

std::string json_escape(const std::string& s);  // for a JSON string's contents
std::string num(double v);                      // 8 significant digits, as metrics.json stores them
std::string csv_key(std::string name);          // a series name as a CSV field: no separators inside
bool stdout_is_terminal();

}  // namespace lessons::detail
