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

// Channels [c0, c1) of rows x [rows, k], in blocks of at most kRowBlock rows by kTile channels.
// ph is the call's histogram bin-major ([kHistBins, k]: a bin's counts of neighbouring channels
// side by side). The vector clones give the same bits as a loop over elements: min and max are
// exact, v * v of a float is exact in double (so a fused multiply-add rounds as the separate add
// does), and each channel still adds its rows in row order.
//
// Min, max and the two sums of 32 channels at a time are kept in vector registers while the
// block's rows pass (eight independent float64 sums each, so that the adds' latency is hidden);
// a last tile narrower than 32 goes element by element.
//
// The histogram is counted without a scattered increment per element (which was most of the
// pass: bench/README.md, "the floor"). Each row of a tile leaves its 64 bins as bytes; then for
// every bin the block has, a 64-byte vector of counters goes down the block's rows adding
// (bin == b) lane by lane (four bins a pass), and is added to the histogram once. A block of at
// most 255 rows cannot overflow a byte. Exact counts: the histogram of counting element by element.
constexpr int64_t kTile = 64, kHalf = 32, kRowBlock = 255;
typedef uint8_t Bins64 __attribute__((vector_size(64)));
typedef uint8_t Bins16 __attribute__((vector_size(16)));
typedef float Float16 __attribute__((vector_size(64)));
typedef float Float8 __attribute__((vector_size(32)));
typedef double Double8 __attribute__((vector_size(64)));
typedef uint32_t UInt16 __attribute__((vector_size(64)));
typedef int64_t Int64x8 __attribute__((vector_size(64)));

