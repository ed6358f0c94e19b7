// qat quantize IN OUT TYPE: round-to-nearest post-training quantization of a
// GGUF file or HF checkpoint to a GGUF file, with Gemma-aware per-tensor
// types (model/quantize_plan.h) and --tensor-type overrides. Weights already
// on a Q8_0/Q4_0 grid (QAT-trained) keep it (quant/grid_import.h) unless
// --no-keep-grid. --gptq TEXT quantizes the Q8_0/Q4_0 matrices by GPTQ
// calibrated on TEXT instead (cli/quantize_gptq.h).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "base/error.h"
#include "base/memory_info.h"
#include "cli/commands.h"
#include "cli/quantize_gptq.h"
#include "model/model.h"
#include "model/quantize_plan.h"

namespace qat::cli {

namespace {

namespace fs = std::filesystem;


std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : " x ") + std::to_string(d);
  return s;
}

double bits_per_weight(uint64_t bytes, uint64_t params) {
  return params ? 8.0 * double(bytes) / double(params) : 0.0;
}

void print_plan(const QuantizePlan& plan) {
  std::printf("%-34s %-16s %-5s %-5s %12s  %s\n", "tensor", "shape", "from", "to", "bytes", "note");
  for (const TensorPlan& t : plan.tensors)
    std::printf("%-34s %-16s %-5s %-5s %12llu  %s\n", t.name.c_str(), shape_str(t.shape).c_str(),
                tensor_type_name(t.from), tensor_type_name(t.to),
                static_cast<unsigned long long>(t.bytes_to), t.note.c_str());
  std::printf("\n%zu tensors, %llu parameters\n", plan.tensors.size(),
              static_cast<unsigned long long>(plan.params));
  std::printf("tensor data: %s (%.2f bits/weight) -> %s (%.2f bits/weight)\n",
              format_bytes(plan.bytes_from).c_str(), bits_per_weight(plan.bytes_from, plan.params),
              format_bytes(plan.bytes_to).c_str(), bits_per_weight(plan.bytes_to, plan.params));
}

// "kept the trained grid in N of M blocks": blocks whose stored values
// already lay on a Q8_0/Q4_0 grid, quantized onto it (quant/grid_import.h).
void print_grid_summary(const std::map<TensorType, GridStats>& grid,
                        const std::map<TensorType, std::pair<int, int>>& tensors) {
  GridStats all;
  for (const auto& [type, st] : grid) all += st;
  const auto pct = [](int64_t a, int64_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; };
  std::printf("  kept the trained grid in %lld of %lld blocks (%.2f %%)", static_cast<long long>(all.kept()),
              static_cast<long long>(all.blocks), pct(all.kept(), all.blocks));
  if (all.detected > 0)
    std::printf(", %lld of them with a scale other than the block maximum's", static_cast<long long>(all.detected));
  std::printf("\n");
  for (const auto& [type, st] : grid)
    std::printf("    %s: %lld of %lld blocks (%.2f %%), %d of %d tensors entirely\n", tensor_type_name(type),
                static_cast<long long>(st.kept()), static_cast<long long>(st.blocks), pct(st.kept(), st.blocks),
                tensors.at(type).first, tensors.at(type).second);
}

}  // namespace

// Bytes on disk of a file, or of all files in a checkpoint directory.
uint64_t disk_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return fs::file_size(path, ec);
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  return n;
}

