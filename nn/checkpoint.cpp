// The .npz container: a ZIP archive of stored (uncompressed) .npy entries, written by hand with zlib's CRC-32.
#include "nn/checkpoint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <cstring>
#include <filesystem>
#include <cerrno>
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

// The .npy header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (8, 6), }.
// Parsed exactly (each key once, nothing else), so that a dtype or flag elsewhere in the text cannot pass.
struct NpyHeader {
  char byte_order = '<';  // '<' little, '>' big, '|' not applicable (one byte)
  char kind = 'f';        // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  std::size_t width = 4;  // bytes per element
  bool fortran_order = false;
  ad::Shape shape;
};

NpyHeader parse_npy_header(const std::string& text, const std::function<void(const std::string&)>& bad) {
  std::size_t at = 0;
  auto skip = [&] { while (at < text.size() && (text[at] == ' ' || text[at] == '\n' || text[at] == '\t')) ++at; };
  auto expect = [&](char c) {
    skip();
    if (at >= text.size() || text[at] != c) bad(std::string("malformed header (expected '") + c + "' at " + std::to_string(at) + ")");
    ++at;
  };
  auto quoted = [&] {
    skip();
    if (at >= text.size() || (text[at] != '\'' && text[at] != '"')) bad("malformed header (expected a quoted string)");
    const char q = text[at++];
    const auto end = text.find(q, at);
    if (end == std::string::npos) bad("malformed header (unterminated string)");
    std::string s = text.substr(at, end - at);
    at = end + 1;
    return s;
  };
  NpyHeader h;
  bool have_descr = false, have_order = false, have_shape = false;
  expect('{');
  for (;;) {
    skip();
    if (at < text.size() && text[at] == '}') break;
    const std::string key = quoted();
    expect(':');
    skip();
    if (key == "descr" && !have_descr) {
      const std::string d = quoted();
      if (d.size() < 3 || std::string("<>|=").find(d[0]) == std::string::npos || std::string("fiub").find(d[1]) == std::string::npos ||
          d.size() > 4 || d.find_first_not_of("0123456789", 2) != std::string::npos)
        bad("unsupported dtype '" + d + "' (float, integer or bool arrays expected)");
      h.byte_order = d[0] == '=' ? '<' : d[0];
      h.kind = d[1];
      h.width = std::stoul(d.substr(2));
      const bool ok = (h.kind == 'f' && (h.width == 4 || h.width == 8)) || (h.kind == 'b' && h.width == 1) ||
                      ((h.kind == 'i' || h.kind == 'u') && (h.width == 1 || h.width == 2 || h.width == 4 || h.width == 8));
      if (!ok) bad("unsupported dtype '" + d + "' (float32, float64, integers or bool expected)");
      have_descr = true;
    } else if (key == "fortran_order" && !have_order) {
      if (text.compare(at, 4, "True") == 0) h.fortran_order = true, at += 4;
      else if (text.compare(at, 5, "False") == 0) at += 5;
      else bad("malformed header (fortran_order must be True or False)");
      have_order = true;
    } else if (key == "shape" && !have_shape) {
      expect('(');
      for (;;) {
        skip();
        if (at < text.size() && text[at] == ')') break;
        const std::size_t start = at;
        std::size_t dim = 0;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
          const std::size_t digit = static_cast<std::size_t>(text[at++] - '0');
          if (dim > (std::numeric_limits<std::size_t>::max() - digit) / 10) bad("shape dimension too large");
          dim = dim * 10 + digit;
        }
        if (at == start) bad("malformed shape");
        h.shape.push_back(dim);
        skip();
        if (at < text.size() && text[at] == ',') ++at;
      }
      ++at;
      have_shape = true;
    } else {
      bad("unexpected or repeated header key '" + key + "'");
    }
    skip();
    if (at < text.size() && text[at] == ',') ++at;
  }
  if (!have_descr || !have_order || !have_shape) bad("header lacks one of 'descr', 'fortran_order', 'shape'");
  return h;
}

