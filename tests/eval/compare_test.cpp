// eval/compare.h: recovered figures on constructed rows, the table's columns,
// labels and scheme names.
#include <gtest/gtest.h>

#include "base/error.h"
#include "eval/compare.h"
#include "model/tensor_convert.h"

namespace qat {
namespace {

CompareRow row(const std::string& label, std::optional<double> ppl, std::optional<double> acc, bool base = false) {
  CompareRow r;
  r.label = label;
  r.is_base = base;
  r.scheme = base ? "F32" : "W4A8";
  r.weights = "Q4_0";
  r.file_bytes = 1000;
  r.ppl = ppl;
  r.accuracy = acc;
  if (!base && ppl) r.kld = 0.01, r.same_top = 0.9;
  return r;
}

TEST(Compare, RecoveredOnAConstructedCase) {
  // PPL: base 10, PTQ 14 (gap 4), QAT 11 (gap 1): 75 % recovered.
  // Accuracy: base 0.90, PTQ 0.70 (gap 0.2), QAT 0.85 (gap 0.05): 75 %.
  std::vector<CompareRow> rows = {row("fp32", 10, 0.90, true), row("ptq-w4a8", 14, 0.70),
                                  row("qat-w4a8", 11, 0.85),   row("qat-w8a8", 10.5, 0.9),
                                  row("ptq-w4a16", 12, 0.95),  row("qat-w4a16", 11, 0.9)};
  compute_recovered(rows);
  ASSERT_TRUE(rows[2].recovered_ppl && rows[2].recovered_accuracy);
  EXPECT_NEAR(*rows[2].recovered_ppl, 0.75, 1e-12);
  EXPECT_NEAR(*rows[2].recovered_accuracy, 0.75, 1e-12);
  EXPECT_FALSE(rows[0].recovered_ppl);  // the base
  EXPECT_FALSE(rows[1].recovered_ppl);  // a ptq row
  EXPECT_FALSE(rows[3].recovered_ppl);  // qat-w8a8 has no ptq-w8a8
  // ptq-w4a16 lost perplexity (gap 2; QAT gap 1: 50 %) but gained accuracy:
  // recovered accuracy is undefined.
  ASSERT_TRUE(rows[5].recovered_ppl);
  EXPECT_NEAR(*rows[5].recovered_ppl, 0.5, 1e-12);
  EXPECT_FALSE(rows[5].recovered_accuracy);
  // QAT worse than PTQ: negative.
  std::vector<CompareRow> worse = {row("fp32", 10, {}, true), row("ptq-x", 12, {}), row("qat-x", 13, {})};
  compute_recovered(worse);
  EXPECT_NEAR(*worse[2].recovered_ppl, -0.5, 1e-12);

  const std::string md = compare_markdown(rows);
  for (const char* s : {"| model | scheme | weights | size | PPL | mean KLD | same top-1 | accuracy | recovered (PPL) | "
                        "recovered (accuracy) |",
                        "| **fp32** (base) | F32 |", "| qat-w4a8 | W4A8 | Q4_0 | 1000 B | 11.0000 ± 0.0000 | 0.010000 ± "
                        "0.000000 | 90.00 % ± 0.00 % | 85.00 % | 75.0 % | 75.0 % |"})
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  const auto j = compare_json(rows);
  ASSERT_EQ(j.size(), rows.size());
  EXPECT_DOUBLE_EQ(j[2]["recovered_ppl"].get<double>(), 0.75);
  EXPECT_TRUE(j[1]["recovered_ppl"].is_null());
}

TEST(Compare, ColumnsOnlyForWhatWasMeasured) {
  std::vector<CompareRow> rows = {row("fp32", {}, 0.9, true), row("ptq-a", {}, 0.8)};
  compute_recovered(rows);
  const std::string md = compare_markdown(rows);
  EXPECT_EQ(md.find("PPL"), std::string::npos) << md;
  EXPECT_EQ(md.find("recovered"), std::string::npos) << md;
  EXPECT_NE(md.find("accuracy"), std::string::npos) << md;
}

TEST(Compare, Labels) {
  for (const char* ok : {"ptq-w4a8", "qat-w4a16", "fp32", "a.b_c+d"}) EXPECT_NO_THROW(check_compare_label(ok)) << ok;
  for (const char* bad : {"", "a b", "a|b", "x=y"}) EXPECT_THROW(check_compare_label(bad), Error) << bad;
  EXPECT_THROW(check_compare_label(std::string(65, 'a')), Error);
}

TEST(Compare, SchemeNames) {
  auto m = init_random_model(preset_config(Family::Gemma3, "tiny"), 1);
  EXPECT_EQ(scheme_of(*m), "F32");
  EXPECT_EQ(weight_types_of(*m), "F32, embd F32");
  // Matrices to Q4_0 except one at Q8_0; the embedding stays F32.
  bool first = true;
  for (const TensorSlot& s : tensor_slots(m->config, m->weights)) {
    if (s.role != TensorRole::Matrix) continue;
    *s.tensor = convert_tensor(*s.tensor, first ? TensorType::Q8_0 : TensorType::Q4_0);
    first = false;
  }
  EXPECT_EQ(scheme_of(*m), "W4/W8A8");
  m->config.activation_quant = ActivationQuant::None;
  EXPECT_EQ(scheme_of(*m), "W4/W8A16");
  EXPECT_NE(weight_types_of(*m).find("Q4_0 "), std::string::npos) << weight_types_of(*m);
  EXPECT_NE(weight_types_of(*m).find(" + Q8_0 "), std::string::npos) << weight_types_of(*m);
}

}  // namespace
}  // namespace qat
