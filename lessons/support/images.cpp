// Image grids as PNG files (libpng), with row captions drawn in a 5×7 bitmap font.
#include <png.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <map>

#include "lessons/support/internal.hpp"

namespace lessons {

namespace {

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


}  // namespace

void write_png(const std::string& path, const std::vector<std::uint8_t>& pixels, std::size_t width, std::size_t height) {
  if (pixels.size() != width * height) throw ad::Error("write_png " + path + ": pixel buffer does not match " + std::to_string(width) + "x" + std::to_string(height));
  const std::string tmp = detail::temp_name(path);
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
  if (std::fclose(fp) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw ad::Error("write_png: cannot write " + path);
  }
}

void Lesson::grid(const std::string& stem, const std::vector<GridRow>& rows, const std::string& caption,
                  const std::string& slide, const std::string& notice, std::size_t side) {
  if (side == 0) throw ad::Error("grid " + stem + ": image side must be positive");
  claim(stem + ".png");
  // each pixel drawn as a scale × scale block, at least 2 and enough for small images (3×3 kernels) to show
  const std::size_t scale = std::max<std::size_t>(2, (28 + side - 1) / side), cell = side * scale, gap = 4, margin = 8;
  const std::size_t row_h = std::max(cell, kGlyphH);  // a row is as tall as its images or its caption
  std::size_t label_w = 0, columns = 0;
  for (const auto& r : rows) {
    label_w = std::max(label_w, text_width(r.caption));
    if (r.images.dim() != 2 || r.images.size(1) != side * side)
      throw ad::Error("grid " + stem + ": row '" + r.caption + "' has images " + ad::shape_str(r.images.shape()) + ", expected [k, " + std::to_string(side * side) + "]");
    columns = std::max(columns, r.images.size(0));
  }
  const std::size_t left = margin + label_w + (label_w ? 12 : 0);
  const std::size_t width = left + columns * (cell + gap) - gap + margin;
  const std::size_t height = 2 * margin + rows.size() * (row_h + gap) - gap;
  std::vector<std::uint8_t> img(width * height, 200);  // light grey: white images keep their edges
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t top = margin + r * (row_h + gap);
    draw_text(img, width, margin, top + (row_h - kGlyphH) / 2, rows[r].caption);
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

}  // namespace lessons