// One element as T from `width` bytes in the file's byte order.
template <class T>
T read_element(const char* p, const NpyHeader& h) {
  unsigned char b[8];
  std::memcpy(b, p, h.width);
  if (h.byte_order == '>') std::reverse(b, b + h.width);  // this library runs on little-endian machines
  auto as = [&](auto v) {
    std::memcpy(&v, b, sizeof v);
    return static_cast<T>(v);
  };
  switch (h.kind) {
    case 'f': return h.width == 4 ? as(float{}) : as(double{});
    case 'b': return static_cast<T>(b[0] != 0);
    case 'i':
      switch (h.width) {
        case 1: return as(std::int8_t{});
        case 2: return as(std::int16_t{});
        case 4: return as(std::int32_t{});
        default: return as(std::int64_t{});
      }
    default:
      switch (h.width) {
        case 1: return as(std::uint8_t{});
        case 2: return as(std::uint16_t{});
        case 4: return as(std::uint32_t{});
        default: return as(std::uint64_t{});
      }
  }
}

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
  if (header_len > npy.size() - start) bad("truncated header");
  const NpyHeader h = parse_npy_header(npy.substr(start, header_len), bad);
  // The element count and byte size, refusing a product that overflows before comparing with the data.
  const std::size_t available = npy.size() - start - header_len;
  const bool empty = std::find(h.shape.begin(), h.shape.end(), 0) != h.shape.end();
  std::size_t n = empty ? 0 : 1;
  for (auto d : h.shape) {
    if (empty) break;
    if (n > available / d)
      bad("shape " + ad::shape_str(h.shape) + " needs more than the entry's " + std::to_string(available) + " data bytes");
    n *= d;
  }
  if (available != n * h.width)
    bad("holds " + std::to_string(available) + " data bytes, shape " + ad::shape_str(h.shape) + " needs " +
        std::to_string(n * h.width));
  TensorT<T> t = TensorT<T>::zeros(h.shape);
  const char* data = npy.data() + start + header_len;
  if (!h.fortran_order) {
    for (std::size_t i = 0; i < n; ++i) t.data()[i] = read_element<T>(data + i * h.width, h);
  } else {
    // Fortran order: the first index varies fastest. Element k of the file goes to the row-major index of the
    // same multi-index.
    const std::size_t rank = h.shape.size();
    std::vector<std::size_t> index(rank, 0), stride(rank, 1);
    for (std::size_t a = rank; a-- > 1;) stride[a - 1] = stride[a] * h.shape[a];
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t dest = 0;
      for (std::size_t a = 0; a < rank; ++a) dest += index[a] * stride[a];
      t.data()[dest] = read_element<T>(data + k * h.width, h);
      for (std::size_t a = 0; a < rank && ++index[a] == h.shape[a]; ++a) index[a] = 0;
    }
  }
  return t;
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
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(path, "missing (no such file)");
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a folder, not a .npz file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open (") + std::strerror(errno) + ")");
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception& e) {
    fail(path, std::string("cannot read (") + e.what() + ")");
  }
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
    for (const auto& [seen, t] : out)
      if (seen == name) fail(path, "entry '" + name + "' appears twice");
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

namespace {
// `name` with the first matching prefix replaced: from .first to .second (to_module) or back.
std::string rename(const std::string& name, const NameMap& names, bool to_module) {
  for (const auto& [file, module] : names) {
    const std::string& from = to_module ? file : module;
    const std::string& to = to_module ? module : file;
    if (name.compare(0, from.size(), from) == 0) return to + name.substr(from.size());
  }
  return name;
}
}  // namespace

template <class T>
void save(const ModuleT<T>& module, const std::string& path, const NameMap& names) {
  Named<T> state = module.state_dict();
  for (auto& [name, t] : state) name = rename(name, names, false);
  save_npz(path, state);
}

template <class T>
void load(ModuleT<T>& module, const std::string& path, const NameMap& names) {
  Named<T> loaded = load_npz<T>(path);
  for (auto& [name, t] : loaded) name = rename(name, names, true);
  assign_all(path, module.state_dict(), loaded, "parameter");
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
  template void save(const ModuleT<T>&, const std::string&, const NameMap&); \
  template void load(ModuleT<T>&, const std::string&, const NameMap&);       \
  template void save(const OptimizerT<T>&, const std::string&);            \
  template void load(OptimizerT<T>&, const std::string&);
NN_CHECKPOINT(float)
NN_CHECKPOINT(double)

}  // namespace nn
