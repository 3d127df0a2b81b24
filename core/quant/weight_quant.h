#pragma once
// Weight quantizers (round-to-nearest, simulated: they return the dequantized float32 weight).
// W is [N out, K in]. Rounding is round-half-to-even (at::round).
#include <ATen/ATen.h>

#include "quant/quant_settings.h"

namespace mq::core {


// s rounded (to nearest even) to dtype d; a scale that would round to 0 (f16 underflow) becomes
// the dtype's smallest normal value.
float roundScale(float s, ScaleDtype d);

// The 16 NF4 code values of QLoRA, ascending, exactly as published.
const float* nf4Levels();

// Dequantized weight, same shape, float32. Throws InputError when K is not a multiple of the
// group size or the flattened size not a multiple of the NF4 block.
// nvfp4GlobalScale > 0: NVFP4's global scale instead of the tensor's own (a fused projection's
// shared one).
at::Tensor fakeQuantWeight(const at::Tensor& w, const WeightQuantSpec& spec, float nvfp4GlobalScale = 0.f);

// A block format (NVFP4, MXFP4, HiF4; quant/formats.h) of x [..., K] along its last dimension,
// dequantized (float32, same shape); a partial last block is padded with zeros. NVFP4 takes the
// tensor's own global scale, or nvfp4GlobalScale when > 0 (a static activation scale).
at::Tensor fakeQuantBlockFormat(const at::Tensor& x, WeightFormat f, float nvfp4GlobalScale = 0.f);

// Integer weights through the plain ATen expression, without the fused CPU kernel that
// fakeQuantWeight uses for symmetric float32 weights (its reference in the tests).
at::Tensor fakeQuantIntAten(const at::Tensor& w, const WeightQuantSpec& spec);

} // namespace mq::core
