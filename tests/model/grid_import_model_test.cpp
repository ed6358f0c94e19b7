// Quantizing a QAT-trained model that was stored in F32 (GGUF) or BF16 (HF
// safetensors) gives back its trained Q4_0 / Q8_0 blocks
// (quant/grid_import.h through save_gguf_model's keep_grid).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "../common/lsq_model.h"
#include "base/fp16.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "model/quantize_plan.h"

namespace qat {
namespace {

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/grid_import_test_" + std::to_string(::getpid()) + "_" + name;
}

struct Counts {
  int64_t blocks = 0, identical = 0, sign_twins = 0;
};

// The block's 32 values.
std::vector<float> values(TensorType type, const uint8_t* block) {
  std::vector<float> v(32);
  if (type == TensorType::Q4_0)
    dequantize_row_q4_0(reinterpret_cast<const BlockQ4_0*>(block), v.data(), 32);
  else
    dequantize_row_q8_0(reinterpret_cast<const BlockQ8_0*>(block), v.data(), 32);
  return v;
}

std::vector<float> as_bf16(std::vector<float> v) {
  for (float& x : v) x = bf16_to_f32(f32_to_bf16(x));
  return v;
}

// Compares every trained tensor with the file's: identical blocks; with
// check_values the others must reproduce the stored values (F32: exactly the
// trained values; BF16: the same BF16 values).
Counts compare(const test::LsqModel& m, const std::string& path, TensorType source, bool check_values = true) {
  Counts c;
  auto file = GgufFile::open(path);
  for (const auto& [name, want] : m.blocks) {
    const TensorType type = m.types.at(name);
    const GgufTensorInfo* t = file->find_tensor(name);
    EXPECT_NE(t, nullptr) << name;
    if (!t) continue;
    EXPECT_EQ(t->type, uint32_t(type)) << name;
    EXPECT_EQ(t->n_bytes, want.size()) << name;
    const size_t bb = tensor_bytes(uint32_t(type), 32);
    for (size_t at = 0; at + bb <= want.size(); at += bb) {
      ++c.blocks;
      const uint8_t* got = t->data + at;
      if (std::memcmp(got, want.data() + at, bb) == 0) {
        ++c.identical;
        continue;
      }
      if (!check_values) continue;
      const std::vector<float> a = values(type, got), b = values(type, want.data() + at);
      if (source == TensorType::F32) {
        EXPECT_EQ(a, b) << name << " block " << at / bb;
        uint16_t da, db;
        std::memcpy(&da, got, 2), std::memcpy(&db, want.data() + at, 2);
        c.sign_twins += da == (db ^ 0x8000);
      } else {
        EXPECT_EQ(as_bf16(a), as_bf16(b)) << name << " block " << at / bb;
      }
    }
  }
  return c;
}

TEST(GridImportModel, QatModelStoredInF32AndBf16QuantizesToItsTrainedBlocks) {
  for (Family family : {Family::Gemma3, Family::Gemma4}) {
    SCOPED_TRACE(family_name(family));
    const test::LsqModel m = test::make_lsq_model(family, TensorType::Q4_0, 11);
    const std::string f32 = temp_path("f32.gguf"), hf = temp_path("hf_bf16"), out = temp_path("q4.gguf");
    std::filesystem::remove_all(hf);
    save_gguf_model(*m.model, f32, TensorType::F32);
    save_hf_model(*m.model, hf, TensorType::BF16);

    for (const std::string& in : {f32, hf}) {
      const TensorType source = in == f32 ? TensorType::F32 : TensorType::BF16;
      SCOPED_TRACE(tensor_type_name(source));
      auto loaded = load_model(in);
      const QuantizePlan plan = plan_quantization(*loaded, {TensorType::Q4_0, {}});
      auto type_of = [&](const TensorSlot& s) { return plan.find(s.gguf_name)->to; };
      GridStats total;
      int reports = 0;
      save_gguf_model(*loaded, out, type_of, gguf_file_type(TensorType::Q4_0), "quantize", true,
                      [&](const std::string& name, TensorType to, const GridStats& st) {
                        EXPECT_EQ(m.types.at(name), to) << name;
                        total += st;
                        ++reports;
                      });
      EXPECT_EQ(reports, int(m.blocks.size()));
      const Counts c = compare(m, out, source);
      std::printf("  %s from %s: %lld of %lld trained blocks identical (%.3f %%), %lld more with d negated; "
                  "kept %lld (reference scale %lld, detected %lld)\n",
                  family_name(family), tensor_type_name(source), static_cast<long long>(c.identical),
                  static_cast<long long>(c.blocks), 100.0 * double(c.identical) / double(c.blocks),
                  static_cast<long long>(c.sign_twins), static_cast<long long>(total.kept()),
                  static_cast<long long>(total.reference), static_cast<long long>(total.detected));
      EXPECT_EQ(total.blocks, c.blocks);
      EXPECT_EQ(total.kept(), total.blocks) << "every trained block reproduces its stored values";
      if (source == TensorType::F32) {
        // F32 determines the grid up to the sign of d where both signs fit
        // the codes (Q4_0 without code -8, largest |code| reached with both
        // signs) and no zero code tells them apart (grid_import.h rule 3).
        // Measured: 98.9 % (gemma3) / 99.1 % (gemma4) identical, the rest d negated.
        EXPECT_EQ(c.identical + c.sign_twins, c.blocks);
        EXPECT_GE(double(c.identical), 0.97 * double(c.blocks));
      } else {
        // BF16 leaves several fp16 scales that reproduce a block (the values
        // checked above are the same). Measured: 46.8 % / 52.3 % identical.
        EXPECT_GE(double(c.identical), 0.4 * double(c.blocks));
      }

      // Without keep_grid: the reference quantizer moves about half the
      // blocks (those trained with a scale above the reference's).
      save_gguf_model(*loaded, out, type_of, gguf_file_type(TensorType::Q4_0), "quantize");
      const Counts plain = compare(m, out, source, /*check_values=*/false);
      EXPECT_LT(double(plain.identical), 0.7 * double(plain.blocks));
      std::filesystem::remove(out);
    }
    std::filesystem::remove(f32);
    std::filesystem::remove_all(hf);
  }
}

}  // namespace
}  // namespace qat
