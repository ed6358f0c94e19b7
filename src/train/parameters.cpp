#include "train/parameters.h"

#include <algorithm>

namespace qat {

const char* param_group_name(ParamGroup g) {
  switch (g) {
    case ParamGroup::Embedding: return "embedding";
    case ParamGroup::Matrix: return "matrix";
    case ParamGroup::Norm: return "norm";
    case ParamGroup::Scalar: return "scalar";
    case ParamGroup::Head: return "head";
    case ParamGroup::QuantScale: return "qscale";
  }
  return "?";
}

void zero_grads(ParameterList& params) {
  for (Parameter& p : params) std::fill(p.grad, p.grad + p.numel, 0.0f);
}

}  // namespace qat
