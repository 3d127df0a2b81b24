#include "calib/channel_stats.h"

#include "calib/stats_kernels.h"

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
    // Channels are independent: threads take ranges of whole 32-channel units (so that each
    // range keeps the vector path), each channel still sums its rows in row order, so the result
    // does not depend on the thread count. At least 512 channels a range: splitting stories260K's
    // 64 and 172 made the inline pass slower at 2 threads (the second core is busy with
    // OpenBLAS's own thread between GEMMs; bench/README.md).
    uint32_t* ph = h.data();
    const int64_t units = (k + kStatsUnit - 1) / kStatsUnit;
    const StatsKernel kernel = statsKernel();
    at::parallel_for(0, units, 512 / kStatsUnit, [&](int64_t u0, int64_t u1) {
        accumulateStatsRange(kernel, x, rows, k, u0 * kStatsUnit, std::min(k, u1 * kStatsUnit), plo, phi, psa, pss, ph);
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
    for (int64_t c = 0; c < k; ++c) // the call's histogram is bin-major (accumulateRange)
        for (int b = 0; b < kHistBins; ++b)
            hist[size_t(c * kHistBins + b)] += h[size_t(b * k + c)];
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
