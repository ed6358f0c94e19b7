#include "train/rng.h"

#include <cmath>
#include <cstdio>

#include "base/error.h"

namespace qat {

namespace {
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

Rng::Rng(uint64_t seed) {
  // splitmix64 stream from the seed, as Vigna recommends: never all zero.
  uint64_t x = seed;
  for (auto& w : s) {
    w = mix64(x);
    x += 0x9E3779B97F4A7C15ull;
  }
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

float Rng::uniform() { return float(next_u64() >> 40) * (1.0f / 16777216.0f); }

uint64_t Rng::below(uint64_t n) {
  QAT_CHECK(n > 0, "Rng::below(0): the range is empty");
  // Reject the lowest (2^64 mod n) values so that every residue is equally likely.
  const uint64_t threshold = (0 - n) % n;
  for (;;) {
    const uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

float Rng::normal() {
  // u1 in (0, 1] so log(u1) is finite; 53-bit doubles.
  const double u1 = double((next_u64() >> 11) + 1) * 0x1.0p-53;
  const double u2 = double(next_u64() >> 11) * 0x1.0p-53;
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

Rng Rng::from_state(const State& state) {
  QAT_CHECK(state[0] | state[1] | state[2] | state[3], "Rng state is all zero (not a state any seed produces)");
  Rng r(0);
  r.s = state;
  return r;
}

std::string Rng::to_string() const {
  char buf[96];
  std::snprintf(buf, sizeof buf, "xoshiro256ss:%016llx%016llx%016llx%016llx", (unsigned long long)s[0],
                (unsigned long long)s[1], (unsigned long long)s[2], (unsigned long long)s[3]);
  return buf;
}

Rng Rng::from_string(const std::string& text) {
  const std::string prefix = "xoshiro256ss:";
  const bool ok_shape = text.size() == prefix.size() + 64 && text.compare(0, prefix.size(), prefix) == 0;
  QAT_CHECK(ok_shape, "Rng state '", text, "': expected \"", prefix, "\" followed by 64 hex digits");
  State st{};
  for (int w = 0; w < 4; ++w) {
    uint64_t v = 0;
    for (int i = 0; i < 16; ++i) {
      const char c = text[prefix.size() + size_t(w) * 16 + size_t(i)];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      QAT_CHECK(d >= 0, "Rng state '", text, "': '", c, "' is not a hex digit");
      v = (v << 4) | uint64_t(d);
    }
    st[size_t(w)] = v;
  }
  return from_state(st);
}

}  // namespace qat
