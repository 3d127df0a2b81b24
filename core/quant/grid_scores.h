#pragma once
// MDQFO's grid scores (quant/mdqfo.h, gridScoresCpu) as plain C++ on arrays: the engine's CPU
// kernel, which the GPU grid kernel's reference (cuda/reference.h) also is. No libtorch.
#include <cstdint>

namespace mq::core {

// Scores of ratios j0..j1-1 for every channel into out[j * K + c] (out holds all ratios' rows):
// score(j, c) = mean_t |x_tc - x_hat_tc|^p + lambdaCos * (1 - mean_t cos(x_t, x_hat_t)) with
// alpha = float(alpha0_c * ratios[j]), the static per-channel grid of `abits` bits and the DABC
// compensation of masked channels (mask > 0.5; elements above rho * alpha, all at rho 0).
// x [T, K] float32 row-major.
void gridScoresRange(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask, const double* ratios,
                     int64_t j0, int64_t j1, int abits, double rho, double p, double lambdaCos, float* out);

} // namespace mq::core
