#include "train/token_stream.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.h"
#include "tokenizer/tokenizer.h"
#include "train/token_cache.h"
#include "data_test_util.h"

namespace qat {
namespace {

namespace fs = std::filesystem;
using test::expect_error;
using test::temp_dir;
using test::write_file;

std::vector<int32_t> doc(const Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids{tok.special().bos};
  const auto body = tok.encode(text, false);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(tok.special().eos);
  return ids;
}

std::vector<int32_t> concat(std::vector<std::vector<int32_t>> parts) {
  std::vector<int32_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

TokenStreamOptions quiet(std::string cache = "") {
  TokenStreamOptions o;
  o.cache_path = std::move(cache);
  o.progress = false;
  return o;
}

TEST(TokenStream, DocumentsAreJoinedWithBosAndEos) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir();
  write_file(dir + "/b.txt", "second doc");
  write_file(dir + "/a.txt", "first");
  write_file(dir + "/notes.md", "not text");  // only *.txt count
  const TokenStream s = build_token_stream({dir}, *tok, quiet());
  EXPECT_EQ(s.tokens, concat({doc(*tok, "first"), doc(*tok, "second doc")}));
  EXPECT_EQ(s.documents, 2);
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_EQ(fs::path(s.files[0]).filename(), "a.txt");
  EXPECT_FALSE(s.from_cache);
  // Files listed explicitly keep the caller's order; an empty file is no document.
  write_file(dir + "/empty.txt", "");
  const TokenStream t = build_token_stream({dir + "/b.txt", dir + "/empty.txt", dir + "/a.txt"}, *tok, quiet());
  EXPECT_EQ(t.tokens, concat({doc(*tok, "second doc"), doc(*tok, "first")}));
  EXPECT_EQ(t.documents, 2);
}

TEST(TokenStream, ByteOrderMarkIsDropped) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir();
  write_file(dir + "/a.txt", "\xEF\xBB\xBFhello");
  EXPECT_EQ(build_token_stream({dir + "/a.txt"}, *tok, quiet()).tokens, doc(*tok, "hello"));
}

// A file over the 1 MiB piece size is tokenized in pieces cut after line
// breaks: the result equals encoding it whole.
TEST(TokenStream, LargeFileInPiecesEqualsWholeEncoding) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir();
  std::string text;
  for (int i = 0; text.size() < 2'600'000; ++i) text += "line " + std::to_string(i) + (i % 7 == 0 ? "\n\n\n" : "\r\n");
  text += "no final newline";
  write_file(dir + "/big.txt", text);
  const TokenStream s = build_token_stream({dir + "/big.txt"}, *tok, quiet());
  EXPECT_EQ(s.tokens, doc(*tok, text));
}

TEST(TokenStream, InputErrorsNameTheProblem) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir();
  expect_error([&] { build_token_stream({}, *tok, quiet()); }, {"no text inputs"});
  expect_error([&] { build_token_stream({dir + "/missing.txt"}, *tok, quiet()); },
               {dir + "/missing.txt", "no such file"});
  expect_error([&] { build_token_stream({dir}, *tok, quiet()); }, {dir, "no *.txt files"});
  write_file(dir + "/e1.txt", "");
  write_file(dir + "/e2.txt", "");
  expect_error([&] { build_token_stream({dir}, *tok, quiet()); }, {"no text to train on", "all 2 files are empty"});
  expect_error([&] { build_token_stream({dir + "/e1.txt"}, *tok, quiet()); }, {"e1.txt is empty"});
  if (::geteuid() != 0) {  // root reads anything
    write_file(dir + "/locked.txt", "secret");
    fs::permissions(dir + "/locked.txt", fs::perms::none);
    expect_error([&] { build_token_stream({dir + "/locked.txt"}, *tok, quiet()); },
                 {dir + "/locked.txt", "cannot open"});
  }
}

