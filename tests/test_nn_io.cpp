// nn I/O: checkpoints (round trip, refusals), IDX files (valid, corrupt, truncated, wrong magic), the
// DataLoader (coverage, determinism, buffer reuse), and the real MNIST / Fashion-MNIST files.
#define BOOST_TEST_MODULE nn_io
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "helpers.hpp"
#include "nn/checkpoint.hpp"
#include "nn/data.hpp"
#include "nn/layers.hpp"

using namespace test;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ae_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

std::shared_ptr<nn::Sequential> small_model(std::uint64_t seed, std::size_t hidden = 8) {
  ad::Generator gen(seed);
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(6, hidden, gen), std::make_shared<nn::BatchNorm1d>(hidden), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(hidden, 3, gen)});
}

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void write_bytes(const std::string& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

std::string idx_bytes(std::vector<std::uint32_t> dims, std::size_t data_len, std::uint8_t type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int k = 3; k >= 0; --k) s += static_cast<char>((d >> (8 * k)) & 0xff);
  for (std::size_t i = 0; i < data_len; ++i) s += static_cast<char>(i % 251);
  return s;
}
// A stored (uncompressed) ZIP of the given entries, for .npz files with hand-made headers.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries) {
  auto le = [](std::string& s, std::uint32_t v, int bytes) {
    for (int k = 0; k < bytes; ++k) s += static_cast<char>((v >> (8 * k)) & 0xff);
  };
  std::string zip, central;
  for (const auto& [name, data] : entries) {
    const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    const auto offset = static_cast<std::uint32_t>(zip.size()), size = static_cast<std::uint32_t>(data.size());
    le(zip, 0x04034b50, 4), le(zip, 20, 2), le(zip, 0, 2), le(zip, 0, 2), le(zip, 0, 4), le(zip, crc, 4);
    le(zip, size, 4), le(zip, size, 4), le(zip, static_cast<std::uint32_t>(name.size()), 2), le(zip, 0, 2);
    zip += name + data;
    le(central, 0x02014b50, 4), le(central, 20, 2), le(central, 20, 2), le(central, 0, 4), le(central, 0, 4);
    le(central, crc, 4), le(central, size, 4), le(central, size, 4), le(central, static_cast<std::uint32_t>(name.size()), 2);
    le(central, 0, 4), le(central, 0, 4), le(central, 0, 4), le(central, offset, 4);
    central += name;
  }
  const auto cd = static_cast<std::uint32_t>(zip.size());
  zip += central;
  le(zip, 0x06054b50, 4), le(zip, 0, 4), le(zip, static_cast<std::uint32_t>(entries.size()), 2);
  le(zip, static_cast<std::uint32_t>(entries.size()), 2), le(zip, static_cast<std::uint32_t>(central.size()), 4);
  le(zip, cd, 4), le(zip, 0, 2);
  return zip;
}

// One .npy entry: the header text as given (padded), then the data bytes.
std::string npy_of(const std::string& header, const std::string& data) {
  std::string h = header;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string s("\x93NUMPY\x01\x00", 8);
  s += static_cast<char>(h.size() & 0xff);
  s += static_cast<char>(h.size() >> 8);
  return s + h + data;
}

void write_gz(const std::string& p, const std::string& s) {
  gzFile f = gzopen(p.c_str(), "wb");
  gzwrite(f, s.data(), static_cast<unsigned>(s.size()));
  gzclose(f);
}
}  // namespace

