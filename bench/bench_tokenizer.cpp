// Tokenizer speed on the real Gemma 3 tokenizer (../shared/data): loading
// tokenizer.json, encoding 1 MB of English (State of the Union addresses),
// decoding it back, and encoding through the GGUF (merge-by-score) path.
//
//   ninja -C build test_tokenizer bench_tokenizer
//   build/bench/bench_tokenizer --benchmark_min_time=2s
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

const std::string kData = QAT_SHARED_DATA_DIR;
const std::string kJson = kData + "/tokenizers/gemma3/tokenizer.json";

bool have_data() { return std::filesystem::exists(kJson) && std::filesystem::exists(kData + "/text/sotu.txt"); }

const qat::Tokenizer& tokenizer() {
  static std::unique_ptr<qat::Tokenizer> t = qat::Tokenizer::from_tokenizer_json(kJson);
  return *t;
}

// The first `bytes` of sotu.txt, cut back to a whole UTF-8 character.
const std::string& english(size_t bytes) {
  static std::string text;
  if (text.size() != bytes) {
    std::ifstream f(kData + "/text/sotu.txt", std::ios::binary);
    text.assign(bytes, '\0');
    f.read(text.data(), std::streamsize(bytes));
    text.resize(size_t(f.gcount()));
    while (!text.empty() && (uint8_t(text.back()) & 0xC0) == 0x80) text.pop_back();
    if (!text.empty() && uint8_t(text.back()) >= 0xC0) text.pop_back();
  }
  return text;
}

void BM_LoadTokenizerJson(benchmark::State& state) {
  if (!have_data()) return state.SkipWithError("../shared/data is not here");
  for (auto _ : state) benchmark::DoNotOptimize(qat::Tokenizer::from_tokenizer_json(kJson));
}
BENCHMARK(BM_LoadTokenizerJson)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_EncodeEnglish1MB(benchmark::State& state) {
  if (!have_data()) return state.SkipWithError("../shared/data is not here");
  const auto& t = tokenizer();
  const std::string& text = english(1 << 20);
  size_t n = 0;
  for (auto _ : state) {
    const auto ids = t.encode(text, true);
    n = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * text.size()));
  state.counters["tokens"] = double(n);
}
BENCHMARK(BM_EncodeEnglish1MB)->Unit(benchmark::kMillisecond);

void BM_DecodeEnglish1MB(benchmark::State& state) {
  if (!have_data()) return state.SkipWithError("../shared/data is not here");
  const auto& t = tokenizer();
  const std::string& text = english(1 << 20);
  const auto ids = t.encode(text, true);
  for (auto _ : state) benchmark::DoNotOptimize(t.decode(ids, true));
  state.SetBytesProcessed(int64_t(state.iterations() * text.size()));
}
BENCHMARK(BM_DecodeEnglish1MB)->Unit(benchmark::kMillisecond);

// The same text through the vocabulary as written to GGUF (model "llama",
// scores instead of merge ranks).
void BM_EncodeEnglish1MBFromGguf(benchmark::State& state) {
  if (!have_data()) return state.SkipWithError("../shared/data is not here");
  const std::string path = std::filesystem::temp_directory_path() / "qat_bench_tokenizer.gguf";
  qat::GgufWriter w;
  tokenizer().write_gguf(w);
  w.write(path, false);
  const auto g = qat::Tokenizer::from_gguf(*qat::GgufFile::open(path));
  std::filesystem::remove(path);
  const std::string& text = english(1 << 20);
  for (auto _ : state) benchmark::DoNotOptimize(g->encode(text, true));
  state.SetBytesProcessed(int64_t(state.iterations() * text.size()));
}
BENCHMARK(BM_EncodeEnglish1MBFromGguf)->Unit(benchmark::kMillisecond);

// Short chat-sized inputs: per-call overhead matters more than throughput.
void BM_EncodeShortPrompt(benchmark::State& state) {
  if (!have_data()) return state.SkipWithError("../shared/data is not here");
  const auto& t = tokenizer();
  const std::string prompt = qat::apply_chat_template(
      {{"user", "Is a $1,234.56 card payment at 3am from a new device in another country suspicious?"}});
  for (auto _ : state) benchmark::DoNotOptimize(t.encode(prompt, true));
}
BENCHMARK(BM_EncodeShortPrompt)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
