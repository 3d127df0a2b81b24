#include "calib/channel_stats.h"

#include "common/vector_clones.h"

#include <ATen/Parallel.h>

#include "common/error.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MQ_STATS_VBMI_KERNEL 1
#include <immintrin.h>
#else
#define MQ_STATS_VBMI_KERNEL 0
#endif

#include <algorithm>
#include <atomic>
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

#if MQ_STATS_VBMI_KERNEL
// accumulateRange again, written for AVX-512 with VBMI (Ice Lake and later, Zen 4 and later),
// about 40% fewer instructions (bench/README.md, "The statistics pass with VBMI"); the same bits.
// - The exponent bytes of 64 channels come out of four 16-float vectors with four
//   VPMULTISHIFTQB (one each) instead of two shifts and a pack per vector. A byte can only come
//   from its own 64-bit lane, so a row's 64 bytes are in lane order kLaneOf (channel c of the
//   tile at byte kLaneOf[c]); counting does not care, and the counts are put back in channel
//   order by one VPERMB per bin and block.
// - Counting: for each window of 8 bins the block has, VPERMB turns a row's bins into one bit
//   per (channel, bin) (a one-hot byte), and a carry-save adder tree (Harley and Seal's, with
//   VPTERNLOG) adds 16 rows at a time into eight bit planes: the count of bin j of a lane is
//   the sum over planes p of bit j of plane p times 2^p (at most 255: a block's rows).
//   About 2.5 instructions per row and window of 8 bins, against 2 per bin.
#define MQ_STATS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi")))
// GCC 12 warns about the intrinsics' own _mm512_undefined_* operands (its bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Byte position of channel c (0..63) of a tile in its row of bins: channel 16 v + 2 q + i
// (vector v of the tile's four, 64-bit lane q, float i of that lane) is byte 8 q + 2 v + i.
constexpr uint8_t laneOf(int c)
{
    return uint8_t(8 * ((c % 16) / 2) + 2 * (c / 16) + c % 2);
}

MQ_STATS_TARGET inline void csa(__m512i& high, __m512i& low, __m512i a, __m512i b, __m512i c)
{
    high = _mm512_ternarylogic_epi64(a, b, c, 0xE8); // majority
    low = _mm512_ternarylogic_epi64(a, b, c, 0x96);  // a ^ b ^ c
}

// Channels [c, c + m) (m <= 32) of rows r0.. r0 + nr: min, max and the two sums in vector
// registers, and the exponent bytes of the channels to bins[r] at the lanes of the tile's vectors
// v and v + 1. A half narrower than 32 goes through the same vector code with masked loads and
// stores (its absent lanes' bytes are left out of the block's span and never counted).
MQ_STATS_TARGET
void halfPass(const float* x, int64_t k, int64_t r0, int64_t nr, int64_t c, int64_t m, int v, float* plo, float* phi,
              double* psa, double* pss, uint8_t (*bins)[kTile])
{
    const __mmask16 mq[2] = {__mmask16(m >= 16 ? 0xffffu : (1u << m) - 1u),
                             __mmask16(m >= 32 ? 0xffffu : m > 16 ? (1u << (m - 16)) - 1u : 0u)};
    const __mmask8 md[4] = {__mmask8(mq[0]), __mmask8(mq[0] >> 8), __mmask8(mq[1]), __mmask8(mq[1] >> 8)};
    __m512 lo[2], hi[2];
    __m512d sa[4], ss[4];
    for (int q = 0; q < 2; ++q) {
        lo[q] = _mm512_maskz_loadu_ps(mq[q], plo + c + 16 * q);
        hi[q] = _mm512_maskz_loadu_ps(mq[q], phi + c + 16 * q);
    }
    for (int j = 0; j < 4; ++j) {
        sa[j] = _mm512_maskz_loadu_pd(md[j], psa + c + 8 * j);
        ss[j] = _mm512_maskz_loadu_pd(md[j], pss + c + 8 * j);
    }
    const __m512i absMask = _mm512_set1_epi64(0x7fffffffffffffffLL);
    // Exponent field of float i of each 64-bit lane of vector v (bits 23..30 and 55..62) to
    // bytes 2 v + i of the lane.
    const __m512i shift0 = _mm512_set1_epi64(int64_t(uint64_t(23u | (55u << 8)) << (16 * v)));
    const __m512i shift1 = _mm512_set1_epi64(int64_t(uint64_t(23u | (55u << 8)) << (16 * (v + 1))));
    const __mmask64 lanes0 = __mmask64(0x0303030303030303ull << (2 * v)), lanes1 = __mmask64(lanes0 << 2);
    for (int64_t r = 0; r < nr; ++r) {
        const float* row = x + (r0 + r) * k + c;
        if (r + 8 < nr) {
            __builtin_prefetch(row + 8 * k);
            __builtin_prefetch(row + 8 * k + 16);
        }
        const __m512 v0 = _mm512_maskz_loadu_ps(mq[0], row), v1 = _mm512_maskz_loadu_ps(mq[1], row + 16);
        lo[0] = _mm512_min_ps(v0, lo[0]); // v < lo ? v : lo, as std::min(lo, v)
        hi[0] = _mm512_max_ps(v0, hi[0]); // v > hi ? v : hi, as std::max(hi, v)
        lo[1] = _mm512_min_ps(v1, lo[1]);
        hi[1] = _mm512_max_ps(v1, hi[1]);
        // Each half of eight converted straight from memory (one instruction, where converting
        // halves of a register takes more).
        for (int j = 0; j < 4; ++j) {
            __m512d a = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(md[j], row + 8 * j));
            a = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(a), absMask)); // |v|, exact
            sa[j] = _mm512_add_pd(sa[j], a);
            ss[j] = _mm512_fmadd_pd(a, a, ss[j]); // v * v is exact in double: as the separate add
        }
        __m512i e = _mm512_maskz_multishift_epi64_epi8(lanes0, shift0, _mm512_castps_si512(v0));
        e = _mm512_mask_multishift_epi64_epi8(e, lanes1, shift1, _mm512_castps_si512(v1));
        _mm512_mask_storeu_epi8(bins[r], lanes0 | lanes1, e);
    }
    for (int q = 0; q < 2; ++q) {
        _mm512_mask_storeu_ps(plo + c + 16 * q, mq[q], lo[q]);
        _mm512_mask_storeu_ps(phi + c + 16 * q, mq[q], hi[q]);
    }
    for (int j = 0; j < 4; ++j) {
        _mm512_mask_storeu_pd(psa + c + 8 * j, md[j], sa[j]);
        _mm512_mask_storeu_pd(pss + c + 8 * j, md[j], ss[j]);
    }
}