// ---- checkpoints ----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_is_bit_exact) {
  TempDir dir;
  auto a = small_model(1);
  (*a)(ad::Tensor::ones({4, 6}));  // changes BatchNorm's running statistics: buffers must round-trip too
  nn::save(*a, dir.file("model.npz"));
  auto b = small_model(2);
  nn::load(*b, dir.file("model.npz"));
  auto pa = a->named_parameters(), pb = b->named_parameters();
  auto ba = a->named_buffers(), bb = b->named_buffers();
  pa.insert(pa.end(), ba.begin(), ba.end());
  pb.insert(pb.end(), bb.begin(), bb.end());
  BOOST_TEST(pa.size() == 9u);  // 3 × (weight, bias) + running mean and variance + num_batches_tracked
  for (std::size_t i = 0; i < pa.size(); ++i) {
    BOOST_TEST(pa[i].first == pb[i].first);
    BOOST_TEST(std::memcmp(pa[i].second.data(), pb[i].second.data(), pa[i].second.numel() * sizeof(float)) == 0);
  }
  // numpy's format: a ZIP of "<name>.npy" entries with the NPY magic and a readable header
  const std::string bytes = read_bytes(dir.file("model.npz"));
  BOOST_TEST(bytes.substr(0, 4) == std::string("PK\x03\x04", 4));
  BOOST_TEST(bytes.find("0.weight.npy") != std::string::npos);
  BOOST_TEST(bytes.find("\x93NUMPY") != std::string::npos);
  BOOST_TEST(bytes.find("'descr': '<f4', 'fortran_order': False, 'shape': (8, 6), }") != std::string::npos);
  BOOST_TEST(!fs::exists(dir.file("model.npz.tmp")));  // the temporary file was renamed into place
  // float64 arrays round-trip too, and convert to float on load
  nn::save_npz<double>(dir.file("d.npz"), {{"x", Tensor64::from_vector({1.5, -2.25, 1e-300}, {3})}, {"s", Tensor64::scalar(7)}});
  const auto loaded = nn::load_npz<double>(dir.file("d.npz"));
  BOOST_TEST(loaded[0].second.value()(2) == 1e-300);
  BOOST_TEST(loaded[1].second.dim() == 0u);
  BOOST_TEST(nn::load_npz<float>(dir.file("d.npz"))[0].second.value()(1) == -2.25f);
}

