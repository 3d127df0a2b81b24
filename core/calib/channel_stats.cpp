#include "calib/channel_stats.h"

#include "common/vector_clones.h"

#include <ATen/Parallel.h>

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mq::core {

const char* modalityName(Modality m)
{
    switch (m) {
    case Modality::Text: return "text";
    case Modality::Image: return "image";
    case Modality::Video: return "video";
    case Modality::Audio: return "audio";
    }
    return "?";
}

bool parseModality(const std::string& s, Modality* out)
{
    for (int i = 0; i < kNumModalities; ++i) {
        if (s == modalityName(Modality(i))) {
            *out = Modality(i);
            return true;
        }
    }
    return false;
}

double histBinLower(int bin)
{
    return bin <= 0 ? 0.0 : std::ldexp(1.0, bin + kHistMinExp);
}

int histBin(float a)
{
    // floor(log2 a) straight from the IEEE-754 exponent: one integer op per element, which is
    // what keeps statistics collection cheap next to the forward.
    uint32_t bits;
    std::memcpy(&bits, &a, sizeof bits);
    const int e = int((bits >> 23) & 0xffu) - 127;
    return std::clamp(e - kHistMinExp, 0, kHistBins - 1);
}

void ChannelStats::reset(int64_t k)
{
    channels = k;
    count = 0;
    min.assign(size_t(k), std::numeric_limits<float>::infinity());
    max.assign(size_t(k), -std::numeric_limits<float>::infinity());
    sumAbs.assign(size_t(k), 0.0);
    sumSq.assign(size_t(k), 0.0);
    hist.assign(size_t(k) * kHistBins, 0u);
}

namespace {

constexpr int64_t kTile = 128, kRowBlock = 16;

// Channels [c0, c1) of rows x [rows, k]. Within the range the work goes in blocks of kRowBlock
// rows by kTile channels: the tile's accumulators and histograms stay in L1 while the block's
// rows pass, and a whole range's histograms (160 bytes a channel: 3 MB at 18944 channels) are
// swept once a row block instead of once a row (bench_stats, bench/README.md). The vector clones
// give the same bits: min and max are exact, v * v of a float is exact in double (so a fused
// multiply-add rounds as the separate add does), and each channel still adds its rows in order.
MQ_VECTOR_CLONES
void accumulateRange(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                     double* psa, double* pss, uint32_t* ph)
{
    for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const int64_t r1 = std::min(rows, r0 + kRowBlock);
        for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
            const int64_t t1 = std::min(c1, t0 + kTile);
            for (int64_t r = r0; r < r1; ++r) {
                const float* row = x + r * k;
                for (int64_t c = t0; c < t1; ++c) {
                    const float v = row[c];
                    plo[c] = std::min(plo[c], v);
                    phi[c] = std::max(phi[c], v);
                    psa[c] += double(std::fabs(v));
                    pss[c] += double(v) * double(v);
                }
                // The bins first, in a loop that vectorizes (histBin is inlined here), then one
                // increment each.
                int32_t slot[kTile];
                const int64_t n = t1 - t0;
                for (int64_t i = 0; i < n; ++i)
                    slot[i] = int32_t(i) * kHistBins + histBin(std::fabs(row[t0 + i]));
                uint32_t* tileHist = ph + t0 * kHistBins;
                for (int64_t i = 0; i < n; ++i)
                    ++tileHist[slot[i]];
            }
        }
    }
}

} // namespace

