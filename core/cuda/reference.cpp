// CPU references of the statistics, grid scoring and FP4 kernels (reference.h).
#include "cuda/reference.h"

#include "quant/formats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

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
    // As ChannelStats::accumulate: each call's sums start at 0 and are added to the totals at
    // its end (so two calls round as the engine's two calls do).
    std::vector<double> sa(s.sumAbs.size(), 0.0), ss(s.sumSq.size(), 0.0);
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
            sa[i] += double(std::fabs(v));
            ss[i] += double(v) * double(v);
            ++s.hist[i * kHistBins + size_t(histBin(std::fabs(v)))];
        }
    }
    for (size_t i = 0; i < sa.size(); ++i) {
        s.sumAbs[i] += sa[i];
        s.sumSq[i] += ss[i];
    }
}

std::vector<float> gridScores(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask,
                              const std::vector<double>& ratios, const GridParams& prm)
{
    const int64_t n = int64_t(ratios.size());
    const float qmax = float((1 << (prm.abits - 1)) - 1);
    const double rho = prm.rho, p = prm.p;
    const int form = p == 2.0 ? 2 : p == 1.0 ? 1 : p == 3.0 ? 3 : p == 4.0 ? 4 : p == 0.5 ? 5 : 0;
    const float pf = float(p);
    constexpr float kMagic = 12582912.0f;
    std::vector<float> out(size_t(n * K));
    const size_t k = size_t(K);
    std::vector<float> alpha(k), scale(k), thr(k), h(k);
    std::vector<uint8_t> always(k);
    std::vector<double> err(k);
    for (int64_t j = 0; j < n; ++j) {
        for (int64_t c = 0; c < K; ++c) {
            alpha[size_t(c)] = float(alpha0[c] * ratios[size_t(j)]);
            scale[size_t(c)] = std::max(alpha[size_t(c)] / qmax, 1e-12f);
            thr[size_t(c)] = mask[c] > 0.5f ? float(rho) * alpha[size_t(c)] : INFINITY;
            always[size_t(c)] = rho > 0.0 ? 0 : (thr[size_t(c)] == 0.0f ? 1 : 0);
            err[size_t(c)] = 0.0;
        }
        double cosSum = 0.0;
        for (int64_t t = 0; t < T; ++t) {
            const float* row = x + t * K;
            for (int64_t c = 0; c < K; ++c) {
                const size_t i = size_t(c);
                const float v = row[c];
                float u = v / scale[i];
                u = u < -qmax ? -qmax : (u > qmax ? qmax : u);
                float q = ((u + kMagic) - kMagic) * scale[i];
                q = q < -alpha[i] ? -alpha[i] : (q > alpha[i] ? alpha[i] : q);
                const bool keep = rho > 0.0 ? std::fabs(v) > thr[i] : always[i] != 0;
                h[i] = keep ? v : q;
                const double d = double(v) - double(h[i]);
                switch (form) {
                case 2: err[i] += d * d; break;
                case 1: err[i] += std::fabs(d); break;
                case 3: { const double a = std::fabs(d); err[i] += a * a * a; } break;
                case 4: err[i] += (d * d) * (d * d); break;
                case 5: err[i] += std::sqrt(std::fabs(d)); break;
                default: {
                    const double a = std::fabs(d);
                    if (a != 0.0)
                        err[i] += double(std::pow(float(a), pf));
                }
                }
            }
            // The cosine's three sums in gridScoresCpu's order: four interleaved lanes.
            double dot4[4] = {0, 0, 0, 0}, nx4[4] = {0, 0, 0, 0}, nh4[4] = {0, 0, 0, 0};
            int64_t c = 0;
            for (; c + 4 <= K; c += 4) {
                for (int l = 0; l < 4; ++l) {
                    const double v = row[c + l], hv = h[size_t(c + l)];
                    dot4[l] += v * hv;
                    nx4[l] += v * v;
                    nh4[l] += hv * hv;
                }
            }
            for (; c < K; ++c) {
                const double v = row[c], hv = h[size_t(c)];
                dot4[0] += v * hv;
                nx4[0] += v * v;
                nh4[0] += hv * hv;
            }
            const double dot = (dot4[0] + dot4[1]) + (dot4[2] + dot4[3]);
            const double nx = (nx4[0] + nx4[1]) + (nx4[2] + nx4[3]);
            const double nh = (nh4[0] + nh4[1]) + (nh4[2] + nh4[3]);
            cosSum += dot / std::sqrt(std::max(nx * nh, 1e-16));
        }
        const double tDiv = double(std::max<int64_t>(T, 1));
        const double cosLoss = 1.0 - cosSum / tDiv;
        for (int64_t c = 0; c < K; ++c)
            out[size_t(j * K + c)] = float(err[size_t(c)] / tDiv + prm.lambdaCos * cosLoss);
    }
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