MQ_BYTE_VECTOR_CLONES
void accumulateRange(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                     double* psa, double* pss, uint32_t* ph)
{
    alignas(64) uint8_t bins[kRowBlock][kTile];
    // Blocks of equal size (2056 rows: 9 of 228 or 229, not 8 of 255 and one of 16).
    const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t r0 = rows * blk / blocks, nr = rows * (blk + 1) / blocks - r0;
        for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
            const int64_t n = std::min(c1 - t0, kTile);
            for (int64_t h0 = 0; h0 < n; h0 += kHalf) {
                const int64_t m = std::min(n - h0, kHalf), c = t0 + h0;
                if (m == kHalf) {
                    Float16 lo[2], hi[2];
                    Double8 sa[4], ss[4];
                    std::memcpy(lo, plo + c, sizeof lo);
                    std::memcpy(hi, phi + c, sizeof hi);
                    std::memcpy(sa, psa + c, sizeof sa);
                    std::memcpy(ss, pss + c, sizeof ss);
                    for (int64_t r = 0; r < nr; ++r) {
                        const float* row = x + (r0 + r) * k + c;
                        if (r + 8 < nr) {
                            __builtin_prefetch(row + 8 * k);
                            __builtin_prefetch(row + 8 * k + 16);
                        }
                        for (int q = 0; q < 2; ++q) {
                            Float16 v;
                            std::memcpy(&v, row + 16 * q, sizeof v);
                            lo[q] = v < lo[q] ? v : lo[q]; // std::min(lo, v), NaN included
                            hi[q] = hi[q] < v ? v : hi[q]; // std::max(hi, v)
                            // Each half of eight converted straight from memory (one
                            // instruction, where converting halves of a register takes four).
                            for (int j = 0; j < 2; ++j) {
                                Float8 h;
                                std::memcpy(&h, row + 16 * q + 8 * j, sizeof h);
                                Double8 a = __builtin_convertvector(h, Double8);
                                Int64x8 abits;
                                std::memcpy(&abits, &a, sizeof abits);
                                abits &= 0x7fffffffffffffffLL; // |v|, exact in double
                                std::memcpy(&a, &abits, sizeof a);
                                sa[2 * q + j] += a;
                                ss[2 * q + j] += a * a;
                            }
                            // The exponent field of |v| as a byte (histBin clamps it below).
                            UInt16 bits;
                            std::memcpy(&bits, &v, sizeof bits);
                            const Bins16 b = __builtin_convertvector((bits << 1) >> 24, Bins16);
                            std::memcpy(bins[r] + h0 + 16 * q, &b, sizeof b);
                        }
                    }
                    std::memcpy(plo + c, lo, sizeof lo);
                    std::memcpy(phi + c, hi, sizeof hi);
                    std::memcpy(psa + c, sa, sizeof sa);
                    std::memcpy(pss + c, ss, sizeof ss);
                } else {
                    for (int64_t r = 0; r < nr; ++r) {
                        const float* row = x + (r0 + r) * k + c;
                        for (int64_t i = 0; i < m; ++i) {
                            const float v = row[i];
                            plo[c + i] = std::min(plo[c + i], v);
                            phi[c + i] = std::max(phi[c + i], v);
                            psa[c + i] += double(std::fabs(v));
                            pss[c + i] += double(v) * double(v);
                        }
                        uint8_t* b = bins[r] + h0;
                        for (int64_t i = 0; i < m; ++i) {
                            uint32_t bits;
                            std::memcpy(&bits, row + i, sizeof bits);
                            b[i] = uint8_t((bits << 1) >> 24);
                        }
                    }
                }
            }
            // Lanes past the tile's last channel repeat a bin the row has (so they do not widen
            // the span below) and are never added to the histogram.
            if (n < kTile)
                for (int64_t r = 0; r < nr; ++r)
                    for (int64_t i = n; i < kTile; ++i)
                        bins[r][i] = bins[r][0];
            // Exponent bytes to bins, 64 at a time: histBin's clamp (less the first bin's
            // exponent, below it 0, past the last bin the last); and the span of bins in the
            // block, lane-wise over the rows, then across the lanes.
            const Bins64 zero = Bins64{}, first = zero + uint8_t(127 + kHistMinExp),
                         last = zero + uint8_t(kHistBins - 1);
            Bins64 vlo = zero + uint8_t(255), vhi = zero;
            for (int64_t r = 0; r < nr; ++r) {
                Bins64 e;
                std::memcpy(&e, bins[r], sizeof e);
                e = (e > first ? e : first) - first;
                e = e < last ? e : last;
                std::memcpy(bins[r], &e, sizeof e);
                vlo = e < vlo ? e : vlo;
                vhi = e > vhi ? e : vhi;
            }
            uint8_t lo = 255, hi = 0;
            for (int i = 0; i < kTile; ++i) {
                lo = std::min(lo, vlo[i]);
                hi = std::max(hi, vhi[i]);
            }
            const Bins64 one = zero + uint8_t(1);
            for (int b = lo; b <= hi; b += 4) {
                const Bins64 w0 = zero + uint8_t(b), w1 = w0 + one, w2 = w1 + one, w3 = w2 + one;
                Bins64 n0 = zero, n1 = zero, n2 = zero, n3 = zero;
                for (int64_t r = 0; r < nr; ++r) {
                    Bins64 e;
                    std::memcpy(&e, bins[r], sizeof e);
                    n0 = e == w0 ? n0 + one : n0;
                    n1 = e == w1 ? n1 + one : n1;
                    n2 = e == w2 ? n2 + one : n2;
                    n3 = e == w3 ? n3 + one : n3;
                }
                const Bins64 counts[4] = {n0, n1, n2, n3};
                for (int j = 0; j < 4 && b + j <= hi; ++j) {
                    uint32_t* h = ph + int64_t(b + j) * k + t0;
                    for (int64_t i = 0; i < n; ++i)
                        h[i] += counts[j][i];
                }
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
    // Channels are independent: threads take ranges of whole 32-channel units (so that each
    // range keeps the vector path), each channel still sums its rows in row order, so the result
    // does not depend on the thread count. At least 512 channels a range: splitting stories260K's
    // 64 and 172 made the inline pass slower at 2 threads (the second core is busy with
    // OpenBLAS's own thread between GEMMs; bench/README.md).
    uint32_t* ph = h.data();
    const int64_t units = (k + kHalf - 1) / kHalf;
    at::parallel_for(0, units, 512 / kHalf, [&](int64_t u0, int64_t u1) {
        accumulateRange(x, rows, k, u0 * kHalf, std::min(k, u1 * kHalf), plo, phi, psa, pss, ph);
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
