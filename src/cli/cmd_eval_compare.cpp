// qat eval compare: several GGUF models (PTQ / QAT variants, labelled
// LABEL=FILE) against their FP32 base in one table (eval/compare.h): scheme,
// size, perplexity, mean KLD and top-1 agreement on a text, accuracy on a
// classification set, and how much of PTQ's loss each qat-X recovered.
#include <cstdio>
#include <filesystem>
#include <regex>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/progress.h"
#include "cli/commands.h"
#include "eval/classify_eval.h"
#include "eval/compare.h"
#include "eval/kld.h"
#include "tokenizer/tokenizer.h"
#include "train/classify_dataset.h"

namespace qat::cli {

namespace {

namespace fs = std::filesystem;

struct CompareFlags {
  std::string base, base_label = "fp32", text, data, task = "classify", text_field, text_template, label_field;
  std::vector<std::string> models;  // LABEL=FILE
  EvalOptions eval;
  int seq = 512, limit = 0, threads = 0;
  double val_fraction = 0;  // > 0: score only the validation split `qat train` held out
  uint64_t seed = 1234;
  bool skip_bad_rows = false, json = false;
};

struct Entry {
  std::string label, path;
  std::unique_ptr<Model> model;
};

std::unique_ptr<Model> load_prepared(const std::string& label, const std::string& path) {
  std::error_code ec;
  QAT_CHECK(fs::exists(path, ec), label, ": ", path, ": no such file or directory");
  auto m = load_model(path);
  m->prepare_matrices_for_kernels();
  return m;
}

// Parses LABEL=FILE specs: labels valid, unique and not the base's.
std::vector<Entry> parse_models(const CompareFlags& f) {
  std::vector<Entry> out;
  for (const std::string& spec : f.models) {
    const size_t eq = spec.find('=');
    QAT_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < spec.size(), "-m '", spec,
              "': expected LABEL=FILE, e.g. -m ptq-w4a8=model-q4_0.gguf");
    Entry e{spec.substr(0, eq), spec.substr(eq + 1), nullptr};
    check_compare_label(e.label);
    QAT_CHECK(e.label != f.base_label, "-m '", spec, "': the label '", e.label,
              "' is the base's (--base-label); choose another");
    for (const Entry& o : out) QAT_CHECK(o.label != e.label, "-m: the label '", e.label, "' is given twice");
    out.push_back(std::move(e));
  }
  return out;
}

// A label that names a scheme (ptq-w4a8) but a model of another one is most
// likely a mix-up of files: say so, without stopping.
void warn_scheme_mismatch(const std::string& label, const std::string& scheme) {
  static const std::regex named("^(ptq|qat)-(w[0-9/w]+a[0-9]+)$", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(label, m, named)) return;
  std::string want = m[2].str(), have = scheme;
  for (char& c : want) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : have) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (want != have)
    std::fprintf(stderr, "warning: %s: the label says %s but the model is %s\n", label.c_str(), want.c_str(),
                 scheme.c_str());
}

