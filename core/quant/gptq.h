#pragma once
// GPTQ weight quantization (Frantar et al., "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", 2023) with the options QuantSettings::gptq names:
// dampening, lazy block updates, activation order, a per-row clip search, and the GPTAQ-style
// full-precision target.
//
// For W [N out, K in] and the Hessian H = X^T X [K, K] of the Linear's inputs X [rows, K]:
//   H += damp * mean(diag H) * I   (columns with diag 0 get H_ii = 1 and zero weights)
//   U = chol(H^-1)^T (upper)        columns in order of decreasing diag(H) with actOrder
//   for each column i:  q_i = Q(w_i);  e = (w_i - q_i) / U_ii;  w_j -= e * U_ij  for j > i
// The quantizer Q of each output row and group has fixed parameters chosen before the loop
// from the original weights (static groups: a group keeps its input columns whatever the
// order), with the clip search picking p per row and group:
//   symmetric   s = p max|w| / qmax, q = s * clamp(round(w / s), -qmax, qmax), qmax = 2^(b-1)-1
//   asymmetric  s = p (max - min) / (2^b - 1), z = round(-p min / s) within [0, 2^b - 1]
//               (min <= 0 <= max: the range holds 0),
//               q = s * (clamp(round(w / s) + z, 0, 2^b - 1) - z)
// the same arithmetic as fakeQuantWeight (weight_quant.h), so that with a diagonal H (nothing to
// spread) and p = 1 GPTQ returns exactly the round-to-nearest weights.
#include <ATen/ATen.h>

#include "quant/quant_settings.h"
#include "session.h"

namespace mq::core {

struct GptqResult {
    at::Tensor weight;   // dequantized [N, K] float32 (== dequantize(stored))
    StoredWeight stored; // codes and scales
};

// spec must be integer weights whose group size divides K (InputError otherwise). H is
// [K, K] (any float dtype; float64 recommended), symmetric positive semi-definite.
// nvfp4GlobalScale > 0: NVFP4's global scale to use instead of the tensor's own (the one its
// fused siblings share: nvfp4SharedGlobalScale in quant/quant_linear.h).
GptqResult gptqQuantize(const at::Tensor& w, const at::Tensor& h, const WeightQuantSpec& spec,
                        const GptqSettings& settings, float nvfp4GlobalScale = 0.f);

// The weights W* = W C H^-1 (C = X_fp^T A, H = A^T A with the same dampening as GPTQ) that make
// A W*^T the least-squares fit of X_fp W^T: GPTQ on W* with H aims at the full-precision
// output from the quantized model's inputs A (GptqSettings::fpTarget).
at::Tensor fpTargetWeight(const at::Tensor& w, const at::Tensor& h, const at::Tensor& c, double damp);

// scale * (code - zero) as float32 [rows, cols]. Throws Error for arrays whose sizes disagree.
at::Tensor dequantize(const StoredWeight& sw);

} // namespace mq::core
