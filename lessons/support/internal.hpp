// What the lesson support's files share (internal: lessons include lessons/support.hpp only).
#pragma once

#include <string>
#include <vector>

#include "lessons/support.hpp"

namespace lessons::detail {

std::string json_escape(const std::string& s);  // for a JSON string's contents
std::string num(double v);                      // 8 significant digits, as metrics.json stores them
std::string csv_key(std::string name);          // a series name as a CSV field: no separators inside
bool stdout_is_terminal();
// What page_models.js is, for the README's and the page's lists of files (written by PageExport, export.cpp).
inline constexpr const char* kPageModelsNote =
    "the models of the course page's interactive panels (float16 weights, with test inputs and this run's outputs "
    "for them), a script the page loads from disk; `web/autoencoder.js` runs them";
// Inside a job of Lesson::concurrently: the job's own list of saved models (file, description), else null.
extern thread_local std::vector<std::pair<std::string, std::string>>* job_models;
std::string temp_name(const std::string& path);                   // unique per process and call
void write_file(const std::string& path, const std::string& text);  // through a temporary name, then renamed
bool have_tool(const std::string& name);  // a program on the PATH
// ARGV[0] run inside DIR with its output in LOG, without a shell; true when it exits with 0.
bool run_tool(const std::string& dir, const std::vector<std::string>& argv, const std::string& log);

}  // namespace lessons::detail
