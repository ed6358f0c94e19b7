// Overflow-checked size arithmetic for loaders: every size read from a file
// goes through these before it is used to index memory.
#pragma once
#include <cstdint>

#include "base/error.h"

namespace qat {

inline uint64_t checked_mul(uint64_t a, uint64_t b, const char* what) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail("size overflow in ", what, ": ", a, " * ", b);
  return r;
}

inline uint64_t checked_add(uint64_t a, uint64_t b, const char* what) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail("size overflow in ", what, ": ", a, " + ", b);
  return r;
}

}  // namespace qat
