// FNV-1a, 64-bit: a tiny, stable (platform-independent) hash for cache
// fingerprints and checksums. Not cryptographic: it catches truncation, bit
// rot and stale inputs, not tampering.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qat {

struct Fnv1a {
  uint64_t h = 14695981039346656037ull;

  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  // Length first, so ("ab","c") and ("a","bc") hash differently.
  void add_string(std::string_view s) {
    add_u64(s.size());
    add(s.data(), s.size());
  }
  // Little-endian bytes whatever the host, so the value is the same everywhere.
  void add_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xFF)) * 1099511628211ull;
  }
};

}  // namespace qat