MQ_STATS_TARGET
void accumulateRangeVbmi(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                         double* psa, double* pss, uint32_t* ph)
{
    // Rows of bins past a block's last are 0xff, which no window's table maps to a bit. Zeroed
    // once: a tile of at most 32 channels leaves the other lanes unwritten.
    alignas(64) uint8_t bins[kRowBlock + 16][kTile];
    std::memset(bins, 0, sizeof bins);
    alignas(64) uint8_t laneOrder[kTile];
    for (int c = 0; c < kTile; ++c)
        laneOrder[c] = laneOf(c);
    const __m512i toChannels = _mm512_load_si512(laneOrder);
    const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t r0 = rows * blk / blocks, nr = rows * (blk + 1) / blocks - r0;
        for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
            const int64_t n = std::min(c1 - t0, kTile);
            for (int64_t h0 = 0; h0 < n; h0 += kHalf)
                halfPass(x, k, r0, nr, t0 + h0, std::min(n - h0, kHalf), int(h0 / 16), plo, phi, psa, pss, bins);
            __mmask64 valid = 0;
            for (int64_t i = 0; i < n; ++i)
                valid |= __mmask64(1) << laneOrder[i];
            // Exponent bytes to bins (histBin's clamp: less the first bin's exponent, saturating
            // at 0, at most the last bin) and the span of bins in the block.
            const __m512i first = _mm512_set1_epi8(char(127 + kHistMinExp)), last = _mm512_set1_epi8(kHistBins - 1);
            __m512i vlo = _mm512_set1_epi8(char(0xff)), vhi = _mm512_setzero_si512();
            for (int64_t r = 0; r < nr; ++r) {
                __m512i e = _mm512_load_si512(bins[r]);
                e = _mm512_min_epu8(_mm512_subs_epu8(e, first), last);
                _mm512_store_si512(bins[r], e);
                vlo = _mm512_mask_min_epu8(vlo, valid, vlo, e);
                vhi = _mm512_mask_max_epu8(vhi, valid, vhi, e);
            }
            const int64_t padded = (nr + 15) / 16 * 16;
            for (int64_t r = nr; r < padded; ++r)
                _mm512_store_si512(bins[r], _mm512_set1_epi8(char(0xff)));
            alignas(64) uint8_t los[kTile], his[kTile];
            _mm512_store_si512(los, vlo);
            _mm512_store_si512(his, vhi);
            int lo = 255, hi = 0;
            for (int i = 0; i < kTile; ++i) {
                lo = std::min(lo, int(los[i]));
                hi = std::max(hi, int(his[i]));
            }
            for (int base = lo; base <= hi; base += 8) {
                alignas(64) uint8_t oneHot[kTile] = {};
                for (int j = 0; j < 8 && base + j < kHistBins; ++j)
                    oneHot[base + j] = uint8_t(1u << j);
                const __m512i table = _mm512_load_si512(oneHot);
                const __m512i zero = _mm512_setzero_si512();
                __m512i p[8] = {zero, zero, zero, zero, zero, zero, zero, zero};
                for (int64_t g = 0; g < padded; g += 16) {
                    __m512i d[16];
                    for (int j = 0; j < 16; ++j)
                        d[j] = _mm512_permutexvar_epi8(_mm512_load_si512(bins[g + j]), table);
                    __m512i twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
                    csa(twosA, p[0], p[0], d[0], d[1]);
                    csa(twosB, p[0], p[0], d[2], d[3]);
                    csa(foursA, p[1], p[1], twosA, twosB);
                    csa(twosA, p[0], p[0], d[4], d[5]);
                    csa(twosB, p[0], p[0], d[6], d[7]);
                    csa(foursB, p[1], p[1], twosA, twosB);
                    csa(eightsA, p[2], p[2], foursA, foursB);
                    csa(twosA, p[0], p[0], d[8], d[9]);
                    csa(twosB, p[0], p[0], d[10], d[11]);
                    csa(foursA, p[1], p[1], twosA, twosB);
                    csa(twosA, p[0], p[0], d[12], d[13]);
                    csa(twosB, p[0], p[0], d[14], d[15]);
                    csa(foursB, p[1], p[1], twosA, twosB);
                    csa(eightsB, p[2], p[2], foursA, foursB);
                    csa(sixteens, p[3], p[3], eightsA, eightsB);
                    // Sixteens ripple into planes 4..7 (a block's at most 255 rows never carry out).
                    for (int b = 4; b < 8; ++b) {
                        const __m512i carry = _mm512_and_si512(p[b], sixteens);
                        p[b] = _mm512_xor_si512(p[b], sixteens);
                        sixteens = carry;
                    }
                }
                for (int j = 0; j < 8 && base + j <= hi; ++j) {
                    const __m512i bit = _mm512_set1_epi8(char(1u << j));
                    __m512i count = zero;
                    for (int b = 0; b < 8; ++b)
                        count = _mm512_mask_add_epi8(count, _mm512_test_epi8_mask(p[b], bit), count,
                                                     _mm512_set1_epi8(char(1u << b)));
                    alignas(64) uint8_t counts[kTile];
                    _mm512_store_si512(counts, _mm512_permutexvar_epi8(toChannels, count));
                    uint32_t* h = ph + int64_t(base + j) * k + t0;
                    for (int64_t i = 0; i < n; ++i)
                        h[i] += counts[i];
                }
            }
        }
    }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool vbmiKernelAvailable()
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi");
}
#endif

