// qat score: a classifier trained by `qat demo` (or any GGUF carrying
// qat.score.input) scores JSON records from stdin, one object per line: a
// transaction with its history, a loan application, a message. One JSON
// line out per record:
//   {"line": 3, "id": ..., "score": 0.0123, "label": "legit", "latency_ms": 0.41}
// ("id" echoed when the record has one). A malformed line gets
// "stdin:LINE: problem" on stderr and no output line; scoring goes on, and
// the exit status is 1 when any line was rejected.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "base/error.h"
#include "cli/commands.h"
#include "finance/input_spec.h"
#include "model/classify.h"
#include "model/model.h"

namespace qat::cli {

namespace {

constexpr size_t kMaxLine = 4 << 20;  // bytes; a record is small, a 4 MB line is a mistake or an attack
constexpr int kMaxDepth = 32;         // JSON nesting a record may have

// Nesting depth of brackets outside strings (checked before parsing, so a
// line of a million '[' cannot exhaust the stack).
int json_depth(const std::string& s) {
  int depth = 0, worst = 0;
  bool in_str = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_str) {
      if (c == '\\') ++i;
      else if (c == '"') in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == '[' || c == '{') {
      worst = std::max(worst, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return worst;
}

// One line of `in` without its '\n' into `line`; *length is its full length.
// Bytes past `max` are skipped, not stored: a line with no end in sight (a
// binary file piped in by mistake, an attack) cannot exhaust memory.
bool read_line(std::istream& in, std::string& line, size_t max, size_t* length) {
  line.clear();
  *length = 0;
  std::streambuf* sb = in.rdbuf();
  for (;;) {
    const int c = sb->sbumpc();
    if (c == std::char_traits<char>::eof()) return *length > 0;
    if (c == '\n') return true;
    if ((*length)++ < max) line.push_back(char(c));
  }
}

struct ScoreFlags {
  std::string model;
  int threads = 1;
};

void run_score(const ScoreFlags& f) {
  using Clock = std::chrono::steady_clock;
  QAT_CHECK(f.threads >= 1 && f.threads <= 256, "--threads must be in [1, 256], got ", f.threads);
  omp_set_num_threads(f.threads);
  auto model = load_model(f.model);
  model->prepare_matrices_for_kernels();  // repack once, not on every product
  const ModelConfig& c = model->config;
  QAT_CHECK(c.num_labels >= 2, f.model, ": not a classifier (no qat.classifier head)");
  QAT_CHECK(!c.score_input.empty(), f.model,
            ": no qat.score.input (how to read a record); models from `qat demo` carry it");
  QAT_CHECK(model->tokenizer != nullptr, f.model, ": no tokenizer");
  InputSpec spec;
  try {
    spec = InputSpec::parse(c.score_input);
  } catch (const Error& e) {
    fail(f.model, ": ", e.what());
  }
  int positive = c.num_labels - 1;
  for (int i = 0; i < c.num_labels && i < int(c.class_names.size()); ++i)
    if (c.class_names[size_t(i)] == spec.positive) positive = i;
  const int max_tokens = spec.max_tokens > 0 ? std::min(spec.max_tokens, c.max_position_embeddings)
                                             : std::min(4096, c.max_position_embeddings);
  Session session(*model, max_tokens, max_tokens);
  std::string line;
  int64_t n = 0, bad = 0, scored = 0;
  std::vector<float> probs(size_t(c.num_labels));
  size_t length = 0;
  while (read_line(std::cin, line, kMaxLine, &length)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (length <= kMaxLine && line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto t0 = Clock::now();
    try {
      QAT_CHECK(length <= kMaxLine, "line of ", length, " bytes (at most ", kMaxLine, ")");
      // The JSON parser stops at a NUL byte and would score the text before it.
      const size_t nul = line.find('\0');
      QAT_CHECK(nul == std::string::npos, "a NUL byte at column ", nul + 1, " (not a line of JSON text)");
      QAT_CHECK(json_depth(line) <= kMaxDepth, "JSON nested deeper than ", kMaxDepth, " levels");
      nlohmann::json rec;
      try {
        rec = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        fail("not valid JSON (", e.what(), ")");
      }
      const std::vector<int32_t> ids = model->tokenizer->encode_prefix(spec.render(rec), true, size_t(max_tokens));
      const std::vector<float> logits = classify_sequence(session, ids.data(), int(ids.size()));
      float mx = logits[0];
      for (float v : logits) mx = std::max(mx, v);
      double sum = 0;
      for (size_t i = 0; i < logits.size(); ++i) sum += (probs[i] = std::exp(logits[i] - mx));
      const double score = probs[size_t(positive)] / sum;
      const int32_t label = argmax_label(logits.data(), c.num_labels);
      const double ms = 1e3 * std::chrono::duration<double>(Clock::now() - t0).count();
      nlohmann::json out = {{"line", n}};
      if (rec.contains("id")) out["id"] = rec["id"];
      out["score"] = score;
      out["label"] = size_t(label) < c.class_names.size() ? nlohmann::json(c.class_names[size_t(label)]) : nlohmann::json(label);
      out["latency_ms"] = std::round(ms * 1000) / 1000;
      std::printf("%s\n", out.dump().c_str());
      std::fflush(stdout);
      ++scored;
    } catch (const std::exception& e) {  // qat::Error, and anything a hostile record provokes
      ++bad;
      std::fprintf(stderr, "stdin:%lld: %s\n", (long long)n, e.what());
    }
  }
  if (bad > 0) fail(bad, " of ", bad + scored, " records rejected (see the messages above); ", scored, " scored");
}

}  // namespace

void add_score(CLI::App& app) {
  auto f = std::make_shared<ScoreFlags>();
  auto* cmd = app.add_subcommand("score",
                                 "Score JSON records from stdin (one object a line) with a classifier from qat demo: "
                                 "one JSON line out each, with the score and its latency");
  cmd->add_option("-m,--model", f->model, "The classifier (GGUF with qat.score.input)")->required();
  cmd->add_option("-t,--threads", f->threads, "Threads per record")->capture_default_str();
  cmd->callback([f] { run_score(*f); });
}

}  // namespace qat::cli