void run_compare(CompareFlags& f) {
  set_threads(f.threads);
  QAT_CHECK(!f.models.empty(), "give at least one -m LABEL=FILE to compare with the base");
  QAT_CHECK(!f.text.empty() || !f.data.empty(), "give --text FILE (perplexity, KLD, top-1) and/or --data FILE "
            "(classification accuracy)");
  QAT_CHECK(f.task == "classify", "--task: only classify is supported, got '", f.task, "'");
  QAT_CHECK(f.eval.max_chunks >= 0, "--chunks must be >= 0, got ", f.eval.max_chunks);
  QAT_CHECK(f.limit >= 0, "--limit must be >= 0, got ", f.limit);
  check_compare_label(f.base_label);
  std::vector<Entry> entries = parse_models(f);
  for (const std::string& p : {f.text, f.data}) {
    std::error_code ec;
    QAT_CHECK(p.empty() || fs::is_regular_file(p, ec), p, ": no such file");
  }

  auto base = load_prepared(f.base_label, f.base);
  if (!base->tokenizer)
    throw Error(f.base + ": the base model has no tokenizer, so the text / data cannot be encoded",
                "convert it from a HF directory that has tokenizer.json, or create it with `qat init --tokenizer FILE`");
  const int V = base->config.vocab_size;
  for (Entry& e : entries) {
    e.model = load_prepared(e.label, e.path);
    QAT_CHECK(e.model->config.vocab_size == V, e.label, " (", e.path, "): its vocabulary has ",
              e.model->config.vocab_size, " tokens, the base's (", f.base, ") ", V,
              ": compare models made from the same base");
  }

  std::vector<CompareRow> rows;
  auto row_of = [](const std::string& label, const std::string& path, const Model& m, bool is_base) {
    CompareRow r;
    r.label = label;
    r.path = path;
    r.is_base = is_base;
    r.scheme = scheme_of(m);
    r.weights = weight_types_of(m);
    r.file_bytes = disk_bytes(path);
    return r;
  };
  rows.push_back(row_of(f.base_label, f.base, *base, true));
  for (const Entry& e : entries) {
    rows.push_back(row_of(e.label, e.path, *e.model, false));
    warn_scheme_mismatch(e.label, rows.back().scheme);
  }
  std::vector<const Model*> tests;
  for (const Entry& e : entries) tests.push_back(e.model.get());

  std::string setup;
  if (!f.text.empty()) {
    const std::string text = read_text_file(f.text);
    const std::vector<int32_t> tokens = base->tokenizer->encode(text, true);
    const ChunkPlan plan = plan_chunks(tokens.size(), f.eval.ctx, f.eval.max_chunks);
    Progress progress("compare", uint64_t(plan.n_chunks), "windows");
    const std::vector<KldResult> res =
        evaluate_kld_many(tests, *base, tokens, f.eval,
                          [&](int c, const ChunkPlan&, const std::vector<KldResult>&) { progress.set(uint64_t(c + 1)); });
    progress.finish();
    rows[0].ppl = res[0].base.ppl();
    rows[0].ppl_error = res[0].base.ppl_error();
    for (size_t i = 0; i < res.size(); ++i) {
      CompareRow& r = rows[i + 1];
      r.ppl = res[i].test.ppl();
      r.ppl_error = res[i].test.ppl_error();
      r.kld = res[i].mean_kld().value;
      r.kld_error = res[i].mean_kld().error;
      r.same_top = res[i].same_top_fraction().value;
      r.same_top_error = res[i].same_top_fraction().error;
    }
    setup += cat("text: ", f.text, ", ", plan.n_chunks, " windows of ", plan.ctx, " tokens, ", res[0].count(),
                 " tokens scored\n");
  }

  if (!f.data.empty()) {
    const ModelConfig& bc = base->config;
    QAT_CHECK(bc.num_labels > 0, f.base, ": the base model has no classification head, so --data cannot be scored");
    for (const Entry& e : entries) {
      const ModelConfig& c = e.model->config;
      QAT_CHECK(c.num_labels == bc.num_labels, e.label, " (", e.path, "): ",
                c.num_labels ? cat("its head has ", c.num_labels, " classes, the base's ", bc.num_labels)
                             : std::string("the model has no classification head"));
      QAT_CHECK(c.class_names.empty() || bc.class_names.empty() || c.class_names == bc.class_names, e.label, " (",
                e.path, "): its class names differ from the base's");
    }
    ClassifyOptions co;
    co.text_field = f.text_field;
    co.text_template = f.text_template;
    co.label_field = f.label_field;
    co.classes = bc.class_names;  // label -> id as the heads were trained
    co.max_seq = std::min(f.seq, bc.max_position_embeddings);
    co.skip_bad_rows = f.skip_bad_rows;
    ClassifyDataset ds = load_classify_dataset(f.data, *base->tokenizer, co);
    QAT_CHECK(ds.classes.size() == size_t(bc.num_labels), f.data, ": ", ds.classes.size(),
              " classes in the data, the models' heads have ", bc.num_labels);
    if (f.val_fraction > 0) {
      QAT_CHECK(f.val_fraction < 1, "--val-fraction must be in [0, 1), got ", f.val_fraction);
      ds = split_classify_dataset(ds, f.val_fraction, f.seed).val;  // the same split as qat train/qat qat
    }
    if (f.limit > 0 && ds.examples.size() > size_t(f.limit)) ds.examples.resize(size_t(f.limit));
    QAT_CHECK(!ds.examples.empty(), f.data, ": no examples");
    std::vector<std::vector<int32_t>> seqs;
    std::vector<int32_t> labels;
    for (const ClassifyExample& x : ds.examples) seqs.push_back(x.ids), labels.push_back(x.label);
    std::vector<const Model*> all = {base.get()};
    all.insert(all.end(), tests.begin(), tests.end());
    Progress progress("classify", uint64_t(seqs.size() * all.size()), "sequences");
    for (size_t i = 0; i < all.size(); ++i) {
      const ClassifyAccuracy a = evaluate_accuracy(*all[i], seqs, labels, [&](size_t done) {
        progress.set(uint64_t(i * seqs.size() + done));
      });
      rows[i].accuracy = a.accuracy();
      rows[i].examples = a.examples;
    }
    progress.finish();
    setup += cat("data: ", f.data, ", ", seqs.size(), " examples, ", ds.classes.size(), " classes",
                 ds.stats.skipped ? cat(", ", ds.stats.skipped, " bad rows skipped") : std::string(),
                 ds.stats.truncated ? cat(", ", ds.stats.truncated, " truncated to ", co.max_seq, " tokens")
                                    : std::string(),
                 "\n");
  }

  compute_recovered(rows);
  if (f.json) {
    nlohmann::json j = {{"base", f.base}, {"text", f.text}, {"data", f.data}, {"rows", compare_json(rows)}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s\n%s", setup.c_str(), compare_markdown(rows).c_str());
  }
}

}  // namespace

