// Binary cache of a tokenized text corpus, so a second run skips tokenization.
//
// Layout (little-endian; every target of this project is):
//   offset 0   char[8]  magic "QATTOKS\0"
//          8   u32      format version (1)
//         12   u32      0 (reserved)
//         16   u64      tokenizer fingerprint (tokenizer_fingerprint)
//         24   u64      sources fingerprint (paths, sizes, mtimes; see token_stream.cpp)
//         32   u64      documents
//         40   u64      N, the token count
//         48   i32[N]   tokens
//     48+4*N   u64      checksum: FNV-1a over bytes [0, 48+4*N)
// The file size must be exactly 56 + 4*N. Written through AtomicFile, so a
// crash mid-write leaves the old cache (or none), never a torn one.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qat {

class Tokenizer;

struct TokenCacheKey {
  uint64_t tokenizer = 0;  // tokenizer_fingerprint()
  uint64_t sources = 0;    // what the tokens were made from
};

struct TokenCacheData {
  uint64_t documents = 0;
  std::vector<int32_t> tokens;
};

// FNV-1a over vocab size, special ids and every token's bytes and special
// flag: two tokenizers with the same fingerprint encode text the same way.
uint64_t tokenizer_fingerprint(const Tokenizer& tok);

void write_token_cache(const std::string& path, const TokenCacheKey& key, const TokenCacheData& data);

enum class TokenCacheStatus {
  Ok,
  Missing,  // no file at path
  Stale,    // a valid cache made from other sources or another tokenizer
  Corrupt,  // wrong magic/version/size/checksum, or an id outside the vocabulary
};

struct TokenCacheRead {
  TokenCacheStatus status = TokenCacheStatus::Missing;
  std::string why;      // for Stale / Corrupt: what did not match, for the note on stderr
  TokenCacheData data;  // filled when status == Ok
};

// Never throws for a bad cache file: the caller rebuilds it.
TokenCacheRead read_token_cache(const std::string& path, const TokenCacheKey& key, int32_t vocab_size);

}  // namespace qat
