// libFuzzer target for the GGUF parser: any input either parses or throws
// qat::Error. A file that parses is written back with GgufWriter and must
// read back with the same metadata and tensors.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"
#include "formats/gguf.h"
#include "formats/gguf_internal.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "round trip mismatch: %s\n", what);
    std::abort();
  }
}

void round_trip(const qat::GgufFile& f) {
  qat::GgufWriter w;
  w.alignment = f.alignment();
  try {
    for (const auto& [key, value] : f.kv()) w.set(key, value);
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.dims, t.type, t.data, t.n_bytes);
  } catch (const qat::Error&) {
    return;  // valid to read but not to write (e.g. a tensor name llama.cpp would refuse)
  }
  static const std::string path = "/tmp/fuzz_gguf_" + std::to_string(::getpid()) + ".gguf";
  w.write(path, false);
  auto g = qat::GgufFile::open(path);
  check(g->kv().size() == f.kv().size(), "kv count");
  for (size_t i = 0; i < f.kv().size(); ++i) {
    const auto& a = f.kv()[i].second;
    const auto& b = g->kv()[i].second;
    check(f.kv()[i].first == g->kv()[i].first, "key");
    check(a.type == b.type && a.str == b.str && a.raw == b.raw && a.strs == b.strs, "value");
  }
  check(g->tensors().size() == f.tensors().size(), "tensor count");
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto& b = g->tensors()[i];
    check(a.name == b.name && a.dims == b.dims && a.type == b.type, "tensor info");
    check(std::memcmp(a.data, b.data, a.n_bytes) == 0, "tensor data");
  }
  std::remove(path.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<qat::GgufFile> f;
  try {
    f = qat::parse_gguf_memory("fuzz.gguf", data, size);
  } catch (const qat::Error&) {
    return 0;
  }
  // Touch every byte the parser vouched for, so ASan sees any bad range.
  unsigned sum = 0;
  for (const auto& t : f->tensors())
    for (uint64_t i = 0; i < t.n_bytes; ++i) sum += t.data[i];
  for (const auto& [key, value] : f->kv()) {
    try {
      (void)f->get_float_opt(key);
    } catch (const qat::Error&) {
    }
  }
  (void)sum;
  round_trip(*f);
  return 0;
}
