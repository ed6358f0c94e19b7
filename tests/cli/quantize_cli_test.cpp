// `qat quantize` end to end, and the up-front memory check of run/chat.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "../common/lsq_model.h"
#include "formats/gguf.h"
#include "run_command.h"

namespace qat {
namespace {

class QuantizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/qat_quantize_cli_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string init(const std::string& arch) {
    const std::string path = dir_ + "/" + arch + ".gguf";
    auto r = test::run_qat("init --arch " + arch + " --preset tiny --seed 3 -o " + path);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }
  std::string dir_;
};

TEST_F(QuantizeCli, QuantizesAndTheOutputRuns) {
  for (const char* arch : {"gemma3", "gemma4"}) {
    const std::string in = init(arch);
    for (const char* type : {"q8_0", "q4_0"}) {
      const std::string out = dir_ + "/" + arch + "_" + type + ".gguf";
      auto r = test::run_qat("quantize " + in + " " + out + " " + type + " --tensor-type 'attn_v=f16'");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_NE(r.out.find("smaller"), std::string::npos) << r.out;
      auto f = GgufFile::open(out);
      const uint32_t q = std::string(type) == "q8_0" ? 8 : 2;
      EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->type, q);
      EXPECT_EQ(f->find_tensor("token_embd.weight")->type, 8u) << "tied embedding at Q8_0";
      EXPECT_EQ(f->find_tensor("blk.0.attn_v.weight")->type, 1u) << "override to F16";
      EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type, 0u);
      r = test::run_qat("run -m " + out + " -p 'Card ending 4242 declined' -n 6 --temp 0");
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_NE(r.err.find("tokens/s"), std::string::npos);
    }
  }
}

TEST_F(QuantizeCli, ActivationsNoneWritesAWeightOnlyModel) {
  // --activations none: qat.activation_quant = "none" in the file, shown by
  // info, kept by a second quantize unless overridden; the model runs.
  const std::string in = init("gemma3"), out = dir_ + "/w4a16.gguf", again = dir_ + "/again.gguf";
  auto r = test::run_qat("quantize " + in + " " + out + " q4_0 --activations none");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("activations none"), std::string::npos) << r.out;
  EXPECT_EQ(GgufFile::open(out)->get_string("qat.activation_quant"), "none");
  r = test::run_qat("info " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("activations:      none (Q8_0/Q4_0 matrices multiply FP32 activations: W8A16 / W4A16)"),
            std::string::npos) << r.out;
  r = test::run_qat("run -m " + out + " -p 'Wire transfer' -n 4 --temp 0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = test::run_qat("quantize " + out + " " + again + " q8_0");  // re-quantizing keeps the mode
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(GgufFile::open(again)->get_string("qat.activation_quant"), "none");
  r = test::run_qat("quantize " + out + " " + again + " q8_0 --activations q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(GgufFile::open(again)->find("qat.activation_quant")) << "the default is not written";
  r = test::run_qat("info " + in);
  EXPECT_NE(r.out.find("activations:      q8_0"), std::string::npos) << r.out;
  r = test::run_qat("quantize " + in + " " + dir_ + "/bad.gguf q4_0 --activations int8");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--activations"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad.gguf"));
}

TEST_F(QuantizeCli, DryRunPrintsThePlanAndWritesNothing) {
  const std::string in = init("gemma4"), out = dir_ + "/never.gguf";
  auto r = test::run_qat("quantize " + in + " " + out + " q4_0 --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("token_embd.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tied embedding/output kept at Q8_0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bits/weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing written"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(out));
  // Flags may come before the positional arguments.
  r = test::run_qat("quantize --tensor-type attn_v=q8_0 --tensor-type ffn_=f16 " + in + " " + out +
                    " q4_0 --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--tensor-type ffn_"), std::string::npos) << r.out;
}

