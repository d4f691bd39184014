// Data: the IDX reader (MNIST's format, gzipped or raw), the MNIST and Fashion-MNIST datasets, and a
// DataLoader that batches with per-epoch shuffling from a seeded generator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "autodiff/ops.hpp"

namespace nn {

// An IDX file: dimensions and unsigned bytes.
struct IdxArray {
  std::vector<std::size_t> dims;  // as read (the first one cut to `limit` when given)
  std::vector<std::uint8_t> data;
  std::size_t items_in_file = 0;  // the header's first dimension
};

// Reads `path` (gzipped or raw: zlib reads both). Validates the magic number (unsigned bytes), the dimensions
// (none 0, their product without overflow) and the length against the header; errors name the file and the
// problem. Memory grows with the data actually read, never on the header's word alone (a raw file's size is
// compared with the claim first). `limit` > 0 reads only the first `limit` items along the first dimension.
IdxArray read_idx(const std::string& path, std::size_t limit = 0);

enum class Split { Train, Test };

struct Dataset {
  std::string name;                  // "mnist/train"
  ad::Tensor images;                 // [N, 784], pixels in [0, 1]
  std::vector<std::size_t> labels;   // N class indices
  std::size_t size() const { return labels.size(); }
};

// Where the data is looked for when no folder is given, in order: $AE_DATA_DIR, ./data (the working directory's),
// then the source tree's data/ (where scripts/setup.sh puts it). A program built out of tree finds its own ./data.
std::vector<std::string> data_dir_candidates();
// The first candidate holding <kind>/ ("mnist" or "fashion"); if none does, an error listing every place looked
// and the set-up command.
std::string find_data_dir(const std::string& kind = "mnist");
// find_data_dir("mnist") if it exists, else the first candidate (for messages and defaults).
std::string default_data_dir();

// <data_dir>/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; `limit` > 0 keeps the first `limit` samples.
// An empty data_dir searches data_dir_candidates().
Dataset load_mnist(const std::string& data_dir, Split split, std::size_t limit = 0);
// <data_dir>/fashion/... in the same layout.
Dataset load_fashion_mnist(const std::string& data_dir, Split split, std::size_t limit = 0);
// "mnist" or "fashion".
Dataset load_dataset(const std::string& kind, const std::string& data_dir, Split split, std::size_t limit = 0);

struct Batch {
  ad::Tensor x;                      // [B, D] rows of the data
  std::vector<std::size_t> labels;   // their labels (empty without labels)
  std::vector<std::size_t> indices;  // their row numbers in the data
};

// Every sample exactly once per epoch, in batches; shuffled per epoch when asked. The batch buffer is reused
// when nobody else holds it (no allocation per batch).
//   DataLoader loader(train.images, train.labels, 128, gen);
//   for (Batch b; loader.next(b);) { ... }      // one epoch; the next call to next() starts a new one
class DataLoader {
 public:
  DataLoader(ad::Tensor data, std::vector<std::size_t> labels, std::size_t batch_size, ad::Generator& gen,
             bool shuffle = true, bool drop_last = false);
  bool next(Batch& batch);  // false at the end of an epoch (and the next call starts another)
  std::size_t num_batches() const;
  std::size_t size() const { return order_.size(); }
  std::size_t batch_size() const { return batch_size_; }

 private:
  void start_epoch();
  ad::Tensor data_;
  std::vector<std::size_t> labels_;
  std::size_t batch_size_;
  ad::Generator& gen_;
  bool shuffle_, drop_last_;
  std::vector<std::size_t> order_;
  std::size_t position_ = 0;
  bool in_epoch_ = false;
};

}  // namespace nn
