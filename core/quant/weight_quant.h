#pragma once
// Weight quantizers (round-to-nearest, simulated: they return the dequantized float32 weight).
// W is [N out, K in]. Rounding is round-half-to-even (at::round).
#include <ATen/ATen.h>

#include "quant/quant_settings.h"

namespace mq::core {


// The 16 NF4 code values of QLoRA, ascending, exactly as published.
const float* nf4Levels();

// Dequantized weight, same shape, float32. Throws InputError when K is not a multiple of the
// group size or the flattened size not a multiple of the NF4 block.
at::Tensor fakeQuantWeight(const at::Tensor& w, const WeightQuantSpec& spec);

// Integer weights through the plain ATen expression, without the fused CPU kernel that
// fakeQuantWeight uses for symmetric float32 weights (its reference in the tests).
at::Tensor fakeQuantIntAten(const at::Tensor& w, const WeightQuantSpec& spec);

} // namespace mq::core
