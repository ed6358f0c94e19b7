// A small deterministic PRNG for data order, dropout and initialisation:
// xoshiro256** (Blackman & Vigna) with its 256-bit state seeded by splitmix64.
//
// Same seed -> same stream on every platform and compiler: next_u64(),
// uniform() and below() use only exact 64-bit integer arithmetic. normal()
// goes through libm's log/cos (computed in double, then rounded to float), so
// it matches everywhere up to the last bit of a libm that rounds differently.
//
// The whole state is four uint64 words (no cached Box-Muller spare), so a
// checkpoint that stores state() (or to_string()) resumes the exact stream.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace qat {

struct Rng {
  using State = std::array<uint64_t, 4>;

  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  float uniform();             // [0, 1), 24 random bits: every value is a multiple of 2^-24
  uint64_t below(uint64_t n);  // [0, n), unbiased (rejection); n must be > 0
  float normal();              // standard normal, Box-Muller (uses two draws, keeps one value)

  // Fisher-Yates with below(): the permutation depends only on the seed.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

  // Exact state, for checkpoints. from_state rejects the all-zero state
  // (xoshiro would emit zeros forever; no seed produces it).
  State state() const { return s; }
  static Rng from_state(const State& state);
  // "xoshiro256ss:" + four 16-digit hex words; from_string throws qat::Error
  // on anything else.
  std::string to_string() const;
  static Rng from_string(const std::string& text);

  State s;
};

// splitmix64 finaliser: a well-mixed 64-bit hash, used for seeding and for
// deriving per-epoch seeds (seed, epoch) -> seed without collisions in practice.
uint64_t mix64(uint64_t x);

}  // namespace qat
