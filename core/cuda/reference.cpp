// CPU references of the statistics, grid scoring and FP4 kernels (reference.h).
#include "cuda/reference.h"

#include "calib/channel_stats.h"

#include "quant/formats.h"
#include "quant/grid_scores.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace mq::cuda::ref {

void Stats::reset(int64_t k, int m)
{
    K = k;
    M = m;
    const size_t n = size_t(k) * size_t(m);
    min.assign(n, std::numeric_limits<float>::infinity());
    max.assign(n, -std::numeric_limits<float>::infinity());
    sumAbs.assign(n, 0.0);
    sumSq.assign(n, 0.0);
    hist.assign(n * kHistBins, 0u);
    count.assign(size_t(m), 0u);
    nonFinite = 0;
}

int histBin(float a)
{
    uint32_t bits;
    std::memcpy(&bits, &a, sizeof bits);
    const int e = int((bits >> 23) & 0xffu) - 127;
    return std::clamp(e - kHistMinExp, 0, kHistBins - 1);
}

void channelStats(const float* x, const uint8_t* modality, int64_t rows, int64_t K, Stats& s)
{
    if (s.K != K || s.M < 1)
        throw std::invalid_argument("ref::channelStats: statistics of " + std::to_string(s.K) + " channels for rows of "
                                    + std::to_string(K));
    // As ChannelStats::accumulate on each modality's rows of the call: each chunk of
    // core::kStatsChunkRows of them sums from 0, the call's sums add the chunks' in order, and
    // the totals add the call's at its end (so two calls round as the engine's two calls do).
    std::vector<double> sa(s.sumAbs.size(), 0.0), ss(s.sumSq.size(), 0.0);
    std::vector<double> csa(s.sumAbs.size(), 0.0), css(s.sumSq.size(), 0.0); // the chunks'
    std::vector<int64_t> seen(size_t(s.M), 0);                                 // rows per modality
    const auto endChunk = [&](int m) {
        for (size_t i = size_t(m) * size_t(K); i < size_t(m + 1) * size_t(K); ++i) {
            sa[i] += std::exchange(csa[i], 0.0);
            ss[i] += std::exchange(css[i], 0.0);
        }
    };
    for (int64_t r = 0; r < rows; ++r) {
        const int m = modality ? int(modality[r]) : 0;
        if (m >= s.M)
            continue; // out of range: skipped, as the kernel does
        ++s.count[size_t(m)];
        const size_t base = size_t(m) * size_t(K);
        for (int64_t c = 0; c < K; ++c) {
            const float v = x[r * K + c];
            if (!std::isfinite(v)) {
                ++s.nonFinite;
                continue;
            }
            const size_t i = base + size_t(c);
            s.min[i] = std::min(s.min[i], v);
            s.max[i] = std::max(s.max[i], v);
            csa[i] += double(std::fabs(v));
            css[i] += double(v) * double(v);
            ++s.hist[i * kHistBins + size_t(histBin(std::fabs(v)))];
        }
        if (++seen[size_t(m)] % core::kStatsChunkRows == 0)
            endChunk(m);
    }
    for (int m = 0; m < s.M; ++m)
        if (seen[size_t(m)] % core::kStatsChunkRows != 0)
            endChunk(m);
    for (size_t i = 0; i < sa.size(); ++i) {
        s.sumAbs[i] += sa[i];
        s.sumSq[i] += ss[i];
    }
}

std::vector<float> gridScores(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask,
                              const std::vector<double>& ratios, const GridParams& prm)
{
    // The engine's CPU grid kernel itself (gridScoresCpu runs it over ratio ranges in parallel).
    std::vector<float> out(ratios.size() * size_t(K));
    core::gridScoresRange(x, T, K, alpha0, mask, ratios.data(), 0, int64_t(ratios.size()), prm.abits, prm.rho, prm.p,
                          prm.lambdaCos, out.data());
    return out;
}

void nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float globalScale, std::vector<uint8_t>& packed,
                   std::vector<uint8_t>& scales)
{
    const core::fmt::Nvfp4 q = core::fmt::nvfp4Quantize(x, rows, cols, globalScale);
    packed = core::fmt::packNibbles(q.codes, true);
    scales = q.scales;
}

void mxfp4Quantize(const float* x, int64_t rows, int64_t cols, bool evenRule, std::vector<uint8_t>& packed,
                   std::vector<uint8_t>& scales)
{
    const core::fmt::Mxfp4 q =
        core::fmt::mxfp4Quantize(x, rows, cols, evenRule ? core::fmt::MxRule::Even : core::fmt::MxRule::Floor);
    packed = core::fmt::packNibbles(q.codes, true);
    scales = q.scales;
}

} // namespace mq::cuda::ref