void add_quantize(CLI::App& app) {
  struct Opts {
    std::string in, out, type, activations;
    std::vector<std::string> overrides;
    bool dry_run = false;
    bool no_keep_grid = false;
    GptqOptions gptq;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "quantize",
      "Quantize a model to a GGUF file (round to nearest). Defaults: matrices get TYPE; under q4_0 the "
      "tied embedding/output stays Q8_0; norms and scalars stay F32; rows not a multiple of 32 "
      "fall back to F16; blocks whose values already lie on a Q8_0/Q4_0 grid (QAT-trained "
      "checkpoints) keep that grid exactly");
  cmd->add_option("IN", o->in, "Input: .gguf file or HF checkpoint directory")->required();
  cmd->add_option("OUT", o->out, "Output .gguf file (written atomically)")->required();
  cmd->add_option("TYPE", o->type, "q8_0 | q4_0 | f16 | bf16 | f32")->required();
  cmd->add_option("--tensor-type", o->overrides,
                  "REGEX=TYPE: tensors whose GGUF name contains a match of REGEX (ECMAScript; "
                  "e.g. 'attn_v=q8_0', '^output\\.weight$=q4_0') get TYPE; repeatable, first match wins")
      ->allow_extra_args(false);  // one value per flag, so IN OUT TYPE may follow it
  cmd->add_option("--activations", o->activations,
                  "q8_0 | none: activations of Q8_0/Q4_0 matrix products quantized to Q8_0 (W8A8 / W4A8) or "
                  "kept in FP32 (weight-only W8A16 / W4A16); stored as qat.activation_quant (default: as the input)")
      ->check(CLI::IsMember({"q8_0", "none"}));
  cmd->add_flag("--dry-run", o->dry_run, "Print each tensor's chosen type and the sizes; write nothing");
  cmd->add_flag("--no-keep-grid", o->no_keep_grid,
                "Derive every Q8_0/Q4_0 block scale from the block maximum, even for weights that already "
                "lie on a Q8_0/Q4_0 grid (by default such a grid, e.g. of a QAT-trained checkpoint, is kept "
                "exactly)");
  auto* gptq = cmd->add_option("--gptq", o->gptq.text,
                  "Calibration text file: quantize the Q8_0/Q4_0 matrices of a language model by GPTQ on it "
                  "(Frantar et al. 2022) instead of rounding to nearest");
  cmd->add_option("--gptq-batches", o->gptq.batches, "--gptq: calibration batches of 16 x 128 tokens")
      ->capture_default_str()
      ->needs(gptq);
  cmd->callback([o] {
    const auto t0 = std::chrono::steady_clock::now();
    QuantizeRules rules;
    try {
      rules.type = parse_tensor_type(o->type);
    } catch (const Error& e) {
      fail("TYPE: ", e.what());
    }
    for (const std::string& spec : o->overrides) rules.overrides.push_back(parse_type_override(spec));
    QAT_CHECK(o->out.size() > 5 && o->out.substr(o->out.size() - 5) == ".gguf", o->out,
              ": OUT must be a .gguf file");
    std::error_code ec;
    QAT_CHECK(fs::exists(o->in, ec), o->in, ": no such file or directory");
    QAT_CHECK(o->in != o->out && !fs::equivalent(o->in, o->out, ec), o->out,
              ": output is the input file; choose another OUT");

    QAT_CHECK(o->gptq.text.empty() || fs::exists(o->gptq.text, ec), o->gptq.text,
              ": no such calibration text file");
    QAT_CHECK(o->gptq.text.empty() || !o->no_keep_grid,
              "--gptq and --no-keep-grid: GPTQ's blocks are written through the grid import");
    auto model = load_model(o->in);
    if (!o->activations.empty()) model->config.activation_quant = parse_activation_quant(o->activations);
    const QuantizePlan plan = plan_quantization(*model, rules);
    for (const std::string& w : plan.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (o->dry_run) {
      print_plan(plan);
      std::printf("activations: %s\n", activation_quant_name(model->config.activation_quant));
      std::printf("dry run: nothing written\n");
      return;
    }
    for (const TensorPlan& t : plan.tensors)
      if (!t.note.empty() && t.note.rfind("row length", 0) == 0)
        std::fprintf(stderr, "note: %s: %s\n", t.name.c_str(), t.note.c_str());
    if (!o->gptq.text.empty()) {
      const int n = apply_gptq(*model, plan, o->gptq);
      std::printf("gptq: %d tensors quantized, calibrated on %d x %d x %d tokens of %s\n", n, o->gptq.batches,
                  o->gptq.batch, o->gptq.seq, o->gptq.text.c_str());
    }
    auto type_of = [&plan](const TensorSlot& s) {
      const TensorPlan* p = plan.find(s.gguf_name);
      QAT_CHECK(p, "internal: no plan for tensor '", s.gguf_name, "'");
      return p->to;
    };
    // Per target type (Q4_0, Q8_0): blocks, and tensors with every block kept.
    std::map<TensorType, GridStats> grid;
    std::map<TensorType, std::pair<int, int>> grid_tensors;
    auto report = [&](const std::string&, TensorType to, const GridStats& st) {
      grid[to] += st;
      grid_tensors[to].first += st.kept() == st.blocks;
      grid_tensors[to].second += 1;
    };
    save_gguf_model(*model, o->out, type_of, gguf_file_type(rules.type), "quantize", !o->no_keep_grid, report);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const uint64_t in_bytes = disk_bytes(o->in), out_bytes = disk_bytes(o->out);
    std::printf("quantized %s -> %s (%s, %s, activations %s)\n", o->in.c_str(), o->out.c_str(),
                family_name(model->config.family), tensor_type_name(rules.type),
                activation_quant_name(model->config.activation_quant));
    std::printf("  input  %s (%.2f bits/weight)\n  output %s (%.2f bits/weight), %.2fx smaller\n",
                format_bytes(in_bytes).c_str(), bits_per_weight(plan.bytes_from, plan.params),
                format_bytes(out_bytes).c_str(), bits_per_weight(plan.bytes_to, plan.params),
                out_bytes ? double(in_bytes) / double(out_bytes) : 0.0);
    std::printf("  %zu tensors in %.1f s, peak memory (RSS) %s\n", plan.tensors.size(), s,
                format_bytes(peak_rss_bytes()).c_str());
    if (!grid.empty()) print_grid_summary(grid, grid_tensors);
  });
}

}  // namespace qat::cli