std::atomic<int> g_kernel{-1}; // -1: not chosen yet; else a StatsKernel

StatsKernel chosenKernel()
{
    int k = g_kernel.load(std::memory_order_relaxed);
    if (k < 0) {
#if MQ_STATS_VBMI_KERNEL
        k = int(vbmiKernelAvailable() ? StatsKernel::Vbmi : StatsKernel::Portable);
#else
        k = int(StatsKernel::Portable);
#endif
        g_kernel.store(k, std::memory_order_relaxed);
    }
    return StatsKernel(k);
}

} // namespace

StatsKernel statsKernel()
{
    return chosenKernel();
}

bool setStatsKernel(StatsKernel kernel)
{
#if MQ_STATS_VBMI_KERNEL
    if (kernel == StatsKernel::Vbmi && !vbmiKernelAvailable())
        return false;
#else
    if (kernel == StatsKernel::Vbmi)
        return false;
#endif
    g_kernel.store(int(kernel), std::memory_order_relaxed);
    return true;
}

const char* statsKernelName(StatsKernel kernel)
{
    return kernel == StatsKernel::Vbmi ? "avx512-vbmi" : "portable";
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
    const int64_t units = (k + kHalf - 1) / kHalf;
    const bool vbmi = chosenKernel() == StatsKernel::Vbmi;
    at::parallel_for(0, units, 512 / kHalf, [&](int64_t u0, int64_t u1) {
#if MQ_STATS_VBMI_KERNEL
        if (vbmi) {
            accumulateRangeVbmi(x, rows, k, u0 * kHalf, std::min(k, u1 * kHalf), plo, phi, psa, pss, ph);
            return;
        }
#endif
        (void)vbmi;
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
