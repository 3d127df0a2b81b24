#pragma once
// Morphology-Directed Quantization Function Optimization (DESIGN.md, Eqs. 8-10): learn the
// per-channel clipping bound alpha_c of the static activation grid [-alpha_c, alpha_c] so that
// L = L_p + lambda_cos * L_cos is small, where X_hat is the dequantized X plus the DABC
// compensation of the masked channels.
#include <ATen/ATen.h>

#include "common/progress.h"
#include "session.h"

namespace mq::core {

struct MorphologyLoss {
    double lp = 0.0;   // mean |X - X_hat|^p over all elements
    double lcos = 0.0; // 1 - mean over tokens of cos(X_t, X_hat_t)
    double total = 0.0;
};

// The loss of a quantized X_hat against X [T, K] (any quantizer: per-token clip searches use it too).
MorphologyLoss morphologyLossOf(const at::Tensor& x, const at::Tensor& xh, const MdqfoSettings& mdqfo);

// The loss of one clipping choice on X [T, K]; mask [K] 0/1; alpha [K].
MorphologyLoss morphologyLoss(const at::Tensor& x, const at::Tensor& alpha, const at::Tensor& mask, int abits,
                              const DabcSettings& dabc, const MdqfoSettings& mdqfo);

// The grid solver's per-channel scores of one CPU batch for every ratio: [ratios, K] float32,
// score(r, c) = mean_t |x_tc - x_hat_tc|^p + lambda_cos * (1 - mean_t cos(x_t, x_hat_t)) with
// alpha = r * alpha0. One fused pass per ratio (ratios run in parallel); equals the composition
// of fakeQuantPerChannel and compensatedInput. xb [T, K] float32 contiguous on the CPU.
at::Tensor gridScoresCpu(const at::Tensor& xb, const at::Tensor& alpha0, const at::Tensor& mask,
                         const std::vector<double>& ratios, int abits, double rho, const MdqfoSettings& st);

// The same scores from the GPU's grid kernel (cuda::gridScores; --device cuda): equal to
// gridScoresCpu within 2 float ulps (float64 sums in another order; other p than 0.5, 1, 2, 3
// and 4 also the GPU's powf). xb may be a CPU tensor (copied) or a CUDA one. Returns a CPU
// tensor; throws cuda::Error where no GPU can be used.
at::Tensor gridScoresCuda(const at::Tensor& xb, const at::Tensor& alpha0, const at::Tensor& mask,
                          const std::vector<double>& ratios, int abits, double rho, const MdqfoSettings& st);

struct MdqfoResult {
    std::vector<float> alpha;        // [K]
    std::vector<LossPoint> curve;    // step 0 = alpha0, then one point per optimisation step
};

// Optimises alpha for one input group. x: its calibration inputs [T, K] (as seen through the
// already quantized layers before it); alpha0 [K] > 0 the starting bounds (max |X_c|).
// Grid search: each batch of mdqfo.batchTokens rows scores the ratios r (log-spaced over
// [rMin, rMax]) per channel, folds the scores into an EMA and keeps each channel's best ratio;
// Adam: gradient descent on log alpha with a straight-through rounding estimator.
// Each step records the loss of the current alpha on a fixed evaluation subset of x.
MdqfoResult optimizeClipping(const at::Tensor& x, const at::Tensor& alpha0, const at::Tensor& mask, int abits,
                             const DabcSettings& dabc, const MdqfoSettings& mdqfo, const CancelToken* cancel = nullptr);

} // namespace mq::core
