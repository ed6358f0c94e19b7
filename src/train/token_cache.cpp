#include "train/token_cache.h"

#include <bit>
#include <cstring>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "train/fnv1a.h"

namespace qat {

static_assert(std::endian::native == std::endian::little, "the token cache is written in host byte order");

namespace {

constexpr char kMagic[8] = {'Q', 'A', 'T', 'T', 'O', 'K', 'S', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 48;

struct Header {
  char magic[8];
  uint32_t version, reserved;
  uint64_t tokenizer, sources, documents, n_tokens;
};
static_assert(sizeof(Header) == kHeaderBytes);

}  // namespace

uint64_t tokenizer_fingerprint(const Tokenizer& tok) {
  Fnv1a f;
  f.add_u64(uint64_t(tok.vocab_size()));
  const SpecialIds& sp = tok.special();
  for (int32_t id : {sp.bos, sp.eos, sp.pad, sp.unk}) f.add_u64(uint64_t(int64_t(id)));
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    f.add_string(tok.token_bytes(id));
    f.add_u64(tok.is_special(id) ? 1 : 0);
  }
  return f.h;
}

void write_token_cache(const std::string& path, const TokenCacheKey& key, const TokenCacheData& data) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.tokenizer = key.tokenizer;
  h.sources = key.sources;
  h.documents = data.documents;
  h.n_tokens = data.tokens.size();
  Fnv1a sum;
  sum.add(&h, sizeof h);
  sum.add(data.tokens.data(), data.tokens.size() * sizeof(int32_t));

  AtomicFile out(path);
  out.write(&h, sizeof h);
  if (!data.tokens.empty()) out.write(data.tokens.data(), data.tokens.size() * sizeof(int32_t));
  out.write(&sum.h, sizeof sum.h);
  out.commit();
}

TokenCacheRead read_token_cache(const std::string& path, const TokenCacheKey& key, int32_t vocab_size) {
  TokenCacheRead r;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return r;  // Missing
  auto corrupt = [&](std::string why) {
    r.status = TokenCacheStatus::Corrupt;
    r.why = std::move(why);
    return r;
  };
  try {
    MappedFile f(path);
    if (f.size() < kHeaderBytes + 8)
      return corrupt(cat(f.size(), " bytes, shorter than the ", kHeaderBytes + 8, "-byte header and checksum"));
    Header h;
    std::memcpy(&h, f.data(), sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) return corrupt("not a token cache (bad magic)");
    if (h.version != kVersion) return corrupt(cat("format version ", h.version, ", this build reads ", kVersion));
    // Size check before trusting n_tokens: 48 + 4*N + 8 must be the file size
    // (overflow-safe: N is bounded by the file size first).
    if (h.n_tokens > (f.size() - kHeaderBytes - 8) / 4 || kHeaderBytes + 4 * h.n_tokens + 8 != f.size())
      return corrupt(
          cat("header says ", h.n_tokens, " tokens, the file size (", f.size(), " bytes) does not match: truncated?"));
    const size_t body = kHeaderBytes + 4 * size_t(h.n_tokens);
    Fnv1a sum;
    sum.add(f.data(), body);
    uint64_t stored;
    std::memcpy(&stored, f.data() + body, 8);
    if (stored != sum.h) return corrupt("checksum mismatch");
    if (h.tokenizer != key.tokenizer) {
      r.status = TokenCacheStatus::Stale;
      r.why = "made with another tokenizer";
      return r;
    }
    if (h.sources != key.sources) {
      r.status = TokenCacheStatus::Stale;
      r.why = "the text files changed (paths, sizes or modification times)";
      return r;
    }
    r.data.documents = h.documents;
    r.data.tokens.resize(size_t(h.n_tokens));
    if (h.n_tokens > 0) std::memcpy(r.data.tokens.data(), f.data() + kHeaderBytes, 4 * size_t(h.n_tokens));
    for (int32_t t : r.data.tokens)
      if (t < 0 || t >= vocab_size) return corrupt(cat("token id ", t, " outside the vocabulary of ", vocab_size));
    r.status = TokenCacheStatus::Ok;
    return r;
  } catch (const Error& e) {  // unreadable (permissions, a directory, ...)
    return corrupt(e.what());
  }
}

}  // namespace qat
