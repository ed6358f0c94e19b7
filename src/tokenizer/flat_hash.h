// Two open-addressing hash tables for the tokenizer's hot paths. std::
// unordered_map allocates a node per entry: for 262k pieces and 515k merges
// that costs ~100 ms to build and a cache miss per probe; these are flat
// arrays with linear probing, built once at load and read-only afterwards.
#pragma once
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace qat::tok {

inline uint64_t hash_bytes(std::string_view s) {
  // FNV-1a over 8-byte words, then a final mix: fast for short pieces.
  uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

inline size_t table_capacity(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;  // load factor <= 0.5 keeps probes short
  return cap;
}

// Piece text -> id. Keys of up to 15 bytes (most pieces) are kept in the
// slot itself, so a lookup touches one cache line; longer keys are compared
// through `text_of(id)`, which returns the caller's copy of the text.
class PieceIndex {
 public:
  template <typename TextOf>
  void build(int32_t n, TextOf text_of) {
    slots_.assign(table_capacity(size_t(n)), Slot{});
    mask_ = slots_.size() - 1;
    for (int32_t id = 0; id < n; ++id) {
      if (id + 8 < n) prefetch(text_of(id + 8));  // random slots: hide the cache misses
      const std::string_view key = text_of(id);
      const uint64_t h = hash_bytes(key);
      for (size_t i = h & mask_;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.id < 0) {
          s.hash = uint32_t(h >> 32);
          s.id = id;
          s.len = key.size() <= kInline ? uint8_t(key.size()) : kLong;
          if (key.size() <= kInline) std::memcpy(s.text, key.data(), key.size());
          break;
        }
        if (matches(s, h, key, text_of)) break;  // duplicate text: first id wins
      }
    }
  }
  void prefetch(std::string_view key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash_bytes(key) & mask_]);
  }
  template <typename TextOf>
  int32_t find(std::string_view key, TextOf text_of) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (matches(s, h, key, text_of)) return s.id;
    }
  }

 private:
  static constexpr size_t kInline = 15;
  static constexpr uint8_t kLong = 0xFF;
  struct Slot {
    uint32_t hash = 0;
    int32_t id = -1;
    uint8_t len = 0;  // key length when <= kInline, else kLong
    char text[kInline] = {};
  };
  template <typename TextOf>
  static bool matches(const Slot& s, uint64_t h, std::string_view key, TextOf& text_of) {
    if (s.hash != uint32_t(h >> 32)) return false;
    if (s.len != kLong) return s.len == key.size() && std::memcmp(s.text, key.data(), key.size()) == 0;
    return key.size() > kInline && text_of(s.id) == key;
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// (left id, right id) -> (rank, merged id): the BPE merge table.
class PairTable {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n) {
    slots_.assign(table_capacity(n), Slot{kEmpty, {0, -1}});
    mask_ = slots_.size() - 1;
    size_ = 0;
  }
  size_t size() const { return size_; }
  // Returns false (and keeps the old value) when the pair is already present.
  bool insert(int32_t a, int32_t b, Value v) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s = Slot{k, v};
        ++size_;
        return true;
      }
      if (s.key == k) return false;
    }
  }
  void prefetch(int32_t a, int32_t b) const { __builtin_prefetch(&slots_[mix(key(a, b)) & mask_]); }
  const Value* find(int32_t a, int32_t b) const {
    const uint64_t k = key(a, b);
    for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == k) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key;
    Value value;
  };
  static uint64_t key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  static uint64_t mix(uint64_t k) {
    k *= 0x9E3779B97F4A7C15ull;
    return k ^ (k >> 29);
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    reserve(old.empty() ? 16 : old.size());
    for (const Slot& s : old)
      if (s.key != kEmpty) insert(int32_t(s.key >> 32), int32_t(uint32_t(s.key)), s.value);
  }
  std::vector<Slot> slots_ = std::vector<Slot>(16, Slot{kEmpty, {0, -1}});
  size_t mask_ = 15;
  size_t size_ = 0;
};

}  // namespace qat::tok
