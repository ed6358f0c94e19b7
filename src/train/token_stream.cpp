#include "train/token_stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>

#include "base/error.h"
#include "base/progress.h"
#include "tokenizer/tokenizer.h"
#include "train/fnv1a.h"
#include "train/token_cache.h"

namespace qat {

namespace fs = std::filesystem;

namespace {

// Bump when the way documents become tokens changes, so old caches go stale.
constexpr uint64_t kRecipeVersion = 1;
constexpr size_t kPieceBytes = size_t(1) << 20;

// Where to cut `text` at or after `from` + kPieceBytes: just after a run of
// line breaks, so no token can straddle the cut. The whole rest when no line
// break follows.
size_t next_cut(std::string_view text, size_t from) {
  if (text.size() - from <= kPieceBytes) return text.size();
  auto is_break = [](char c) { return c == '\n' || c == '\r'; };
  // Prefer the last line break inside the piece, else the first one after it.
  size_t p = text.rfind('\n', from + kPieceBytes);
  if (p == std::string_view::npos || p < from) p = text.find('\n', from + kPieceBytes);
  if (p == std::string_view::npos) return text.size();
  while (p < text.size() && is_break(text[p])) ++p;  // to the end of the run
  // A piece made only of line breaks ends at the run's end too: still progress.
  return p;
}

uint64_t sources_fingerprint(const std::vector<std::string>& files) {
  Fnv1a f;
  f.add_u64(kRecipeVersion);
  f.add_u64(files.size());
  for (const auto& path : files) {
    std::error_code ec;
    const fs::path abs = fs::weakly_canonical(path, ec);
    f.add_string(ec ? path : abs.string());
    const auto size = fs::file_size(path, ec);
    f.add_u64(ec ? ~0ull : uint64_t(size));
    const auto mtime = fs::last_write_time(path, ec);
    f.add_u64(ec ? ~0ull : uint64_t(mtime.time_since_epoch().count()));
  }
  return f.h;
}

std::string read_document(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open text file: ", std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, ": read error");
  // A UTF-8 byte-order mark is a file-format artifact, not text to learn.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  return text;
}

}  // namespace

std::vector<std::string> list_text_files(const std::vector<std::string>& inputs) {
  QAT_CHECK(!inputs.empty(), "no text inputs given: pass one or more .txt files or directories");
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    std::error_code ec;
    const auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) fail(in, ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec))
        if (e.is_regular_file() && e.path().extension() == ".txt") found.push_back(e.path().string());
      if (ec) fail(in, ": cannot list directory: ", ec.message());
      QAT_CHECK(!found.empty(), in, ": directory has no *.txt files");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(in);
    }
  }
  return files;
}

TokenStream build_token_stream(const std::vector<std::string>& inputs, const Tokenizer& tok,
                               const TokenStreamOptions& options) {
  TokenStream out;
  out.files = list_text_files(inputs);

  TokenCacheKey key;
  if (!options.cache_path.empty()) {
    key = {tokenizer_fingerprint(tok), sources_fingerprint(out.files)};
    TokenCacheRead cached = read_token_cache(options.cache_path, key, tok.vocab_size());
    if (cached.status == TokenCacheStatus::Ok) {
      out.tokens = std::move(cached.data.tokens);
      out.documents = int64_t(cached.data.documents);
      out.from_cache = true;
      return out;
    }
    if (cached.status == TokenCacheStatus::Stale)
      std::fprintf(stderr, "note: token cache %s is out of date: %s; rebuilding\n", options.cache_path.c_str(),
                   cached.why.c_str());
    if (cached.status == TokenCacheStatus::Corrupt)
      std::fprintf(stderr, "note: token cache %s is unusable: %s; rebuilding\n", options.cache_path.c_str(),
                   cached.why.c_str());
  }

  uint64_t total_bytes = 0;
  for (const auto& path : out.files) {
    std::error_code ec;
    const auto n = fs::file_size(path, ec);
    if (ec) fail(path, ": cannot read text file: ", ec.message());
    total_bytes += n;
  }
  const int32_t bos = tok.special().bos, eos = tok.special().eos;
  std::optional<Progress> progress;
  if (options.progress) progress.emplace("tokenize", (total_bytes + 1023) / 1024, "KiB");
  uint64_t done_bytes = 0;
  int64_t empty_files = 0;
  for (const auto& path : out.files) {
    const std::string text = read_document(path);
    if (text.empty()) {  // an empty document teaches nothing but "bos eos"
      ++empty_files;
      continue;
    }
    out.tokens.push_back(bos);
    for (size_t from = 0; from < text.size();) {
      const size_t to = next_cut(text, from);
      const auto ids = tok.encode(text.substr(from, to - from), /*add_bos=*/false);
      out.tokens.insert(out.tokens.end(), ids.begin(), ids.end());
      done_bytes += to - from;
      if (progress) progress->set(done_bytes / 1024);
      from = to;
    }
    out.tokens.push_back(eos);
    ++out.documents;
  }
  if (progress) progress->finish();
  QAT_CHECK(out.documents > 0, "no text to train on: ",
            out.files.size() == 1 ? out.files[0] + " is empty" : cat("all ", out.files.size(), " files are empty"));

  if (!options.cache_path.empty()) {
    try {
      write_token_cache(options.cache_path, key, {uint64_t(out.documents), out.tokens});
    } catch (const Error& e) {  // a cache is an optimisation: train anyway
      std::fprintf(stderr, "note: cannot write token cache (%s): continuing without it\n", e.what());
    }
  }
  return out;
}

}  // namespace qat
