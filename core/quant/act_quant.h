#pragma once
// Activation quantizers, simulated (quantize then dequantize), X is [..., K] float32.
// Both use a symmetric grid with qmax = 2^(bits-1)-1 levels each side and round-half-to-even.
#include <ATen/ATen.h>

#include <functional>

#include "quant/quant_settings.h"

namespace mq::core {


// One scale per token (row): s_t = max_c |x_tc| / qmax.
at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits);
// With a clip ratio c in (0, 1]: s_t = c max_c |x_tc| / qmax (values past it clamp). asym: the
// token's range [c min(min x, 0), c max(max x, 0)] (zero stays exact) on 2^bits - 1 steps with a
// zero point z_t = round(-lo / s_t),
// x -> s_t (clamp(round(x / s_t) + z_t, 0, 2^bits - 1) - z_t). clip 1, symmetric: the above.
at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits, double clip, bool asym);

// The per-token clip ratio of {1, 1 - 0.3/steps, ..., 0.7} with the least output error on rows
// x [rows, K]: sum over the Linears reading x of ||(x - Q(x)) W^T||^2, given G = sum W^T W
// [K, K] (float32). With `morphology` instead, the least MDQFO morphology loss of Q(x) against x
// (DESIGN.md Eq. 8-10: mean |x - Q(x)|^p + lambda_cos (1 - mean_t cos(x_t, Q(x)_t)), p and
// lambda_cos from it; gram is not used). Ties keep the larger ratio.
double searchTokenClip(const at::Tensor& x, const at::Tensor& gram, int bits, bool asym, int steps,
                       const MdqfoSettings* morphology = nullptr);

// The same with a scale (and zero point) per group of `groupSize` consecutive channels of each
// token (0: the whole token); a partial last group (K not a multiple) has a scale of its own.
at::Tensor fakeQuantPerTokenGroups(const at::Tensor& x, int bits, double clip, bool asym, int groupSize);

// One scale for the whole tensor from its range [lo, hi] (a static range from calibration, or
// the tensor's own for a dynamic one): symmetric s = clip max(|lo|, |hi|) / qmax, values past it
// clamp; asym: [clip min(lo, 0), clip max(hi, 0)] on 2^bits - 1 steps with one zero point, as
// fakeQuantPerToken's asymmetric grid with a single row range.
at::Tensor fakeQuantPerTensor(const at::Tensor& x, int bits, double lo, double hi, double clip, bool asym);
// The symmetric per-tensor scale fakeQuantPerTensor uses: float32(max(clip max(|lo|, |hi|) /
// qmax, 1e-12)) (an export's input_scale holds exactly this).
float perTensorScale(double lo, double hi, double clip, int bits);
// Dynamic: the range is x's own, every element of it (one scale per call).
at::Tensor fakeQuantPerTensorDynamic(const at::Tensor& x, int bits, double clip, bool asym);

// The clip ratio search of searchTokenClip for any quantizer q(x, clip) of the group's rows.
double searchClip(const at::Tensor& x, const at::Tensor& gram, int steps, const MdqfoSettings* morphology,
                  const std::function<at::Tensor(const at::Tensor&, double)>& quantize);

// Static per-channel clipping bounds alpha [K] > 0: s_c = alpha_c / qmax, values clamp to
// [-alpha_c, alpha_c]. This is the grid MDQFO optimises.
at::Tensor fakeQuantPerChannel(const at::Tensor& x, const at::Tensor& alpha, int bits);

// The input a planned group's Linears see: fakeQuantPerChannel(x, alpha, bits) and, with a DABC
// mask (defined), compensatedInput(x, that, mask, alpha, rho) (dabc.h). On the CPU for float32 x
// and alpha it is one pass per row (the two ATen expressions make up to eleven full-size
// temporaries: over a second per 7B layer); the same float operations in the same order, so the
// same values bit for bit (a zero's sign aside; tst_quant_formats checks against the
// expressions); elsewhere the expressions.
at::Tensor fakeQuantPerChannelCompensated(const at::Tensor& x, const at::Tensor& alpha, int bits,
                                          const at::Tensor& mask, double rho);

} // namespace mq::core
