#include "nn/data.hpp"

#include "autodiff/parallel.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#ifndef AE_SOURCE_DIR
#define AE_SOURCE_DIR "."
#endif

namespace nn {

namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ad::Error("IDX file " + path + ": " + what);
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

// gzread into buf; returns the bytes read, or fails on corrupt compressed data.
std::size_t read_some(gzFile f, const std::string& path, void* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const int r = gzread(f, static_cast<char*>(buf) + got, static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30)));
    if (r < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      fail(path, std::string("corrupt compressed data (") + (msg ? msg : "zlib error") + ")");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

struct GzCloser {
  void operator()(gzFile f) const { if (f) gzclose(f); }
};

std::string find_idx(const std::string& dir, const std::string& stem) {
  for (const std::string& p : {dir + "/" + stem, dir + "/" + stem + ".gz"})
    if (exists(p)) return p;
  throw ad::Error("missing data file: looked for " + dir + "/" + stem + " and " + dir + "/" + stem +
                  ".gz; run 'bash scripts/setup.sh' to fetch the data, or pass --data-dir");
}

Dataset load_pair(const std::string& name, const std::string& dir, Split split, std::size_t limit) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string image_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const IdxArray images = read_idx(image_path, limit);
  const std::string label_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  const IdxArray labels = read_idx(label_path, limit);
  if (images.dims.size() != 3) fail(image_path, "expected 3 dimensions (N, rows, cols), found " + std::to_string(images.dims.size()));
  if (images.dims[1] != 28 || images.dims[2] != 28)
    fail(image_path, "expected 28×28 images (" + name + "), found " + std::to_string(images.dims[1]) + "×" + std::to_string(images.dims[2]));
  if (labels.dims.size() != 1) fail(label_path, "expected 1 dimension (N), found " + std::to_string(labels.dims.size()));
  if (images.items_in_file != labels.items_in_file)
    fail(label_path, std::to_string(labels.items_in_file) + " labels for " + std::to_string(images.items_in_file) + " images in " + image_path);
  std::size_t n = images.dims[0];
  if (limit > 0 && limit < n) n = limit;
  const std::size_t d = images.dims[1] * images.dims[2];
  Dataset ds;
  ds.name = name + (split == Split::Train ? "/train" : "/test");
  ds.images = ad::Tensor::zeros({n, d});
  float* px = ds.images.data();
  for (std::size_t i = 0; i < n * d; ++i) px[i] = static_cast<float>(images.data[i]) / 255.0f;
  ds.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (labels.data[i] > 9) fail(label_path, "label " + std::to_string(labels.data[i]) + " at " + std::to_string(i) + " is not a digit class 0-9");
    ds.labels[i] = labels.data[i];
  }
  return ds;
}
}  // namespace

IdxArray read_idx(const std::string& path, std::size_t limit) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, "missing (no such file)");
  if (fs::is_directory(path, ec)) fail(path, "is a folder, not a file");
  if (!std::ifstream(path).good()) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) fail(path, "cannot open");
  unsigned char magic[4];
  if (read_some(f.get(), path, magic, 4) != 4) fail(path, "truncated: shorter than its 4-byte magic number");
  if (magic[0] != 0 || magic[1] != 0) fail(path, "wrong magic number: not an IDX file");
  if (magic[2] != 0x08) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", magic[2]);
    fail(path, std::string("wrong magic number: element type ") + hex + ", only unsigned bytes (0x08) are supported");
  }
  const std::size_t ndim = magic[3];
  if (ndim == 0 || ndim > 4) fail(path, "wrong magic number: " + std::to_string(ndim) + " dimensions");
  IdxArray a;
  std::size_t total = 1;  // the header's claim, checked for overflow
  for (std::size_t i = 0; i < ndim; ++i) {
    unsigned char b[4];
    if (read_some(f.get(), path, b, 4) != 4) fail(path, "truncated header");
    const std::size_t dim = static_cast<std::size_t>(b[0]) << 24 | static_cast<std::size_t>(b[1]) << 16 | static_cast<std::size_t>(b[2]) << 8 | b[3];
    if (dim == 0) fail(path, "dimension " + std::to_string(i) + " is 0: no data");
    if (total > (std::size_t(1) << 40) / dim)
      fail(path, "the header claims an implausible size (dimensions multiply past 2^40 bytes)");
    a.dims.push_back(dim);
    total *= dim;
  }
  const bool gzipped = gzdirect(f.get()) == 0;
  const std::uintmax_t file_size = fs::file_size(path, ec);
  if (!gzipped && !ec && file_size < 4 + 4 * ndim + total)
    fail(path, "truncated: the header promises " + std::to_string(total) + " bytes of data, the file has " +
                   std::to_string(file_size - (4 + 4 * ndim)));
  a.items_in_file = a.dims[0];
  const std::size_t item = total / a.dims[0];
  const bool limited = limit > 0 && limit < a.dims[0];
  const std::size_t wanted = limited ? limit * item : total;
  // Grow with the data read (a gzip stream's length is unknown until it ends): at most 16 MB ahead of it.
  constexpr std::size_t kStep = std::size_t(16) << 20;
  std::size_t got = 0;
  while (got < wanted) {
    const std::size_t n = std::min(kStep, wanted - got);
    a.data.resize(got + n);
    const std::size_t r = read_some(f.get(), path, a.data.data() + got, n);
    got += r;
    if (r < n) break;
  }
  if (got != wanted)
    fail(path, "truncated: the header promises " + std::to_string(total) + " bytes of data, the file has " + std::to_string(got));
  if (limited) {
    a.dims[0] = limit;
    return a;
  }
  unsigned char extra;
  if (read_some(f.get(), path, &extra, 1) != 0)
    fail(path, "size mismatch: more data than the header's " + std::to_string(total) + " bytes");
  return a;
}

