#pragma once
// Activation quantizers, simulated (quantize then dequantize), X is [..., K] float32.
// Both use a symmetric grid with qmax = 2^(bits-1)-1 levels each side and round-half-to-even.
#include <ATen/ATen.h>

#include "quant/quant_settings.h"

namespace mq::core {


// One scale per token (row): s_t = max_c |x_tc| / qmax.
at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits);

// Static per-channel clipping bounds alpha [K] > 0: s_c = alpha_c / qmax, values clamp to
// [-alpha_c, alpha_c]. This is the grid MDQFO optimises.
at::Tensor fakeQuantPerChannel(const at::Tensor& x, const at::Tensor& alpha, int bits);

} // namespace mq::core
