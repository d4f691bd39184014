// The .npz container: a ZIP archive of stored (uncompressed) .npy entries, written by hand with zlib's CRC-32.
#include "nn/checkpoint.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace nn {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw ad::Error("checkpoint " + path + ": " + what);
}

void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

template <class T>
std::string npy_bytes(const TensorT<T>& t) {
  // numpy's spelling: (), (3,), (8, 6)
  std::string shape = "(";
  const auto dims = t.shape();
  for (std::size_t i = 0; i < dims.size(); ++i) shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + (std::is_same_v<T, float> ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // magic(6) + version(2) + length(2) + header + '\n' is a multiple of 64
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<std::uint32_t>(header.size()));
  out += header;
  out.append(reinterpret_cast<const char*>(t.data()), t.numel() * sizeof(T));
  return out;
}

// A bounds-checked reader over the whole file.
struct Reader {
  const std::string& bytes;
  const std::string& path;
  std::uint32_t u16(std::size_t at) const {
    need(at, 2);
    return static_cast<std::uint8_t>(bytes[at]) | static_cast<std::uint8_t>(bytes[at + 1]) << 8;
  }
  std::uint32_t u32(std::size_t at) const { return u16(at) | u16(at + 2) << 16; }
  void need(std::size_t at, std::size_t n) const {
    if (at > bytes.size() || n > bytes.size() - at) fail(path, "truncated (needs bytes up to " + std::to_string(at + n) + ", file has " + std::to_string(bytes.size()) + ")");
  }
};

template <class T>
TensorT<T> parse_npy(const std::string& path, const std::string& name, const std::string& npy) {
  auto bad = [&](const std::string& what) { fail(path, "entry '" + name + "': " + what); };
  if (npy.size() < 10 || npy.compare(0, 6, "\x93NUMPY") != 0) bad("not a .npy array");
  const int major = static_cast<std::uint8_t>(npy[6]);
  std::size_t header_len, start;
  if (major == 1) {
    header_len = static_cast<std::uint8_t>(npy[8]) | static_cast<std::uint8_t>(npy[9]) << 8;
    start = 10;
  } else {
    if (npy.size() < 12) bad("truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | static_cast<std::uint8_t>(npy[8 + i]);
    start = 12;
  }
  if (start + header_len > npy.size()) bad("truncated header");
  const std::string header = npy.substr(start, header_len);
  auto field = [&](const std::string& key) {
    const auto at = header.find("'" + key + "'");
    if (at == std::string::npos) bad("header has no '" + key + "'");
    return header.substr(header.find(':', at) + 1);
  };
  const std::string descr = field("descr");
  const bool f4 = descr.find("<f4") != std::string::npos, f8 = descr.find("<f8") != std::string::npos;
  if (!f4 && !f8) bad("unsupported dtype " + descr.substr(0, descr.find(',')) + " (float32 or float64 expected)");
  if (field("fortran_order").find("True") < field("fortran_order").find(',')) bad("Fortran order is not supported");
  const std::string shape_text = field("shape");
  const auto open = shape_text.find('('), close = shape_text.find(')');
  if (open == std::string::npos || close == std::string::npos) bad("malformed shape");
  ad::Shape shape;
  std::stringstream ss(shape_text.substr(open + 1, close - open - 1));
  std::string item;
  while (std::getline(ss, item, ','))
    if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoul(item));
  const std::size_t n = ad::shape_numel(shape), width = f4 ? 4 : 8;
  const std::size_t data_at = start + header_len;
  if (npy.size() - data_at != n * width)
    bad("holds " + std::to_string(npy.size() - data_at) + " data bytes, shape " + ad::shape_str(shape) + " needs " +
        std::to_string(n * width));
  TensorT<T> t = TensorT<T>::zeros(shape);
  for (std::size_t i = 0; i < n; ++i) {
    if (f4) {
      float v;
      std::memcpy(&v, npy.data() + data_at + 4 * i, 4);
      t.data()[i] = static_cast<T>(v);
    } else {
      double v;
      std::memcpy(&v, npy.data() + data_at + 8 * i, 8);
      t.data()[i] = static_cast<T>(v);
    }
  }
  return t;
}

template <class T>
Named<T> flatten_state(const Named<T>& a, const Named<T>& b) {
  Named<T> all = a;
  all.insert(all.end(), b.begin(), b.end());
  return all;
}

}  // namespace

