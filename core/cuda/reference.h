#pragma once
// CPU references of the GPU kernels in kernels.h: the same arithmetic, element by element, in
// plain C++ (no CUDA, no libtorch), built in every configuration. tests/tst_cuda_reference.cpp
// checks them against the engine's own CPU code (ChannelStats, gridScoresCpu, mq::core::fmt,
// dabcLinear); cuda_selftest checks the kernels against them.
#include <cstdint>
#include <vector>

#include "cuda/kernels.h"

namespace mq::cuda::ref {

// ---- statistics (ChannelStats::accumulate per modality: each call's sums in chunks of
// kStatsChunkRows rows, each in row order, then added to the totals) -------------------------
struct Stats {
    int64_t K = 0;
    int M = 0;
    std::vector<float> min, max;       // [M, K]
    std::vector<double> sumAbs, sumSq; // [M, K]
    std::vector<uint32_t> hist;        // [M, K, kHistBins]
    std::vector<uint64_t> count;       // [M]
    uint64_t nonFinite = 0;
    void reset(int64_t k, int m);
};
int histBin(float absValue);
// Non-finite elements are counted and left out of every accumulator (the engine's caller
// refuses the batch when nonFinite > 0).
void channelStats(const float* x, const uint8_t* modality, int64_t rows, int64_t K, Stats& s);

// ---- MDQFO grid scores: the engine's CPU kernel (core::gridScoresRange, as gridScoresCpu) ---
std::vector<float> gridScores(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask,
                              const std::vector<double>& ratios, const GridParams& params);

// ---- NVFP4 / MXFP4 with packed codes (mq::core::fmt with packNibbles) ------------------------
void nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float globalScale, std::vector<uint8_t>& packed,
                   std::vector<uint8_t>& scales);
void mxfp4Quantize(const float* x, int64_t rows, int64_t cols, bool evenRule, std::vector<uint8_t>& packed,
                   std::vector<uint8_t>& scales);

// ---- the fused W4A4 + DABC linear ---------------------------------------------------------
uint16_t toBf16(float x);   // round half to even (NaN kept)
float fromBf16(uint16_t b);
// Signed 4-bit values, [rows, cols] packed two per byte along cols, first in the low nibble.
std::vector<uint8_t> packInt4(const std::vector<int8_t>& v, int64_t rows, int64_t cols);
std::vector<int8_t> unpackInt4(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols);
// quantizeActivations' arithmetic; a unpacked [T, K].
void quantizeActivations(const std::vector<uint16_t>& xBf16, int64_t T, int64_t K, const float* channelScale,
                         const std::vector<int32_t>& maskedIndex, float rho, std::vector<int8_t>& a,
                         std::vector<float>& tokenScale, std::vector<uint16_t>& residualBf16);
// The integer sums acc [T, N] = a w^T (exact) and the bf16 output of w4a4Linear: per element
// (float(acc) * s_t) * s_n + (DABC term summed in float32 over the masked channels in order)
// + bias, rounded to bf16 once.
void w4a4Linear(const std::vector<int8_t>& a, const std::vector<float>& tokenScale, const std::vector<int8_t>& w,
                const std::vector<float>& weightScale, const std::vector<uint16_t>& residualBf16,
                const std::vector<uint16_t>& wMaskedBf16, int Mk, const std::vector<uint16_t>& biasBf16, int64_t T,
                int64_t N, int64_t K, std::vector<int32_t>& acc, std::vector<uint16_t>& yBf16);

} // namespace mq::cuda::ref
