// A packed token stream for language modelling, built from plain text files.
//
// Every file is one document; documents are joined as
//   [bos] doc0 tokens [eos] [bos] doc1 tokens [eos] ...      (N tokens)
// A directory input contributes its *.txt files (not recursive), sorted by
// name. A single large file is fine: it is tokenized in ~1 MiB pieces cut just
// after a run of line breaks (Gemma's tokenizer cuts there anyway: newline
// runs are added tokens), with a progress line.
//
// With a cache path the tokens are stored once (format in token_cache.h) and
// reused while the tokenizer and the files (paths, sizes, modification times)
// are unchanged; a stale or corrupt cache is rebuilt with a note on stderr.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qat {

class Tokenizer;

struct TokenStreamOptions {
  std::string cache_path;  // "" = no cache
  bool progress = true;    // progress line while tokenizing
};

struct TokenStream {
  std::vector<int32_t> tokens;  // (N) the packed stream
  int64_t documents = 0;
  std::vector<std::string> files;  // the documents' files, in stream order
  bool from_cache = false;         // true when the cache was reused
};

// Files and directories -> the list of documents' files (directories
// expanded, sorted). Throws naming any path that is missing or unreadable,
// and when a directory holds no *.txt file.
std::vector<std::string> list_text_files(const std::vector<std::string>& inputs);

// Throws qat::Error for no inputs, unreadable files (named) and when every
// file is empty.
TokenStream build_token_stream(const std::vector<std::string>& inputs, const Tokenizer& tok,
                               const TokenStreamOptions& options = {});

}  // namespace qat
