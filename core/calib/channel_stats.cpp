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

void ChannelStats::accumulate(const float* x, int64_t rows, const std::string& what, const RowMaker& make)
{
    const int64_t k = channels;
    if (rows == 0)
        return;
    if (k == 0) {
        if (make)
            make(0, rows);
        return;
    }
    // Per-call partial results, folded into the totals only once the whole batch is known to be
    // finite: a NaN or Inf shows up in the partial sums and is reported with the stats unchanged.
    std::vector<float> lo(min), hi(max);
    std::vector<double> sa(size_t(k), 0.0), ss(size_t(k), 0.0);
    std::vector<uint32_t> h(size_t(k) * kHistBins, 0u);
    float* plo = lo.data();
    float* phi = hi.data();
    double* psa = sa.data();
    double* pss = ss.data();
    uint32_t* ph = h.data();
    const int64_t units = (k + kStatsUnit - 1) / kStatsUnit;
    const int64_t chunks = statsChunks(rows);
    const StatsKernel kernel = statsKernel();
    const int threads = at::get_num_threads();
    // Each chunk of kStatsChunkRows rows sums its rows in row order from 0; the call's sums add
    // the chunks' in chunk order (channel_stats.h). Threads take either whole chunks (an input
    // of at most 512 channels, which a channel split would leave on one thread: stories260K's
    // 64 and 172) or ranges of whole 32-channel units (so that each keeps the vector path); the
    // bits are the same either way and at any thread count. Rows still to be made (`make`) go
    // by chunks at one thread too, each read right after it is made.
    constexpr int64_t kUnitsPerRange = 512 / kStatsUnit;
    if (chunks > 1 && (threads > 1 || make) && units <= kUnitsPerRange) {
        // Parts of consecutive chunks, one per thread: part p's min, max and histogram in its own
        // buffers (part 0 in the call's), each chunk's sums in its row of csa / css. Merged in
        // order below: min, max and counts are order-free but for the sign of a zero in min and
        // max, which std::min / std::max take from the first of equal values, as the rows' order does.
        const int64_t parts = std::min<int64_t>(threads, chunks);
        const size_t others = size_t(parts - 1);
        std::vector<double> csa(size_t(chunks * k), 0.0), css(size_t(chunks * k), 0.0);
        std::vector<float> tlo(others * size_t(k), std::numeric_limits<float>::infinity());
        std::vector<float> thi(others * size_t(k), -std::numeric_limits<float>::infinity());
        std::vector<uint32_t> th(others * size_t(k) * kHistBins, 0u);
        at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
            for (int64_t p = p0; p < p1; ++p) {
                const size_t o = size_t(p - 1) * size_t(k); // part p > 0's place in the buffers
                float* l = p == 0 ? plo : tlo.data() + o;
                float* u = p == 0 ? phi : thi.data() + o;
                uint32_t* hh = p == 0 ? ph : th.data() + o * kHistBins;
                for (int64_t j = chunks * p / parts; j < chunks * (p + 1) / parts; ++j) {
                    int64_t r0, nr;
                    statsChunk(rows, j, r0, nr);
                    if (make)
                        make(r0, r0 + nr);
                    accumulateStatsRange(kernel, x + r0 * k, nr, k, 0, k, l, u, csa.data() + j * k, css.data() + j * k,
                                         hh);
                }
            }
        });
        for (size_t t = 0; t < others; ++t) {
            const float* l = tlo.data() + t * size_t(k);
            const float* u = thi.data() + t * size_t(k);
            for (int64_t c = 0; c < k; ++c) {
                plo[c] = std::min(plo[c], l[c]);
                phi[c] = std::max(phi[c], u[c]);
            }
            const uint32_t* hh = th.data() + t * size_t(k) * kHistBins;
            for (size_t i = 0; i < h.size(); ++i)
                ph[i] += hh[i];
        }
        for (int64_t j = 0; j < chunks; ++j)
            for (int64_t c = 0; c < k; ++c) {
                psa[c] += csa[size_t(j * k + c)];
                pss[c] += css[size_t(j * k + c)];
            }
    } else {
        if (make) // a wide input's threads take channels: every row made first
            at::parallel_for(0, chunks, 1, [&](int64_t j0, int64_t j1) {
                for (int64_t j = j0; j < j1; ++j) {
                    int64_t r0, nr;
                    statsChunk(rows, j, r0, nr);
                    make(r0, r0 + nr);
                }
            });
        at::parallel_for(0, units, kUnitsPerRange, [&](int64_t u0, int64_t u1) {
            accumulateStatsRange(kernel, x, rows, k, u0 * kStatsUnit, std::min(k, u1 * kStatsUnit), plo, phi, psa, pss,
                                 ph);
        });
    }
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
