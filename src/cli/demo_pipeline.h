// The finance demo's model work: a small Gemma-architecture sequence
// classifier trained at FP32, post-training quantized (INT8 = Q8_0 weights,
// INT4 = Q4_0, activations Q8_0: W8A8 / W4A8) and quantization-aware
// trained from it at the same schemes, each exported to GGUF, then scored
// on the test split and timed as a scoring app would run it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cli/demo_task.h"
#include "eval/binary_metrics.h"
#include "train/trainer.h"

namespace qat::cli {

struct DemoRun {
  std::string name, scheme, file;  // "FP32", "f32", path
  uint64_t size_bytes = 0;
  std::vector<double> scores;      // (test) P(positive)
  BinaryMetrics metrics;
  std::vector<double> latency_ms;  // 1 thread, per scored record (JSON -> text -> tokens -> score), streamed
  double p50 = 0, p99 = 0, mean = 0;
  double p50_alternating = 0;      // p50 with the models taking turns on every record (caches shared)
  double throughput = 0;           // scores/s with `throughput_threads` threads, one session each
  int throughput_threads = 2;
  double cpu_s_per_1000 = 0;       // user + system CPU seconds per 1,000 scores (throughput run)
  double energy_j_per_1000 = -1;   // RAPL package joules per 1,000 scores; -1 when not readable
  std::vector<StepRecord> curve;   // training history (FP32 and QAT runs)
  double train_s = 0;
};

struct DemoTrainConfig {
  bool large = false;
  uint64_t seed = 1234;
  int64_t fp32_steps = 0, qat_steps = 0;
  int batch = 32;
  // QAT peak learning rates: INT4, and INT8 (see cmd_demo.cpp's --int8-qat-lr).
  float fp32_lr = 1e-3f, qat_lr = 5e-5f, int8_qat_lr = 2e-5f;
  int threads = 2;
};

// The classifier for a task: a Gemma 3 shape sized for the demo budget
// (large: ~25M parameters, ~100 MB at FP32), the task's vocabulary.
ModelConfig demo_model_config(const DemoData& data, bool large);

// Trains at FP32 from scratch and writes `path` (GGUF with the input spec).
DemoRun train_fp32(const DemoData& data, const DemoTrainConfig& cfg, const std::string& path);
// Quantizes the FP32 GGUF to Q8_0 / Q4_0 (qat quantize's defaults).
DemoRun post_training_quantize(const std::string& fp32_path, const std::string& type, const std::string& path,
                               const std::string& name);
// Fine-tunes the FP32 model with fake quantization (w8a8 / w4a8), distilling
// from it, and exports the quantized GGUF that was trained.
DemoRun quantization_aware_train(const DemoData& data, const DemoTrainConfig& cfg, const std::string& fp32_path,
                                 const std::string& scheme, const std::string& path, const std::string& name);

// Fills scores / metrics (threads sessions in parallel) and the throughput
// figures (one session per thread, n_throughput records).
void measure(const DemoData& data, DemoRun& run, int threads, int n_throughput);
// The latency figures of all runs: n_latency test records one at a time on
// one thread, each from its JSON record (as `qat score` reads it). Each model
// scores them as a stream (latency_ms, p50, p99; the models take turns every
// 25 records so that load from elsewhere falls on all of them alike), then
// once more with the models taking turns on every record (p50_alternating).
void measure_latency(const DemoData& data, std::vector<DemoRun>& runs, int n_latency);

}  // namespace qat::cli