template <class T>
void save_npz(const std::string& path, const Named<T>& arrays) {
  std::string zip, central;
  for (const auto& [name, t] : arrays) {
    if (!t.defined()) fail(path, "array '" + name + "' is undefined");
    const std::string entry = name + ".npy";
    const std::string data = npy_bytes(t);
    const std::uint32_t crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
    if (data.size() >= 0xffffffffu || zip.size() >= 0xffffffffu) fail(path, "larger than 4 GB (no ZIP64 support)");
    const std::uint32_t offset = static_cast<std::uint32_t>(zip.size());
    // local file header
    put32(zip, 0x04034b50); put16(zip, 20); put16(zip, 0); put16(zip, 0); put16(zip, 0); put16(zip, 0x21);
    put32(zip, crc); put32(zip, static_cast<std::uint32_t>(data.size())); put32(zip, static_cast<std::uint32_t>(data.size()));
    put16(zip, static_cast<std::uint32_t>(entry.size())); put16(zip, 0);
    zip += entry;
    zip += data;
    // central directory record
    put32(central, 0x02014b50); put16(central, 20); put16(central, 20); put16(central, 0); put16(central, 0);
    put16(central, 0); put16(central, 0x21); put32(central, crc); put32(central, static_cast<std::uint32_t>(data.size()));
    put32(central, static_cast<std::uint32_t>(data.size())); put16(central, static_cast<std::uint32_t>(entry.size()));
    put16(central, 0); put16(central, 0); put16(central, 0); put16(central, 0); put32(central, 0); put32(central, offset);
    central += entry;
  }
  const std::uint32_t cd_offset = static_cast<std::uint32_t>(zip.size());
  zip += central;
  put32(zip, 0x06054b50); put16(zip, 0); put16(zip, 0);
  put16(zip, static_cast<std::uint32_t>(arrays.size())); put16(zip, static_cast<std::uint32_t>(arrays.size()));
  put32(zip, static_cast<std::uint32_t>(central.size())); put32(zip, cd_offset); put16(zip, 0);

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(path, "cannot open " + tmp + " for writing");
    out.write(zip.data(), static_cast<std::streamsize>(zip.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail(path, "write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(path, "cannot rename " + tmp + " into place");
  }
}

template <class T>
Named<T> load_npz(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open (missing file?)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const Reader r{bytes, path};
  if (bytes.size() < 22) fail(path, "truncated or not a .npz file (" + std::to_string(bytes.size()) + " bytes)");
  // End-of-central-directory record: the last 22 bytes, or earlier if there is a comment.
  std::size_t eocd = std::string::npos;
  for (std::size_t at = bytes.size() - 22 + 1; at-- > 0 && bytes.size() - at <= 22 + 65535;)
    if (r.u32(at) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd == std::string::npos) fail(path, "truncated or not a .npz file (no ZIP directory at its end)");
  const std::size_t count = r.u16(eocd + 10);
  std::size_t at = r.u32(eocd + 16);
  Named<T> out;
  for (std::size_t i = 0; i < count; ++i) {
    if (r.u32(at) != 0x02014b50) fail(path, "corrupt ZIP directory (entry " + std::to_string(i) + ")");
    const std::uint32_t method = r.u16(at + 10), crc = r.u32(at + 16), size = r.u32(at + 20);
    const std::size_t name_len = r.u16(at + 28), extra_len = r.u16(at + 30), comment_len = r.u16(at + 32);
    const std::size_t local = r.u32(at + 42);
    r.need(at + 46, name_len);
    std::string name = bytes.substr(at + 46, name_len);
    at += 46 + name_len + extra_len + comment_len;
    if (method != 0) fail(path, "entry '" + name + "' is compressed; save with numpy.savez, not savez_compressed");
    if (r.u32(local) != 0x04034b50) fail(path, "corrupt local header of entry '" + name + "'");
    const std::size_t data_at = local + 30 + r.u16(local + 26) + r.u16(local + 28);
    r.need(data_at, size);
    const std::string data = bytes.substr(data_at, size);
    if (static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()))) != crc)
      fail(path, "entry '" + name + "' is corrupt (CRC mismatch)");
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out.emplace_back(name, parse_npy<T>(path, name, data));
  }
  return out;
}

namespace {
// Check everything first, then copy: nothing is half-loaded.
template <class T>
void assign_all(const std::string& path, const Named<T>& targets, const Named<T>& loaded, const char* what) {
  std::map<std::string, const TensorT<T>*> by_name;
  for (auto& [name, t] : loaded) by_name[name] = &t;
  for (auto& [name, t] : targets) {
    auto it = by_name.find(name);
    if (it == by_name.end()) fail(path, std::string("missing ") + what + " '" + name + "' (a file of another model?)");
    if (it->second->shape() != t.shape())
      fail(path, std::string(what) + " '" + name + "' has shape " + ad::shape_str(it->second->shape()) +
                     " in the file, the model expects " + ad::shape_str(t.shape()));
  }
  if (loaded.size() != targets.size())
    for (auto& [name, t] : loaded) {
      bool known = false;
      for (auto& [n2, t2] : targets) known = known || n2 == name;
      if (!known) fail(path, "unexpected entry '" + name + "' (a file of another model?)");
    }
  for (auto& [name, t] : targets) {
    TensorT<T> target = t;
    std::copy(by_name[name]->data(), by_name[name]->data() + t.numel(), target.data());
  }
}
}  // namespace

template <class T>
void save(const ModuleT<T>& module, const std::string& path) {
  save_npz(path, flatten_state(module.named_parameters(), module.named_buffers()));
}

template <class T>
void load(ModuleT<T>& module, const std::string& path) {
  assign_all(path, flatten_state(module.named_parameters(), module.named_buffers()), load_npz<T>(path), "parameter");
}

template <class T>
void save(const OptimizerT<T>& optimizer, const std::string& path) {
  save_npz(path, optimizer.state());
}

template <class T>
void load(OptimizerT<T>& optimizer, const std::string& path) {
  const Named<T> loaded = load_npz<T>(path);
  try {
    optimizer.load_state(loaded);
  } catch (const ad::Error& e) {
    fail(path, e.what());
  }
}

#define NN_CHECKPOINT(T)                                                   \
  template void save_npz(const std::string&, const Named<T>&);             \
  template Named<T> load_npz(const std::string&);                          \
  template void save(const ModuleT<T>&, const std::string&);               \
  template void load(ModuleT<T>&, const std::string&);                     \
  template void save(const OptimizerT<T>&, const std::string&);            \
  template void load(OptimizerT<T>&, const std::string&);
NN_CHECKPOINT(float)
NN_CHECKPOINT(double)

}  // namespace nn