TEST(TokenStream, CacheIsReusedThenRebuiltWhenTheTextChanges) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir(), cache = dir + "/tokens.bin";
  write_file(dir + "/a.txt", "one two three");

  const TokenStream first = build_token_stream({dir + "/a.txt"}, *tok, quiet(cache));
  EXPECT_FALSE(first.from_cache);
  ASSERT_TRUE(fs::exists(cache));
  EXPECT_EQ(fs::file_size(cache), 56 + 4 * first.tokens.size());  // header + tokens + checksum

  const TokenStream second = build_token_stream({dir + "/a.txt"}, *tok, quiet(cache));
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.tokens, first.tokens);
  EXPECT_EQ(second.documents, 1);

  // Same size, new content, newer mtime: the cache is stale.
  write_file(dir + "/a.txt", "one two thrEE");
  fs::last_write_time(dir + "/a.txt", fs::last_write_time(dir + "/a.txt") + std::chrono::seconds(5));
  testing::internal::CaptureStderr();
  const TokenStream third = build_token_stream({dir + "/a.txt"}, *tok, quiet(cache));
  const std::string note = testing::internal::GetCapturedStderr();
  EXPECT_FALSE(third.from_cache);
  EXPECT_EQ(third.tokens, doc(*tok, "one two thrEE"));
  EXPECT_NE(note.find("out of date"), std::string::npos) << note;
  EXPECT_TRUE(build_token_stream({dir + "/a.txt"}, *tok, quiet(cache)).from_cache);

  // Another file added, another tokenizer: stale too.
  write_file(dir + "/b.txt", "more");
  EXPECT_FALSE(build_token_stream({dir + "/a.txt", dir + "/b.txt"}, *tok, quiet(cache)).from_cache);
  EXPECT_TRUE(build_token_stream({dir + "/a.txt", dir + "/b.txt"}, *tok, quiet(cache)).from_cache);
  auto other = Tokenizer::byte_level(400);
  EXPECT_NE(tokenizer_fingerprint(*other), tokenizer_fingerprint(*tok));
  EXPECT_FALSE(build_token_stream({dir + "/a.txt", dir + "/b.txt"}, *other, quiet(cache)).from_cache);

  // No temporary files left behind by the atomic writes.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 3);  // a.txt b.txt tokens.bin
}

// Damaged caches (flipped byte, truncation, garbage, a foreign file) are
// rebuilt with a note, and the rebuilt cache is good again.
TEST(TokenStream, CorruptCacheIsRebuiltWithANote) {
  auto tok = Tokenizer::byte_level(300);
  const std::string dir = temp_dir(), cache = dir + "/tokens.bin", text = dir + "/a.txt";
  write_file(text, "the quick brown fox");
  const std::vector<int32_t> expected = build_token_stream({text}, *tok, quiet(cache)).tokens;
  const std::string good = test::read_bytes(cache);

  std::string flipped = good;
  flipped[60] ^= 0x01;  // inside the tokens
  std::string huge_count = good;
  huge_count[47] = char(0x7f);  // the token count's top byte
  const std::pair<std::string, std::string> damaged[] = {
      {flipped, "checksum"},
      {good.substr(0, good.size() - 5), "truncated"},
      {good.substr(0, 20), "shorter than"},
      {std::string(200, 'x'), "bad magic"},
      {huge_count, "does not match"},
  };
  for (const auto& [bytes, why] : damaged) {
    write_file(cache, bytes);
    testing::internal::CaptureStderr();
    const TokenStream s = build_token_stream({text}, *tok, quiet(cache));
    const std::string note = testing::internal::GetCapturedStderr();
    EXPECT_FALSE(s.from_cache) << why;
    EXPECT_EQ(s.tokens, expected) << why;
    EXPECT_NE(note.find(cache), std::string::npos) << note;
    EXPECT_NE(note.find(why), std::string::npos) << note;
    EXPECT_EQ(test::read_bytes(cache), good) << why;
  }
}

TEST(TokenCache, ReadReportsEachStatus) {
  const std::string dir = temp_dir(), path = dir + "/c.bin";
  const TokenCacheKey key{11, 22};
  EXPECT_EQ(read_token_cache(path, key, 300).status, TokenCacheStatus::Missing);
  write_token_cache(path, key, {2, {2, 10, 1, 2, 20, 1}});
  const TokenCacheRead ok = read_token_cache(path, key, 300);
  ASSERT_EQ(ok.status, TokenCacheStatus::Ok);
  EXPECT_EQ(ok.data.documents, 2u);
  EXPECT_EQ(ok.data.tokens, (std::vector<int32_t>{2, 10, 1, 2, 20, 1}));
  EXPECT_EQ(read_token_cache(path, {12, 22}, 300).status, TokenCacheStatus::Stale);
  EXPECT_EQ(read_token_cache(path, {11, 23}, 300).status, TokenCacheStatus::Stale);
  EXPECT_EQ(read_token_cache(path, key, 15).status, TokenCacheStatus::Corrupt);  // id 20 >= vocab 15
  write_token_cache(path, key, {0, {}});  // an empty stream is a valid (if useless) cache
  EXPECT_EQ(read_token_cache(path, key, 300).status, TokenCacheStatus::Ok);
}

}  // namespace
}  // namespace qat
