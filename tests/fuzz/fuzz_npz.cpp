// libFuzzer harness for the .npz reader (nn::load_npz, both element types): the input is the file. Any outcome
// but arrays or an ad::Error is a finding (a crash, a sanitizer report, memory beyond -rss_limit_mb).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "nn/checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/fuzz_npz_" +
                           std::to_string(getpid()) + ".npz";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    for (const auto& [name, t] : nn::load_npz<float>(path))
      if (t.numel() > size) __builtin_trap();  // every element came from the file's bytes
  } catch (const ad::Error&) {
  }
  try {
    nn::load_npz<double>(path);
  } catch (const ad::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