BOOST_AUTO_TEST_CASE(checkpoint_refusals_name_the_file_and_parameter) {
  TempDir dir;
  auto a = small_model(1);
  const std::string path = dir.file("model.npz");
  nn::save(*a, path);
  auto b = small_model(3);
  const std::vector<float> before(b->parameters()[0].data(), b->parameters()[0].data() + 48);
  const std::string bytes = read_bytes(path);
  // truncated
  write_bytes(dir.file("cut.npz"), bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(nn::load(*b, dir.file("cut.npz")), "cut.npz", "truncated");
  // a flipped data byte: CRC mismatch
  std::string flipped = bytes;
  flipped[200] = static_cast<char>(flipped[200] ^ 0x55);
  write_bytes(dir.file("flip.npz"), flipped);
  CHECK_THROWS_WITH(nn::load(*b, dir.file("flip.npz")), "flip.npz", "CRC");
  // a model of another shape: names the parameter and both shapes
  auto wide = small_model(1, 16);
  CHECK_THROWS_WITH(nn::load(*wide, path), "model.npz", "'0.weight'", "[8,6]", "[16,6]");
  // a file that lacks a parameter
  nn::save_npz<float>(dir.file("partial.npz"), {a->named_parameters()[0]});
  CHECK_THROWS_WITH(nn::load(*b, dir.file("partial.npz")), "partial.npz", "missing parameter", "'0.bias'");
  // an extra entry
  auto all = a->named_parameters();
  auto bufs = a->named_buffers();
  all.insert(all.end(), bufs.begin(), bufs.end());
  all.emplace_back("decoder.weight", ad::Tensor::zeros({2}));
  nn::save_npz<float>(dir.file("extra.npz"), all);
  CHECK_THROWS_WITH(nn::load(*b, dir.file("extra.npz")), "extra.npz", "unexpected entry 'decoder.weight'");
  CHECK_THROWS_WITH(nn::load(*b, dir.file("nope.npz")), "nope.npz", "missing");
  fs::create_directories(dir.path / "folder.npz");  // a folder: named, not a stream error
  CHECK_THROWS_WITH(nn::load(*b, (dir.path / "folder.npz").string()), "folder.npz", "is a folder");
  write_bytes(dir.file("junk.npz"), std::string(100, 'x'));
  CHECK_THROWS_WITH(nn::load(*b, dir.file("junk.npz")), "junk.npz", "not a .npz");
  // nothing was half-loaded
  const std::vector<float> after(b->parameters()[0].data(), b->parameters()[0].data() + 48);
  BOOST_TEST(before == after, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(optimizer_state_round_trip) {
  TempDir dir;
  ad::Generator gen(4);
  nn::Linear lin(3, 2, gen);
  nn::Adam adam(lin.named_parameters(), 1e-2);
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    ad::sum(ad::square(lin(ad::Tensor::ones({2, 3})))).backward();
    adam.step();
  }
  nn::save(adam, dir.file("adam.npz"));
  nn::Adam fresh(lin.named_parameters(), 1e-2);
  nn::load(fresh, dir.file("adam.npz"));
  BOOST_TEST(fresh.steps() == 3);
  const auto s1 = adam.state(), s2 = fresh.state();
  for (std::size_t i = 0; i < s1.size(); ++i)
    BOOST_TEST(std::memcmp(s1[i].second.data(), s2[i].second.data(), s1[i].second.numel() * sizeof(float)) == 0);
  nn::Linear other(4, 2, gen);
  nn::Adam mismatched(other.named_parameters(), 1e-2);
  CHECK_THROWS_WITH(nn::load(mismatched, dir.file("adam.npz")), "adam.npz", "weight.exp_avg", "[2,3]", "[2,4]");
  nn::SGD sgd(lin.named_parameters(), 0.1, 0.9);
  sgd.zero_grad();
  ad::sum(ad::square(lin(ad::Tensor::ones({2, 3})))).backward();
  sgd.step();  // a non-zero velocity to round-trip
  nn::save(sgd, dir.file("sgd.npz"));
  nn::SGD sgd_fresh(lin.named_parameters(), 0.1, 0.9);
  nn::load(sgd_fresh, dir.file("sgd.npz"));
  const auto v1 = sgd.state(), v2 = sgd_fresh.state();
  BOOST_TEST(v1.size() == 2u);
  for (std::size_t i = 0; i < v1.size(); ++i) {
    BOOST_TEST(ad::max(ad::abs(v1[i].second)).item() > 0.0f);
    BOOST_TEST(std::memcmp(v1[i].second.data(), v2[i].second.data(), v1[i].second.numel() * sizeof(float)) == 0);
  }
}

// numpy's layouts (tests/parity/numpy_layouts.npz, written by numpy): C and Fortran order, both byte orders,
// integers and bools, each read to the value numpy holds.
BOOST_AUTO_TEST_CASE(npz_reader_reads_every_numpy_layout) {
  std::map<std::string, Tensor64> a;
  for (auto& [k, t] : nn::load_npz<double>(PARITY_DIR "/numpy_layouts.npz")) a[k] = t;
  auto expect = [&](const std::string& key, const ad::Shape& shape, const std::vector<double>& values) {
    BOOST_TEST_CONTEXT(key) {
      BOOST_TEST_REQUIRE(a.count(key) == 1u);
      BOOST_TEST(a[key].shape() == shape, boost::test_tools::per_element());
      const std::vector<double> got(a[key].data(), a[key].data() + a[key].numel());
      BOOST_TEST(got == values, boost::test_tools::per_element());
    }
  };
  expect("c_f8", {2, 3}, {0.5, 1.5, 2.5, 3.5, 4.5, 5.5});
  std::vector<double> iota24(24);
  for (int i = 0; i < 24; ++i) iota24[i] = i;
  expect("fortran_f4", {2, 3, 4}, iota24);                 // Fortran bytes, read back in C order
  expect("transposed_f8", {3, 2}, {0, 4.5, 1.5, 6, 3, 7.5});  // np.savez of a.T
  expect("big_f8", {5}, {0, -1.25, -2.5, -3.75, -5});
  expect("big_i4", {2, 2}, {1, -2, 300000, -7});
  expect("i8", {3}, {-3, 5, 1099511627776.0});
  expect("i2", {2}, {-32768, 32767});
  expect("u1", {3}, {0, 7, 255});
  expect("big_u2", {2}, {1, 65535});
  expect("b1", {3}, {1, 0, 1});
  expect("scalar_i8", {}, {12});
  BOOST_TEST(nn::load_npz<float>(PARITY_DIR "/numpy_layouts.npz")[1].second.value()(1, 2, 3) == 23.0f);
}

BOOST_AUTO_TEST_CASE(npz_reader_refuses_bad_headers) {
  TempDir dir;
  const std::string f4x3(12, '\0');
  auto refuses = [&](const std::string& header, const std::string& data, std::initializer_list<std::string> fragments) {
    write_bytes(dir.file("h.npz"), zip_of({{"x.npy", npy_of(header, data)}}));
    std::string message;
    BOOST_CHECK_MESSAGE(test::throws_with([&] { nn::load_npz<float>(dir.file("h.npz")); }, fragments, &message),
                        header << " → '" << message << "'");
  };
  // a dtype is read from 'descr' itself, not found anywhere in the header
  refuses("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), 'x': '<f4'}", f4x3, {"h.npz", "'x'", "dtype '<c8'"});
  refuses("{'descr': '<f2', 'fortran_order': False, 'shape': (6,), }", f4x3, {"dtype '<f2'"});
  // element counts that overflow 64 bits, or exceed the data, are refused before anything is allocated
  refuses("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", f4x3, {"needs more than", "12 data bytes"});
  refuses("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", f4x3, {"needs more than"});
  refuses("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", f4x3, {"too large"});
  refuses("{'descr': '<f99999999999999999999', 'fortran_order': False, 'shape': (3,), }", f4x3, {"h.npz", "unsupported dtype"});  // not a bare "stoul"
  refuses("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4x3, {"holds 12 data bytes", "needs 8"});
  refuses("{'descr': '<f4', 'fortran_order': maybe, 'shape': (3,), }", f4x3, {"fortran_order"});
  refuses("{'descr': '<f4', 'shape': (3,), }", f4x3, {"lacks"});
  refuses("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f4x3, {"repeated"});
  // the same entry twice
  const std::string ok = npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f4x3);
  write_bytes(dir.file("twice.npz"), zip_of({{"w.npy", ok}, {"w.npy", ok}}));
  CHECK_THROWS_WITH(nn::load_npz<float>(dir.file("twice.npz")), "twice.npz", "'w' appears twice");
  write_bytes(dir.file("once.npz"), zip_of({{"w.npy", ok}}));
  BOOST_TEST(nn::load_npz<float>(dir.file("once.npz")).at(0).second.shape() == (ad::Shape{3}), boost::test_tools::per_element());
}

// A module loads a file by a name map, and saves under the same names; BatchNorm's integer num_batches_tracked
// (as PyTorch writes it) loads too.
BOOST_AUTO_TEST_CASE(checkpoint_name_map_and_integer_buffers) {
  TempDir dir;
  auto a = small_model(1);
  (*a)(ad::Tensor::ones({4, 6}));
  const nn::NameMap names{{"enc.", "0."}, {"bn.", "1."}, {"head.", "3."}};
  nn::save(*a, dir.file("renamed.npz"), names);
  const auto entries = nn::load_npz<float>(dir.file("renamed.npz"));
  std::vector<std::string> keys;
  for (auto& [k, t] : entries) keys.push_back(k);
  // PyTorch's state_dict order: each module's parameters, then its buffers
  BOOST_TEST(keys == (std::vector<std::string>{"enc.weight", "enc.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                                "bn.running_var", "bn.num_batches_tracked", "head.weight", "head.bias"}),
             boost::test_tools::per_element());
  BOOST_TEST(entries[6].second.item() == 1.0f);  // one training batch
  auto b = small_model(2);
  nn::load(*b, dir.file("renamed.npz"), names);
  const auto sa = a->state_dict(), sb = b->state_dict();
  for (std::size_t i = 0; i < sa.size(); ++i)
    BOOST_TEST(std::memcmp(sa[i].second.data(), sb[i].second.data(), sa[i].second.numel() * sizeof(float)) == 0);
  CHECK_THROWS_WITH(nn::load(*b, dir.file("renamed.npz")), "renamed.npz", "missing parameter '0.weight'");
  // an int64 num_batches_tracked, as torch.save → numpy writes it
  std::vector<std::pair<std::string, std::string>> npz;
  for (auto& [k, t] : sa) {
    std::string shape = "(";
    for (auto d : t.shape()) shape += std::to_string(d) + ",";
    shape += ")";
    if (k == "1.num_batches_tracked") {
      const std::int64_t seven = 7;
      npz.emplace_back(k + ".npy", npy_of("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                                          std::string(reinterpret_cast<const char*>(&seven), 8)));
    } else {
      npz.emplace_back(k + ".npy", npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }",
                                          std::string(reinterpret_cast<const char*>(t.data()), t.numel() * 4)));
    }
  }
  write_bytes(dir.file("int.npz"), zip_of(npz));
  nn::load(*b, dir.file("int.npz"));
  BOOST_TEST(b->state_dict()[6].second.item() == 7.0f);
  // the same number of elements in another shape is refused: [6,8] is not [8,6]
  nn::Named<float> transposed = sa;
  transposed[0].second = ad::transpose(sa[0].second).detach();
  nn::save_npz(dir.file("transposed.npz"), transposed);
  CHECK_THROWS_WITH(nn::load(*b, dir.file("transposed.npz")), "transposed.npz", "'0.weight'", "[6,8]", "[8,6]");
}

// ---- IDX --------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(idx_reader_accepts_raw_and_gzip) {
  TempDir dir;
  const std::string raw = idx_bytes({3, 2, 4}, 24);
  write_bytes(dir.file("a-ubyte"), raw);
  write_gz(dir.file("a-ubyte.gz"), raw);
  for (const auto& p : {dir.file("a-ubyte"), dir.file("a-ubyte.gz")}) {
    const nn::IdxArray a = nn::read_idx(p);
    BOOST_TEST(a.dims == (std::vector<std::size_t>{3, 2, 4}), boost::test_tools::per_element());
    BOOST_TEST(a.data.size() == 24u);
    BOOST_TEST(a.data[23] == 23);
  }
}

BOOST_AUTO_TEST_CASE(idx_reader_refuses_bad_files) {
  TempDir dir;
  write_bytes(dir.file("short"), idx_bytes({3, 2, 4}, 20));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("short")), "short", "truncated", "24", "20");
  write_bytes(dir.file("long"), idx_bytes({3, 2, 4}, 30));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("long")), "long", "size mismatch");
  std::string magic = idx_bytes({3}, 3);
  magic[0] = 'P';
  write_bytes(dir.file("magic"), magic);
  CHECK_THROWS_WITH(nn::read_idx(dir.file("magic")), "magic", "wrong magic number");
  write_bytes(dir.file("floats"), idx_bytes({3}, 12, 0x0D));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("floats")), "floats", "unsigned bytes");
  write_bytes(dir.file("tiny"), "ab");
  CHECK_THROWS_WITH(nn::read_idx(dir.file("tiny")), "tiny", "truncated");
  // a gzip file cut in the middle, and one with corrupt compressed bytes
  write_gz(dir.file("x.gz"), idx_bytes({100, 28, 28}, 78400));
  const std::string gz = read_bytes(dir.file("x.gz"));
  write_bytes(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("cut.gz")), "cut.gz");
  std::string bad = gz;
  for (std::size_t i = 20; i < 60; ++i) bad[i] = static_cast<char>(bad[i] ^ 0xA5);
  write_bytes(dir.file("bad.gz"), bad);
  CHECK_THROWS_WITH(nn::read_idx(dir.file("bad.gz")), "bad.gz");
  CHECK_THROWS_WITH(nn::read_idx(dir.file("absent")), "absent", "missing");
  // a data folder without the files says where it looked and how to get them
  CHECK_THROWS_WITH(nn::load_mnist(dir.path.string(), nn::Split::Train), "train-images-idx3-ubyte", ".gz", "scripts/setup.sh");
  CHECK_THROWS_WITH(nn::load_dataset("cifar", dir.path.string(), nn::Split::Train), "unknown dataset 'cifar'");
}

