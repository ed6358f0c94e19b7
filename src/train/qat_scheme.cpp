#include "train/qat_scheme.h"

#include "base/error.h"

namespace qat {

QatScheme parse_qat_scheme(const std::string& s) {
  for (QatScheme x : {QatScheme::W8A8, QatScheme::W4A8, QatScheme::W4A16, QatScheme::W8A16})
    if (s == qat_scheme_name(x)) return x;
  fail("unknown QAT scheme '", s, "' (expected w8a8, w4a8, w4a16 or w8a16)");
}

const char* qat_scheme_name(QatScheme s) {
  switch (s) {
    case QatScheme::W8A8: return "w8a8";
    case QatScheme::W4A8: return "w4a8";
    case QatScheme::W4A16: return "w4a16";
    case QatScheme::W8A16: return "w8a16";
  }
  return "?";
}

TensorType scheme_weight_type(QatScheme s) {
  return s == QatScheme::W8A8 || s == QatScheme::W8A16 ? TensorType::Q8_0 : TensorType::Q4_0;
}

bool scheme_quantizes_activations(QatScheme s) { return s == QatScheme::W8A8 || s == QatScheme::W4A8; }

}  // namespace qat