TEST_F(QuantizeCli, BadArgumentsGiveClearErrorsAndNoFile) {
  const std::string in = init("gemma3"), out = dir_ + "/out.gguf";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {in + " " + out + " q5_k", "unknown tensor type 'q5_k'"},
      {in + " " + out + " q4_0 --tensor-type 'attn_(q=q8_0'", "bad regular expression 'attn_(q'"},
      {in + " " + out + " q4_0 --tensor-type 'attn_q=q3'", "unknown tensor type 'q3'"},
      {in + " " + out + " q4_0 --tensor-type 'attn_q'", "expected REGEX=TYPE"},
      {in + " " + out + " q4_0 --tensor-type 'norm=q8_0'", "norms and scalars stay F32"},
      {in + " " + in + " q4_0", "output is the input file"},
      {dir_ + "/missing.gguf " + out + " q8_0", "missing.gguf: no such file or directory"},
      {in + " " + dir_ + "/out.bin q8_0", "OUT must be a .gguf file"},
  };
  for (const Case& c : cases) {
    auto r = test::run_qat("quantize " + c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args;
  }
}

// --gptq: GPTQ's blocks reach the file exactly (the grid import keeps every
// block), the model runs, and bad calibration input fails clearly.
TEST_F(QuantizeCli, GptqCalibratesOnTextAndKeepsItsBlocks) {
  const std::string in = init("gemma3"), out = dir_ + "/gptq.gguf", text = dir_ + "/cal.txt";
  {
    std::ofstream f(text);
    for (int i = 0; i < 400; ++i) f << "Card " << 1000 + i * 7 << " paid " << i % 13 << ".50 at store " << i % 5 << ".\n";
  }
  auto r = test::run_qat("quantize " + in + " " + out + " q4_0 --gptq " + text + " --gptq-batches 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gptq: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tensors quantized"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(100.00 %)"), std::string::npos) << "every GPTQ block kept\n" << r.out;
  auto f = GgufFile::open(out);
  EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->type, 2u);
  r = test::run_qat("run -m " + out + " -p 'Card 1007 paid' -n 4 --temp 0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove(out);
  {
    std::ofstream f(dir_ + "/short.txt");
    f << "too short";
  }
  const std::string bad[][2] = {
      {"--gptq " + dir_ + "/missing.txt", "missing.txt: no such calibration text file"},
      {"--gptq " + text + " --no-keep-grid", "--gptq and --no-keep-grid"},
      {"--gptq " + text + " --gptq-batches 0", "--gptq-batches must be >= 1"},
      {"--gptq " + dir_ + "/short.txt", "short.txt: "},
  };
  for (const auto& c : bad) {
    r = test::run_qat("quantize " + in + " " + out + " q4_0 " + c[0]);
    EXPECT_EQ(r.exit_code, 1) << c[0] << "\n" << r.err;
    EXPECT_NE(r.err.find(c[1]), std::string::npos) << c[0] << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << c[0];
  }
  r = test::run_qat("quantize " + in + " " + out + " q4_0 --gptq-batches 4");  // CLI11's own exit code
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--gptq-batches requires --gptq"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  // Too little memory for the FP32 weights and Hessians: refused up front.
  r = test::run_qat_env("QAT_MEM_AVAILABLE_OVERRIDE=1000000 ", "quantize " + in + " " + out + " q4_0 --gptq " + text);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("--gptq needs about"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("input Hessians"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("gptq calibration"), std::string::npos) << "refused before calibrating\n" << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(QuantizeCli, RequantizingWarns) {
  const std::string in = init("gemma3"), q8 = dir_ + "/q8.gguf", q4 = dir_ + "/q4.gguf";
  ASSERT_EQ(test::run_qat("quantize " + in + " " + q8 + " q8_0").exit_code, 0);
  auto r = test::run_qat("quantize " + q8 + " " + q4 + " q4_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("already quantized"), std::string::npos) << r.err;
}

TEST_F(QuantizeCli, ModelTooBigForMemoryFailsUpFront) {
  const std::string in = init("gemma3");
  // QAT_MEM_AVAILABLE_OVERRIDE replaces MemAvailable (and SwapFree) for the check.
  // 10 MB: enough to load the weights (~1.4 MiB), not for weights + KV + 64 MiB.
  const std::string env = "QAT_MEM_AVAILABLE_OVERRIDE=10000000 ";
  auto fail = test::run_qat_env(env, "run -m " + in + " -p hi -n 4");
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
  EXPECT_NE(fail.err.find(in), std::string::npos) << fail.err;
  EXPECT_NE(fail.err.find("needs about"), std::string::npos) << fail.err;
  EXPECT_NE(fail.err.find("--ctx"), std::string::npos) << fail.err;
  auto chat = test::run_qat_env(env, "chat -m " + in + " -n 4", "hello\n");
  EXPECT_EQ(chat.exit_code, 1) << chat.err;
  // Enough memory (weights ~1 MB + 64 MiB scratch + KV) passes.
  auto ok = test::run_qat_env("QAT_MEM_AVAILABLE_OVERRIDE=1000000000 ", "run -m " + in + " -p hi -n 4");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(QuantizeCli, LoadingThatDoesNotFitFailsUpFront) {
  // Loading a model copies its matrices into new memory (repacked, huge
  // pages); that is checked against MemAvailable before any allocation.
  const std::string in = init("gemma3");
  const std::string q = dir_ + "/q8.gguf";
  ASSERT_EQ(test::run_qat("quantize " + in + " " + q + " q8_0").exit_code, 0);
  // (run / chat check weights + KV cache + scratch before that; bench does not.)
  auto fail = test::run_qat_env("QAT_MEM_AVAILABLE_OVERRIDE=1000 ",
                                "bench -m " + q + " -t 1 -p 4 -n 0 -r 1 --no-bandwidth");
  EXPECT_EQ(fail.exit_code, 1) << fail.err;
  EXPECT_NE(fail.err.find(q), std::string::npos) << fail.err;
  EXPECT_NE(fail.err.find("loading the weight matrices"), std::string::npos) << fail.err;
}

// Blocks of `path` identical to the trained ones.
double identical_fraction(const test::LsqModel& m, const std::string& path) {
  auto f = GgufFile::open(path);
  int64_t same = 0, all = 0;
  for (const auto& [name, want] : m.blocks) {
    const GgufTensorInfo* t = f->find_tensor(name);
    const size_t bb = tensor_bytes(uint32_t(m.types.at(name)), 32);
    for (size_t at = 0; t && at + bb <= want.size(); at += bb, ++all)
      same += std::memcmp(t->data + at, want.data() + at, bb) == 0;
  }
  return all ? double(same) / double(all) : 0.0;
}

TEST_F(QuantizeCli, KeepsATrainedGridUnlessToldNot) {
  // A model trained on Q4_0 grids with learned scales, stored in F32 (GGUF)
  // and BF16 (HF directory), as checkpoints QAT-trained elsewhere come.
  const test::LsqModel m = test::make_lsq_model(Family::Gemma3, TensorType::Q4_0, 21);
  const std::string f32 = dir_ + "/qat_f32.gguf", hf = dir_ + "/qat_bf16", out = dir_ + "/q4.gguf";
  save_gguf_model(*m.model, f32, TensorType::F32);
  save_hf_model(*m.model, hf, TensorType::BF16);
  for (const std::string& in : {f32, hf}) {
    SCOPED_TRACE(in);
    auto r = test::run_qat("quantize " + in + " " + out + " q4_0");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const size_t kept = r.out.find("  kept the trained grid");
    ASSERT_NE(kept, std::string::npos) << r.out;
    std::printf("%s", r.out.substr(kept).c_str());
    EXPECT_NE(r.out.find("(100.00 %)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("with a scale other than the block maximum's"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Q4_0: "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Q8_0: "), std::string::npos) << r.out << "the tied embedding";
    // F32 gives the trained blocks back (but for the sign of d in a few
    // blocks where nothing tells it: grid_import.h); BF16 most of them.
    EXPECT_GE(identical_fraction(m, out), in == f32 ? 0.97 : 0.4);

    r = test::run_qat("quantize --no-keep-grid " + in + " " + out + " q4_0");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("kept the trained grid"), std::string::npos) << r.out;
    EXPECT_LT(identical_fraction(m, out), 0.7);
  }

  // An ordinary (random, not QAT-trained) model: no grid to keep.
  const std::string plain = init("gemma3");
  auto r = test::run_qat("quantize " + plain + " " + out + " q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kept the trained grid in 0 of "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace qat