// Hostile headers (issue 16): sizes that wrap around, dimensions of 0, claims far beyond the file are refused by
// name before any memory is spent on them; the memory the reader holds grows with the data actually read.
BOOST_AUTO_TEST_CASE(idx_reader_refuses_hostile_headers_before_allocating) {
  TempDir dir;
  // 2^22 × 2^21 × 2^21 wraps to 0 bytes in 64 bits
  write_bytes(dir.file("wrap"), idx_bytes({1u << 22, 1u << 21, 1u << 21}, 0));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("wrap")), "wrap", "implausible size");
  write_bytes(dir.file("zero"), idx_bytes({60000, 0, 28}, 0));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("zero")), "zero", "dimension 1 is 0");
  // 116 bytes claiming 5,478,274 images: refused from the file's size (raw) ...
  write_bytes(dir.file("claim"), idx_bytes({5478274, 28, 28}, 100));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("claim")), "claim", "truncated", "4294966816", "100");
  // ... and, gzipped, after reading what there is (at most one 16 MB step is held, never the 4.3 GB claimed)
  write_gz(dir.file("claim.gz"), idx_bytes({5478274, 28, 28}, 100));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("claim.gz")), "claim.gz", "truncated", "100");
  write_bytes(dir.file("huge1d"), idx_bytes({4294967295u}, 0));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("huge1d")), "huge1d", "truncated");
  // the element-type byte in hexadecimal
  write_bytes(dir.file("type"), idx_bytes({3}, 12, 0x0D));
  CHECK_THROWS_WITH(nn::read_idx(dir.file("type")), "0x0d");
  // a folder, and an unreadable file (not reported as missing; root reads anything, so only checked as a user)
  fs::create_directories(dir.path / "folder");
  CHECK_THROWS_WITH(nn::read_idx((dir.path / "folder").string()), "folder", "is a folder");
  write_bytes(dir.file("locked"), idx_bytes({3}, 3));
  fs::permissions(dir.file("locked"), fs::perms::none);
  if (!std::ifstream(dir.file("locked")).good()) CHECK_THROWS_WITH(nn::read_idx(dir.file("locked")), "locked", "cannot open");
  fs::permissions(dir.file("locked"), fs::perms::owner_all);
  // limit: only the first items are read, and the header's count is kept
  write_bytes(dir.file("ten"), idx_bytes({10, 2, 2}, 40));
  const nn::IdxArray first3 = nn::read_idx(dir.file("ten"), 3);
  BOOST_TEST(first3.dims == (std::vector<std::size_t>{3, 2, 2}), boost::test_tools::per_element());
  BOOST_TEST(first3.data.size() == 12u);
  BOOST_TEST(first3.items_in_file == 10u);
  BOOST_TEST(first3.data[11] == 11);
}