std::vector<std::string> data_dir_candidates() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("AE_DATA_DIR"); env && *env) dirs.push_back(env);
  dirs.push_back("./data");
  dirs.push_back(std::string(AE_SOURCE_DIR) + "/data");
  return dirs;
}

namespace {
bool holds(const std::string& dir, const std::string& kind) {
  for (const char* stem : {"/train-images-idx3-ubyte", "/t10k-images-idx3-ubyte"})
    if (exists(dir + "/" + kind + stem) || exists(dir + "/" + kind + stem + ".gz")) return true;
  return false;
}
}  // namespace

std::string find_data_dir(const std::string& kind) {
  const auto dirs = data_dir_candidates();
  for (const auto& d : dirs)
    if (holds(d, kind)) return d;
  std::string looked;
  for (const auto& d : dirs) looked += (looked.empty() ? "" : ", ") + d + "/" + kind + "/";
  throw ad::Error("no " + kind + " data found: looked in " + looked + " ($AE_DATA_DIR, ./data, the source tree's data/); "
                  "run 'bash scripts/setup.sh' in the repository to fetch it, or pass --data-dir DIR");
}

std::string default_data_dir() {
  for (const auto& d : data_dir_candidates())
    if (holds(d, "mnist")) return d;
  return data_dir_candidates().front();
}

Dataset load_mnist(const std::string& data_dir, Split split, std::size_t limit) {
  return load_pair("mnist", (data_dir.empty() ? find_data_dir("mnist") : data_dir) + "/mnist", split, limit);
}

Dataset load_fashion_mnist(const std::string& data_dir, Split split, std::size_t limit) {
  return load_pair("fashion", (data_dir.empty() ? find_data_dir("fashion") : data_dir) + "/fashion", split, limit);
}

Dataset load_dataset(const std::string& kind, const std::string& data_dir, Split split, std::size_t limit) {
  if (kind == "mnist") return load_mnist(data_dir, split, limit);
  if (kind == "fashion") return load_fashion_mnist(data_dir, split, limit);
  throw ad::Error("unknown dataset '" + kind + "' (expected mnist or fashion)");
}

DataLoader::DataLoader(ad::Tensor data, std::vector<std::size_t> labels, std::size_t batch_size, ad::Generator& gen,
                       bool shuffle, bool drop_last)
    : data_(std::move(data)), labels_(std::move(labels)), batch_size_(batch_size), gen_(gen), shuffle_(shuffle),
      drop_last_(drop_last) {
  if (!data_.defined() || data_.dim() != 2) throw ad::Error("DataLoader: data must be [N, features]");
  if (batch_size == 0) throw ad::Error("DataLoader: batch size must be positive");
  if (!labels_.empty() && labels_.size() != data_.size(0))
    throw ad::Error("DataLoader: " + std::to_string(labels_.size()) + " labels for " + std::to_string(data_.size(0)) + " samples");
  order_.resize(data_.size(0));
}

std::size_t DataLoader::num_batches() const {
  return drop_last_ ? order_.size() / batch_size_ : (order_.size() + batch_size_ - 1) / batch_size_;
}

void DataLoader::start_epoch() {
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) gen_.shuffle(order_.begin(), order_.end());
  position_ = 0;
  in_epoch_ = true;
}

bool DataLoader::next(Batch& batch) {
  if (!in_epoch_) start_epoch();
  const std::size_t left = order_.size() - position_;
  if (left == 0 || (drop_last_ && left < batch_size_)) {
    in_epoch_ = false;
    return false;
  }
  const std::size_t b = std::min(batch_size_, left), d = data_.size(1);
  // Reuse the previous batch's buffer when nobody else holds it.
  if (!batch.x.defined() || batch.x.shape() != ad::Shape{b, d} || batch.x.node().use_count() > 1 || batch.x.requires_grad())
    batch.x = ad::Tensor::zeros({b, d});
  batch.indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(position_), order_.begin() + static_cast<std::ptrdiff_t>(position_ + b));
  const float* src = data_.data();
  float* dst = batch.x.data();
  // Random rows of a large array: bound by memory latency, so both cores fetch.
  ad::parallel_for(b, std::max<std::size_t>(1, (1 << 14) / std::max<std::size_t>(d, 1)), [&](std::size_t r0, std::size_t r1) {
    for (std::size_t i = r0; i < r1; ++i) std::memcpy(dst + i * d, src + batch.indices[i] * d, d * sizeof(float));
  });
  batch.labels.clear();
  if (!labels_.empty())
    for (auto i : batch.indices) batch.labels.push_back(labels_[i]);
  position_ += b;
  return true;
}

}  // namespace nn
