// libFuzzer harness for the IDX reader (nn::read_idx), raw and gzipped: the first input byte picks the form
// (even: the rest as a raw file; odd: the rest gzip-compressed first, so the fuzzer explores the decoder's output
// rather than gzip's checksums). Any outcome but a result or an ad::Error is a finding: a crash, a sanitizer
// report, or memory beyond -rss_limit_mb (the reader must not allocate on a header's word).
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "nn/data.hpp"

namespace {
std::string scratch(const char* suffix) {
  return std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/fuzz_idx_" + std::to_string(getpid()) + suffix;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool gzipped = data[0] & 1;
  const std::string path = scratch(gzipped ? ".gz" : "");
  if (gzipped) {
    gzFile f = gzopen(path.c_str(), "wb1");
    if (!f) return 0;
    if (size > 1) gzwrite(f, data + 1, static_cast<unsigned>(size - 1));
    gzclose(f);
  } else {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
  }
  for (std::size_t limit : {std::size_t(0), std::size_t(2)}) {
    try {
      const nn::IdxArray a = nn::read_idx(path, limit);
      std::size_t n = 1;  // what it returns is consistent: the data holds exactly the dimensions' product
      for (auto d : a.dims) n *= d;
      if (n != a.data.size()) __builtin_trap();
    } catch (const ad::Error&) {
    }
  }
  std::remove(path.c_str());
  return 0;
}