// MNIST and Fashion-MNIST must be 28×28 with as many labels as images: said by name, not left to a layer.
BOOST_AUTO_TEST_CASE(mnist_loader_requires_28_by_28_and_matching_labels) {
  TempDir dir;
  fs::create_directories(dir.path / "mnist");
  write_bytes((dir.path / "mnist" / "t10k-images-idx3-ubyte").string(), idx_bytes({5, 10, 10}, 500));
  write_bytes((dir.path / "mnist" / "t10k-labels-idx1-ubyte").string(), idx_bytes({5}, 5));
  CHECK_THROWS_WITH(nn::load_mnist(dir.path.string(), nn::Split::Test), "t10k-images-idx3-ubyte", "28×28", "10×10");
  write_bytes((dir.path / "mnist" / "t10k-images-idx3-ubyte").string(), idx_bytes({5, 28, 28}, 5 * 784));
  write_bytes((dir.path / "mnist" / "t10k-labels-idx1-ubyte").string(), idx_bytes({4}, 4));
  CHECK_THROWS_WITH(nn::load_mnist(dir.path.string(), nn::Split::Test, 2), "4 labels for 5 images");  // also with a limit
}

// MNIST's layout from a file of distinct values: image n, row r, column c is byte (n + 28 r + c) mod 256, and lands
// at [n, 28 r + c] as byte/255 (row-major: a transposed reader would put (c, r) there); labels as written.
BOOST_AUTO_TEST_CASE(mnist_loader_puts_every_byte_where_it_belongs) {
  TempDir dir;
  fs::create_directories(dir.path / "mnist");
  const std::size_t n = 3;
  std::string images = idx_bytes({n, 28, 28}, 0), labels = idx_bytes({n}, 0, 0x08);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t r = 0; r < 28; ++r)
      for (std::size_t c = 0; c < 28; ++c) images += static_cast<char>((i + 28 * r + c) % 256);
    labels += static_cast<char>(9 - i);
  }
  write_bytes((dir.path / "mnist" / "t10k-images-idx3-ubyte").string(), images);
  write_bytes((dir.path / "mnist" / "t10k-labels-idx1-ubyte").string(), labels);
  const nn::Dataset d = nn::load_mnist(dir.path.string(), nn::Split::Test);
  BOOST_TEST_REQUIRE(d.images.shape() == (ad::Shape{n, 784}), boost::test_tools::per_element());
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t r = 0; r < 28; ++r)
      for (std::size_t c = 0; c < 28; ++c)
        wrong += d.images.value()(i, 28 * r + c) != static_cast<float>((i + 28 * r + c) % 256) / 255.0f;
  BOOST_TEST(wrong == 0u);
  BOOST_TEST(d.labels == (std::vector<std::size_t>{9, 8, 7}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(real_mnist_and_fashion) {
  const std::string data = nn::default_data_dir();
  const nn::Dataset test = nn::load_mnist(data, nn::Split::Test);
  BOOST_TEST(test.size() == 10000u);
  BOOST_TEST(test.images.shape() == (ad::Shape{10000, 784}));
  BOOST_TEST(ad::max(test.images).item() == 1.0f);
  BOOST_TEST(-ad::max(-test.images).item() == 0.0f);
  std::vector<std::size_t> counts(10, 0);
  for (auto l : test.labels) ++counts[l];
  for (auto c : counts) BOOST_TEST((c > 800 && c < 1200));  // every class present, roughly balanced
  BOOST_TEST(test.labels[0] == 7u);  // the first MNIST test digit is a 7
  const nn::Dataset train = nn::load_mnist(data, nn::Split::Train, 500);
  BOOST_TEST(train.size() == 500u);
  BOOST_TEST(train.labels[0] == 5u);  // and the first training digit a 5
  const nn::Dataset fashion = nn::load_dataset("fashion", data, nn::Split::Test);
  BOOST_TEST(fashion.size() == 10000u);
  BOOST_TEST(fashion.labels[0] == 9u);  // ankle boot
}

// ---- DataLoader -------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dataloader_covers_every_sample_once_and_is_seeded) {
  ad::Tensor data = ad::Tensor::zeros({103, 2});
  std::vector<std::size_t> labels(103);
  for (std::size_t i = 0; i < 103; ++i) {
    data.data()[2 * i] = static_cast<float>(i);
    labels[i] = i % 10;
  }
  ad::Generator gen(5);
  nn::DataLoader loader(data, labels, 10, gen);
  BOOST_TEST(loader.num_batches() == 11u);
  std::vector<std::vector<std::size_t>> epochs;
  const float* first_buffer = nullptr;
  bool reused = true;
  for (int e = 0; e < 2; ++e) {
    first_buffer = nullptr;
    std::vector<std::size_t> seen;
    std::size_t batches = 0;
    for (nn::Batch b; loader.next(b); ++batches) {
      if (!first_buffer) first_buffer = b.x.data();
      else if (b.x.size(0) == 10) reused = reused && b.x.data() == first_buffer;
      for (std::size_t i = 0; i < b.x.size(0); ++i) {
        const auto row = static_cast<std::size_t>(b.x.value()(i, 0));
        BOOST_TEST(row == b.indices[i]);
        BOOST_TEST(b.labels[i] == row % 10);
        seen.push_back(row);
      }
    }
    BOOST_TEST(batches == 11u);
    BOOST_TEST(!std::is_sorted(seen.begin(), seen.end()));  // shuffled in every epoch, not only the first
    epochs.push_back(seen);
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < 103; ++i) BOOST_TEST(seen[i] == i);  // every sample exactly once
  }
  BOOST_TEST(reused);                     // no allocation per batch
  BOOST_TEST(epochs[0] != epochs[1]);     // reshuffled per epoch
  ad::Generator again(5);
  nn::DataLoader same(data, labels, 10, again);
  std::vector<std::size_t> replay;
  for (nn::Batch b; same.next(b);) replay.insert(replay.end(), b.indices.begin(), b.indices.end());
  BOOST_TEST(replay == epochs[0], boost::test_tools::per_element());  // same seed, same order
  // drop_last and no shuffling
  nn::DataLoader ordered(data, {}, 25, gen, false, true);
  std::size_t n = 0, expected = 0;
  for (nn::Batch b; ordered.next(b);) {
    BOOST_TEST(b.x.size(0) == 25u);
    for (auto i : b.indices) BOOST_TEST(i == expected++);
    ++n;
  }
  BOOST_TEST(n == 4u);
  // a batch still held by someone is not overwritten
  nn::Batch held;
  ordered.next(held);
  const ad::Tensor keep = held.x;
  const float v = keep.value()(0, 0);
  ordered.next(held);
  BOOST_TEST(keep.value()(0, 0) == v);
  CHECK_THROWS_WITH(nn::DataLoader(data, std::vector<std::size_t>(5), 10, gen), "DataLoader", "5 labels", "103");
}