void ChannelStats::accumulate(const float* x, int64_t rows, const std::string& what)
{
    const int64_t k = channels;
    if (k == 0 || rows == 0)
        return;
    // Per-call partial results, folded into the totals only once the whole batch is known to be
    // finite: a NaN or Inf shows up in the partial sums and is reported with the stats unchanged.
    std::vector<float> lo(min), hi(max);
    std::vector<double> sa(size_t(k), 0.0), ss(size_t(k), 0.0);
    std::vector<uint32_t> h(size_t(k) * kHistBins, 0u);
    float* plo = lo.data();
    float* phi = hi.data();
    double* psa = sa.data();
    double* pss = ss.data();
    // Channels are independent: threads take channel ranges, each channel still sums its rows
    // in row order, so the result does not depend on the thread count.
    uint32_t* ph = h.data();
    at::parallel_for(0, k, 512, [&](int64_t c0, int64_t c1) {
        accumulateRange(x, rows, k, c0, c1, plo, phi, psa, pss, ph);
    });
    for (int64_t c = 0; c < k; ++c) {
        if (!std::isfinite(psa[c]) || !std::isfinite(pss[c])) {
            for (int64_t r = 0; r < rows; ++r) {
                if (!std::isfinite(x[r * k + c]))
                    throw NonFiniteInput(what + ": non-finite value (" + std::to_string(x[r * k + c])
                                     + ") at row " + std::to_string(r) + ", channel " + std::to_string(c)
                                     + "; calibration data must produce finite activations");
            }
            throw InputError(what + ": activation sums are not finite in channel " + std::to_string(c));
        }
    }
    min.swap(lo);
    max.swap(hi);
    for (int64_t c = 0; c < k; ++c) {
        sumAbs[c] += psa[c];
        sumSq[c] += pss[c];
    }
    for (size_t i = 0; i < h.size(); ++i)
        hist[i] += h[i];
    count += rows;
}

void ChannelStats::merge(const ChannelStats& o)
{
    if (o.count == 0)
        return;
    if (count == 0 && channels == 0)
        reset(o.channels);
    if (o.channels != channels)
        throw Error("cannot merge statistics of " + std::to_string(o.channels) + " channels into "
                    + std::to_string(channels));
    for (int64_t c = 0; c < channels; ++c) {
        min[c] = std::min(min[c], o.min[c]);
        max[c] = std::max(max[c], o.max[c]);
        sumAbs[c] += o.sumAbs[c];
        sumSq[c] += o.sumSq[c];
    }
    for (size_t i = 0; i < hist.size(); ++i)
        hist[i] += o.hist[i];
    count += o.count;
}

double ChannelStats::absMax(int64_t c) const
{
    return count ? std::max(std::fabs(double(min[c])), std::fabs(double(max[c]))) : 0.0;
}

std::vector<double> dispersionScores(const ChannelStats& s, DispersionForm form)
{
    std::vector<double> d(size_t(s.channels), 0.0);
    if (s.count == 0)
        return d;
    for (int64_t c = 0; c < s.channels; ++c) {
        const double range = std::fabs(double(s.max[c]) - double(s.min[c]));
        const double denom = form == DispersionForm::Paper ? std::log(s.sumAbs[c] + 1e-5)
                                                           : std::log(1.0 + s.meanAbs(c) + 1e-5);
        d[c] = denom != 0.0 ? range / denom : 0.0;
    }
    return d;
}

namespace {
double quantileSorted(const std::vector<double>& v, double q)
{
    const double pos = q * double(v.size() - 1);
    const size_t i = size_t(pos);
    const double f = pos - double(i);
    return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}
} // namespace

BoxSummary boxSummary(std::vector<double> v)
{
    BoxSummary b;
    if (v.empty())
        return b;
    std::sort(v.begin(), v.end());
    b.q1 = quantileSorted(v, 0.25);
    b.median = quantileSorted(v, 0.5);
    b.q3 = quantileSorted(v, 0.75);
    const double iqr = b.q3 - b.q1;
    const double lo = b.q1 - 1.5 * iqr, hi = b.q3 + 1.5 * iqr;
    b.lowerWhisker = b.q1;
    b.upperWhisker = b.q3;
    for (double x : v) {
        if (x < lo || x > hi) {
            b.outliers.push_back(x);
        } else {
            b.lowerWhisker = std::min(b.lowerWhisker, x);
            b.upperWhisker = std::max(b.upperWhisker, x);
        }
    }
    return b;
}

} // namespace mq::core
