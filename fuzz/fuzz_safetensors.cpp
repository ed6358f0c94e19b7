// libFuzzer target for the safetensors parser: any input either parses or
// throws qat::Error. A file that parses is written back with
// write_safetensors and must read back identically.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"
#include "formats/safetensors.h"
#include "formats/safetensors_internal.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "round trip mismatch: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<qat::SafetensorsFile> f;
  try {
    f = qat::parse_safetensors_memory("fuzz.safetensors", data, size);
  } catch (const qat::Error&) {
    return 0;
  }
  unsigned sum = 0;
  for (const auto& t : f->tensors())
    for (uint64_t i = 0; i < t.n_bytes; ++i) sum += t.data[i];
  (void)sum;

  std::vector<qat::StWriteTensor> out;
  for (const auto& t : f->tensors()) out.push_back({t.name, t.dtype, t.shape, t.data});
  static const std::string path = "/tmp/fuzz_st_" + std::to_string(::getpid()) + ".safetensors";
  qat::write_safetensors(path, out, f->metadata());
  auto g = qat::SafetensorsFile::open(path);
  check(g->metadata() == f->metadata(), "metadata");
  check(g->tensors().size() == f->tensors().size(), "tensor count");
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const auto& a = f->tensors()[i];
    const auto& b = g->tensors()[i];
    check(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape, "tensor info");
    check(a.n_bytes == b.n_bytes && std::memcmp(a.data, b.data, a.n_bytes) == 0, "tensor data");
  }
  std::remove(path.c_str());
  return 0;
}
