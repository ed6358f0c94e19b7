// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_:
//   total = ||all trainable grads as one vector||
//   coef  = max_norm / (total + 1e-6), clamped to at most 1
//   every trainable grad *= coef
#pragma once
#include "train/parameters.h"

namespace qat {

// The L2 norm of the trainable parameters' gradients, correctly rounded to
// float: squares summed in double over fixed chunks, chunk sums added in
// order, so the result does not depend on the thread count.
float grad_norm(const ParameterList& params);

// Clips the trainable gradients in place and returns their norm before
// clipping. A NaN or infinite norm makes the gradients NaN, as in torch
// (error_if_nonfinite=False); the caller decides whether to skip the step.
float clip_grad_norm(ParameterList& params, float max_norm);

}  // namespace qat