void add_eval_compare(CLI::App& eval) {
  auto f = std::make_shared<CompareFlags>();
  auto* cmd = eval.add_subcommand(
      "compare",
      "Several models (e.g. ptq-w4a8, qat-w4a8) against their FP32 base in one table: scheme, size, perplexity, "
      "mean KLD, top-1 agreement, task accuracy, and how much of PTQ's degradation each qat-X recovered over ptq-X. "
      "All models are held in memory at once; the base runs once per window");
  cmd->add_option("--base", f->base, "The FP32 base model (GGUF file or HF directory), with a tokenizer")->required();
  cmd->add_option("-m,--model", f->models, "LABEL=FILE, repeatable; labels like ptq-w4a8 / qat-w4a8 pair up")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--base-label", f->base_label, "Label of the base row")->capture_default_str();
  cmd->add_option("--text", f->text, "UTF-8 text: perplexity, mean KLD and top-1 agreement with the base");
  cmd->add_option("-c,--ctx", f->eval.ctx, "Window length in tokens; the second half of each window is scored")
      ->capture_default_str();
  cmd->add_option("--chunks", f->eval.max_chunks, "Evaluate at most this many windows (0 = all)")
      ->capture_default_str();
  cmd->add_option("-b,--batch", f->eval.batch, "Tokens per forward step while scoring")->capture_default_str();
  cmd->add_option("--data", f->data, "Classification set (CSV or JSONL, as `qat train --task classify`): accuracy");
  cmd->add_option("--task", f->task, "Task of --data: classify")->capture_default_str();
  cmd->add_option("--text-field", f->text_field, "--data: column / key holding the text");
  cmd->add_option("--template", f->text_template, "--data: text from fields, e.g. 'Amount {amount} at {merchant}'");
  cmd->add_option("--label-field", f->label_field, "--data: column / key holding the label");
  cmd->add_option("--seq", f->seq, "--data: tokens per example (<bos> included; longer ones are cut)")
      ->capture_default_str();
  cmd->add_option("--limit", f->limit, "--data: score only the first N examples (0 = all)")->capture_default_str();
  cmd->add_option("--val-fraction", f->val_fraction,
                  "--data: score only the validation split qat train / qat qat held out with this "
                  "--val-fraction and --seed (0: every example)")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "--data: the training run's --seed (for --val-fraction)")->capture_default_str();
  cmd->add_flag("--skip-bad-rows", f->skip_bad_rows, "--data: skip malformed rows (counted) instead of failing");
  cmd->add_flag("--json", f->json, "Print JSON instead of the markdown table");
  cmd->add_option("-t,--threads", f->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->callback([f] { run_compare(*f); });
}

}  // namespace qat::cli
