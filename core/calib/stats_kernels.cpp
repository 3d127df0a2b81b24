// The statistics pass's kernels: ChannelStats::accumulate's work on a range of channels, one
// kernel per instruction set, chosen at run time by what the CPU has (statsKernel()).
//
// Every kernel gives the bits of the element-by-element definition (accumulateScalar):
// - min and max are exact, and the vector min/max keep std::min / std::max's choice for NaN;
// - sum |x| and sum x^2 are float64: each chunk of kStatsChunkRows rows (from the first row) is
//   summed from 0 in row order, and the chunks' sums are added to psa / pss in order (v * v of a
//   float is exact in double, so a fused multiply-add rounds as the separate add does);
// - the histogram counts are exact integers.
// tst_calib checks each kernel the CPU runs against the definition at tolerance 0.
//
// The vector kernels work in blocks of one chunk's rows (at most 255) by a tile of channels, so
// that a tile's accumulators stay in registers and its bins in L1 while the block's rows pass.
// Each row of a tile leaves its channels' bins as bytes; the bins are then counted per block
// without a scattered increment per element (bench/README.md, "the floor"), which a block of at
// most 255 rows cannot overflow.
#include "calib/stats_kernels.h"

#include "common/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MQ_STATS_X86 1
#include <immintrin.h>
#else
#define MQ_STATS_X86 0
#endif

namespace mq::core {

namespace {

constexpr int64_t kRowBlock = kStatsChunkRows; // a block's rows: one chunk's
static_assert(kRowBlock <= 255 && kRowBlock % 16 == 0, "byte counters; whole groups of 16 rows");

// ---- The definition, and the kernel of CPUs without AVX2 ------------------------------------------
void accumulateScalar(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                      double* psa, double* pss, uint32_t* ph)
{
    std::vector<double> sa(size_t(c1 - c0)), ss(size_t(c1 - c0)); // a chunk's sums
    for (int64_t j = 0; j < statsChunks(rows); ++j) {
        int64_t r0, nr;
        statsChunk(rows, j, r0, nr);
        std::fill(sa.begin(), sa.end(), 0.0);
        std::fill(ss.begin(), ss.end(), 0.0);
        for (int64_t r = r0; r < r0 + nr; ++r) {
            const float* row = x + r * k;
            for (int64_t c = c0; c < c1; ++c) {
                const float v = row[c];
                plo[c] = std::min(plo[c], v);
                phi[c] = std::max(phi[c], v);
                sa[size_t(c - c0)] += double(std::fabs(v));
                ss[size_t(c - c0)] += double(v) * double(v);
                ++ph[int64_t(histBin(std::fabs(v))) * k + c];
            }
        }
        for (int64_t c = c0; c < c1; ++c) {
            psa[c] += sa[size_t(c - c0)];
            pss[c] += ss[size_t(c - c0)];
        }
    }
}

#if MQ_STATS_X86
// GCC 12 warns (-Wmaybe-uninitialized) about the intrinsics' own _mm512_undefined_* operands.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Adds d[0..15] (one bit per lane and bin each) into the bit planes p[0..7] of the counts: a
// carry-save adder tree (Harley and Seal's) keeps planes 0..3 (ones, twos, fours, eights) and
// yields the group's sixteens, which ripple into planes 4..7 (a block's at most 255 rows never
// carry out of plane 7). CSA(high, low, a, b, c) sets low = a ^ b ^ c, high = their majority. V's
// &, ^ are GCC's and Clang's vector operators.
#define MQ_ADD_16_ROWS(V, CSA, p, d)                                                                            \
    do {                                                                                                      \
        V twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;                                           \
        CSA(twosA, p[0], p[0], d[0], d[1]);                                                                   \
        CSA(twosB, p[0], p[0], d[2], d[3]);                                                                   \
        CSA(foursA, p[1], p[1], twosA, twosB);                                                                \
        CSA(twosA, p[0], p[0], d[4], d[5]);                                                                   \
        CSA(twosB, p[0], p[0], d[6], d[7]);                                                                   \
        CSA(foursB, p[1], p[1], twosA, twosB);                                                                \
        CSA(eightsA, p[2], p[2], foursA, foursB);                                                             \
        CSA(twosA, p[0], p[0], d[8], d[9]);                                                                   \
        CSA(twosB, p[0], p[0], d[10], d[11]);                                                                 \
        CSA(foursA, p[1], p[1], twosA, twosB);                                                                \
        CSA(twosA, p[0], p[0], d[12], d[13]);                                                                 \
        CSA(twosB, p[0], p[0], d[14], d[15]);                                                                 \
        CSA(foursB, p[1], p[1], twosA, twosB);                                                                \
        CSA(eightsB, p[2], p[2], foursA, foursB);                                                             \
        CSA(sixteens, p[3], p[3], eightsA, eightsB);                                                          \
        for (int b = 4; b < 8; ++b) {                                                                         \
            const V carry = p[b] & sixteens;                                                                  \
            p[b] = p[b] ^ sixteens;                                                                           \
            sixteens = carry;                                                                                 \
        }                                                                                                     \
    } while (0)

// ---- AVX2 (with FMA): Haswell and later, Zen and later ----------------------------------------
// The AVX-512 kernels' scheme at 256 bits, with intrinsics: GCC lowers the portable kernel's
// 64-byte vectors element by element under AVX2 (30-40 ns per element, measured), so AVX2 gets its
// own. Tiles of 32 channels (one byte vector of bins a row), halves of 16 (min, max and the two
// sums of 16 channels take 12 of the 16 vector registers); the exponent bytes packed with two
// PACKUS, which leave a half's channels in the order 0-3, 8-11, 4-7, 12-15 (kLaneOfAvx2; PSHUFB
// puts the counts back); the one-hot bytes by PSHUFB; the carry-save tree with and, or, xor.
#define MQ_AVX2_TARGET __attribute__((target("avx2,fma")))

constexpr int64_t kTileAvx2 = 32, kHalfAvx2 = 16;

// Byte position of channel c (0..31) of a tile in its row of bins.
constexpr uint8_t laneOfAvx2(int c)
{
    const int w = c % 16;
    return uint8_t(16 * (c / 16) + (w < 4 ? w : w < 8 ? w + 4 : w < 12 ? w - 4 : w));
}

MQ_AVX2_TARGET inline void csaAvx2(__m256i& high, __m256i& low, __m256i a, __m256i b, __m256i c)
{
    const __m256i u = _mm256_xor_si256(a, b);
    high = _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(u, c));
    low = _mm256_xor_si256(u, c);
}

// Channels [c, c + m) (m <= 16) of rows r0 .. r0 + nr; their exponent bytes to bins[r] + offset.
// Partial: m < 16, through masked loads and stores (absent lanes read 0 and are never stored).
template <bool Partial>
MQ_AVX2_TARGET void halfPassAvx2(const float* x, int64_t k, int64_t r0, int64_t nr, int64_t c, int m, float* plo,
                                 float* phi, double* psa, double* pss, uint8_t (*bins)[kTileAvx2], int offset)
{
    const __m256i idx8 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), idx4 = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i mf[2] = {_mm256_cmpgt_epi32(_mm256_set1_epi32(m), idx8),
                           _mm256_cmpgt_epi32(_mm256_set1_epi32(m - 8), idx8)};
    const __m128i mq[4] = {_mm256_castsi256_si128(mf[0]), _mm256_extracti128_si256(mf[0], 1),
                           _mm256_castsi256_si128(mf[1]), _mm256_extracti128_si256(mf[1], 1)};
    __m256i md[4];
    for (int j = 0; j < 4; ++j)
        md[j] = _mm256_cmpgt_epi64(_mm256_set1_epi64x(m - 4 * j), idx4);
    __m256 lo[2], hi[2];
    __m256d sa[4], ss[4];
    for (int q = 0; q < 2; ++q) {
        lo[q] = Partial ? _mm256_maskload_ps(plo + c + 8 * q, mf[q]) : _mm256_loadu_ps(plo + c + 8 * q);
        hi[q] = Partial ? _mm256_maskload_ps(phi + c + 8 * q, mf[q]) : _mm256_loadu_ps(phi + c + 8 * q);
    }
    for (int j = 0; j < 4; ++j) // the chunk's sums, from 0
        sa[j] = ss[j] = _mm256_setzero_pd();
    const __m256d absMask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
    for (int64_t r = 0; r < nr; ++r) {
        const float* row = x + (r0 + r) * k + c;
        if (r + 8 < nr)
            __builtin_prefetch(row + 8 * k);
        __m256i e[2];
        for (int q = 0; q < 2; ++q) {
            const __m256 v = Partial ? _mm256_maskload_ps(row + 8 * q, mf[q]) : _mm256_loadu_ps(row + 8 * q);
            lo[q] = _mm256_min_ps(v, lo[q]); // v < lo ? v : lo, as std::min(lo, v)
            hi[q] = _mm256_max_ps(v, hi[q]); // v > hi ? v : hi, as std::max(hi, v)
            const __m256i bits = _mm256_castps_si256(v);
            e[q] = _mm256_srli_epi32(_mm256_add_epi32(bits, bits), 24); // the exponent field of |v|
        }
        for (int j = 0; j < 4; ++j) {
            const __m128 h = Partial ? _mm_maskload_ps(row + 4 * j, mq[j]) : _mm_loadu_ps(row + 4 * j);
            const __m256d a = _mm256_and_pd(_mm256_cvtps_pd(h), absMask); // |v|, exact in double
            sa[j] = _mm256_add_pd(sa[j], a);
            ss[j] = _mm256_fmadd_pd(a, a, ss[j]); // v * v is exact in double: as the separate add
        }
        const __m256i words = _mm256_packus_epi32(e[0], e[1]);
        const __m256i bytes = _mm256_permute4x64_epi64(_mm256_packus_epi16(words, words), 0x08);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bins[r] + offset), _mm256_castsi256_si128(bytes));
    }
    for (int q = 0; q < 2; ++q) {
        if (Partial) {
            _mm256_maskstore_ps(plo + c + 8 * q, mf[q], lo[q]);
            _mm256_maskstore_ps(phi + c + 8 * q, mf[q], hi[q]);
        } else {
            _mm256_storeu_ps(plo + c + 8 * q, lo[q]);
            _mm256_storeu_ps(phi + c + 8 * q, hi[q]);
        }
    }
    for (int j = 0; j < 4; ++j) { // added to the sums of the chunks before
        if (Partial) {
            const __m256d a = _mm256_add_pd(_mm256_maskload_pd(psa + c + 4 * j, md[j]), sa[j]);
            const __m256d b = _mm256_add_pd(_mm256_maskload_pd(pss + c + 4 * j, md[j]), ss[j]);
            _mm256_maskstore_pd(psa + c + 4 * j, md[j], a);
            _mm256_maskstore_pd(pss + c + 4 * j, md[j], b);
        } else {
            _mm256_storeu_pd(psa + c + 4 * j, _mm256_add_pd(_mm256_loadu_pd(psa + c + 4 * j), sa[j]));
            _mm256_storeu_pd(pss + c + 4 * j, _mm256_add_pd(_mm256_loadu_pd(pss + c + 4 * j), ss[j]));
        }
    }
}

MQ_AVX2_TARGET
void accumulateRangeAvx2(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                         double* psa, double* pss, uint32_t* ph)
{
    // Rows past a block's last are 0xff, which no window maps to a bit; zeroed once where a tile
    // of at most 16 channels leaves the other half unwritten (counted, never stored).
    alignas(32) uint8_t bins[kRowBlock + 16][kTileAvx2];
    bool zeroed = false;
    alignas(32) uint8_t order[kTileAvx2];
    for (int c = 0; c < kTileAvx2; ++c)
        order[c] = uint8_t(laneOfAvx2(c % 16)); // within each 16-byte half, as PSHUFB indexes
    const __m256i toChannels = _mm256_load_si256(reinterpret_cast<const __m256i*>(order));
    const __m256i oneHot = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0, //
                                            1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi8(1), zero = _mm256_setzero_si256();
    for (int64_t blk = 0; blk < statsChunks(rows); ++blk) {
        int64_t r0, nr;
        statsChunk(rows, blk, r0, nr);
        for (int64_t t0 = c0; t0 < c1; t0 += kTileAvx2) {
            const int64_t n = std::min(c1 - t0, kTileAvx2);
            if (n <= kHalfAvx2 && !zeroed) {
                std::memset(bins, 0, sizeof bins);
                zeroed = true;
            }
            for (int64_t h0 = 0; h0 < n; h0 += kHalfAvx2) {
                const int m = int(std::min(n - h0, kHalfAvx2));
                if (m == kHalfAvx2)
                    halfPassAvx2<false>(x, k, r0, nr, t0 + h0, m, plo, phi, psa, pss, bins, int(h0));
                else
                    halfPassAvx2<true>(x, k, r0, nr, t0 + h0, m, plo, phi, psa, pss, bins, int(h0));
            }
            alignas(32) uint8_t validBytes[kTileAvx2] = {};
            for (int64_t i = 0; i < n; ++i)
                validBytes[laneOfAvx2(int(i))] = 0xff;
            const __m256i invalid = _mm256_andnot_si256(_mm256_load_si256(reinterpret_cast<const __m256i*>(validBytes)),
                                                        _mm256_set1_epi8(char(0xff)));
            // Exponent bytes to bins (histBin's clamp) and the span of the tile's channels' bins.
            const __m256i first = _mm256_set1_epi8(char(127 + kHistMinExp)), last = _mm256_set1_epi8(kHistBins - 1);
            __m256i vlo = _mm256_set1_epi8(char(0xff)), vhi = zero;
            for (int64_t r = 0; r < nr; ++r) {
                __m256i e = _mm256_load_si256(reinterpret_cast<const __m256i*>(bins[r]));
                e = _mm256_min_epu8(_mm256_subs_epu8(e, first), last);
                _mm256_store_si256(reinterpret_cast<__m256i*>(bins[r]), e);
                vlo = _mm256_min_epu8(vlo, _mm256_or_si256(e, invalid));    // absent lanes: 0xff
                vhi = _mm256_max_epu8(vhi, _mm256_andnot_si256(invalid, e)); // absent lanes: 0
            }
            const int64_t padded = (nr + 15) / 16 * 16;
            for (int64_t r = nr; r < padded; ++r)
                _mm256_store_si256(reinterpret_cast<__m256i*>(bins[r]), _mm256_set1_epi8(char(0xff)));
            alignas(32) uint8_t los[kTileAvx2], his[kTileAvx2];
            _mm256_store_si256(reinterpret_cast<__m256i*>(los), vlo);
            _mm256_store_si256(reinterpret_cast<__m256i*>(his), vhi);
            int lo = 255, hi = 0;
            for (int i = 0; i < kTileAvx2; ++i) {
                lo = std::min(lo, int(los[i]));
                hi = std::max(hi, int(his[i]));
            }
            for (int base = lo; base <= hi; base += 8) {
                // Bin base + j (j < 8) to bit j: PSHUFB of min(bin - base, 8) (wrapping below base,
                // so that everything outside the window indexes a zero).
                const __m256i vbase = _mm256_set1_epi8(char(base));
                __m256i p[8] = {zero, zero, zero, zero, zero, zero, zero, zero};
                for (int64_t g = 0; g < padded; g += 16) {
                    __m256i d[16];
                    for (int j = 0; j < 16; ++j) {
                        const __m256i e = _mm256_load_si256(reinterpret_cast<const __m256i*>(bins[g + j]));
                        d[j] = _mm256_shuffle_epi8(oneHot, _mm256_min_epu8(_mm256_sub_epi8(e, vbase), eight));
                    }
                    MQ_ADD_16_ROWS(__m256i, csaAvx2, p, d);
                }
                for (int j = 0; j < 8 && base + j <= hi; ++j) {
                    // count = sum over planes b of bit j of plane b, times 2^b: planes from the top,
                    // doubling the count before each.
                    const __m128i shift = _mm_cvtsi32_si128(j);
                    __m256i count = zero;
                    for (int b = 7; b >= 0; --b)
                        count = _mm256_or_si256(_mm256_add_epi8(count, count),
                                                _mm256_and_si256(_mm256_srl_epi16(p[b], shift), ones));
                    alignas(32) uint8_t counts[kTileAvx2];
                    _mm256_store_si256(reinterpret_cast<__m256i*>(counts), _mm256_shuffle_epi8(count, toChannels));
                    uint32_t* h = ph + int64_t(base + j) * k + t0;
                    if (n == kTileAvx2) {
                        for (int q = 0; q < 4; ++q) {
                            const __m256i c8 = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(counts + 8 * q)));
                            __m256i* at = reinterpret_cast<__m256i*>(h + 8 * q);
                            _mm256_storeu_si256(at, _mm256_add_epi32(_mm256_loadu_si256(at), c8));
                        }
                    } else {
                        for (int64_t i = 0; i < n; ++i)
                            h[i] += counts[i];
                    }
                }
            }
        }
    }
}

// ---- AVX-512 (F, BW, DQ, VL): Skylake-SP and later ---------------------------------------------
// Written with GCC's generic vectors of 64 bytes, which only AVX-512 lowers well.
//
// Min, max and the two sums of 32 channels at a time are kept in vector registers while the
// block's rows pass (eight independent float64 sums each, so that the adds' latency is hidden);
// a last part narrower than 32 goes element by element.
//
// The histogram is counted without a scattered increment per element (which was most of the
// pass: bench/README.md, "the floor"). Each row of a tile leaves its 64 bins as bytes; then for
// every bin the block has, a 64-byte vector of counters goes down the block's rows adding
// (bin == b) lane by lane (four bins a pass), and is added to the histogram once. A block of at
// most 255 rows cannot overflow a byte. Exact counts: the histogram of counting element by element.
constexpr int64_t kTile = 64, kHalf = 32;
typedef uint8_t Bins64 __attribute__((vector_size(64)));
typedef uint8_t Bins16 __attribute__((vector_size(16)));
typedef float Float16 __attribute__((vector_size(64)));
typedef float Float8 __attribute__((vector_size(32)));
typedef double Double8 __attribute__((vector_size(64)));
typedef uint32_t UInt16 __attribute__((vector_size(64)));
typedef int64_t Int64x8 __attribute__((vector_size(64)));

#define MQ_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

MQ_AVX512_TARGET
void accumulateRangeAvx512(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                           double* psa, double* pss, uint32_t* ph)
{
    alignas(64) uint8_t bins[kRowBlock][kTile];
    for (int64_t blk = 0; blk < statsChunks(rows); ++blk) {
        int64_t r0, nr;
        statsChunk(rows, blk, r0, nr);
        for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
            const int64_t n = std::min(c1 - t0, kTile);
            for (int64_t h0 = 0; h0 < n; h0 += kHalf) {
                const int64_t m = std::min(n - h0, kHalf), c = t0 + h0;
                if (m == kHalf) {
                    Float16 lo[2], hi[2];
                    Double8 sa[4] = {}, ss[4] = {}; // the chunk's sums, from 0
                    std::memcpy(lo, plo + c, sizeof lo);
                    std::memcpy(hi, phi + c, sizeof hi);
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
                    for (int j = 0; j < 4; ++j) // added to the sums of the chunks before
                        for (int i = 0; i < 8; ++i) {
                            psa[c + 8 * j + i] += sa[j][i];
                            pss[c + 8 * j + i] += ss[j][i];
                        }
                } else {
                    double tsa[kHalf] = {}, tss[kHalf] = {};
                    for (int64_t r = 0; r < nr; ++r) {
                        const float* row = x + (r0 + r) * k + c;
                        for (int64_t i = 0; i < m; ++i) {
                            const float v = row[i];
                            plo[c + i] = std::min(plo[c + i], v);
                            phi[c + i] = std::max(phi[c + i], v);
                            tsa[i] += double(std::fabs(v));
                            tss[i] += double(v) * double(v);
                        }
                        uint8_t* b = bins[r] + h0;
                        for (int64_t i = 0; i < m; ++i) {
                            uint32_t bits;
                            std::memcpy(&bits, row + i, sizeof bits);
                            b[i] = uint8_t((bits << 1) >> 24);
                        }
                    }
                    for (int64_t i = 0; i < m; ++i) {
                        psa[c + i] += tsa[i];
                        pss[c + i] += tss[i];
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


// ---- AVX-512 with VBMI: Ice Lake and later, Zen 4 and later -------------------------------------
// About 40% fewer instructions than the kernel above (bench/README.md, "The statistics pass with
// AVX-512 VBMI"); the same bits.
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
#define MQ_VBMI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi")))

// Byte position of channel c (0..63) of a tile in its row of bins: channel 16 v + 2 q + i
// (vector v of the tile's four, 64-bit lane q, float i of that lane) is byte 8 q + 2 v + i.
constexpr uint8_t laneOf(int c)
{
    return uint8_t(8 * ((c % 16) / 2) + 2 * (c / 16) + c % 2);
}

MQ_VBMI_TARGET inline void csa(__m512i& high, __m512i& low, __m512i a, __m512i b, __m512i c)
{
    high = _mm512_ternarylogic_epi64(a, b, c, 0xE8); // majority
    low = _mm512_ternarylogic_epi64(a, b, c, 0x96);  // a ^ b ^ c
}

// Channels [c, c + m) (m <= 32) of rows r0.. r0 + nr: min, max and the two sums in vector
// registers, and the exponent bytes of the channels to bins[r] at the lanes of the tile's vectors
// v and v + 1. A half narrower than 32 goes through the same vector code with masked loads and
// stores (its absent lanes' bytes are left out of the block's span and never counted).
MQ_VBMI_TARGET
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
    for (int j = 0; j < 4; ++j) // the chunk's sums, from 0
        sa[j] = ss[j] = _mm512_setzero_pd();
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
    for (int j = 0; j < 4; ++j) { // added to the sums of the chunks before
        const __m512d a = _mm512_add_pd(_mm512_maskz_loadu_pd(md[j], psa + c + 8 * j), sa[j]);
        const __m512d b = _mm512_add_pd(_mm512_maskz_loadu_pd(md[j], pss + c + 8 * j), ss[j]);
        _mm512_mask_storeu_pd(psa + c + 8 * j, md[j], a);
        _mm512_mask_storeu_pd(pss + c + 8 * j, md[j], b);
    }
}

MQ_VBMI_TARGET
void accumulateRangeVbmi(const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1, float* plo, float* phi,
                         double* psa, double* pss, uint32_t* ph)
{
    // Rows of bins past a block's last are 0xff, which no window's table maps to a bit. Zeroed
    // once where a tile of at most 32 channels leaves the other lanes unwritten (counted, never
    // stored).
    alignas(64) uint8_t bins[kRowBlock + 16][kTile];
    bool zeroed = false;
    alignas(64) uint8_t laneOrder[kTile];
    for (int c = 0; c < kTile; ++c)
        laneOrder[c] = laneOf(c);
    const __m512i toChannels = _mm512_load_si512(laneOrder);
    for (int64_t blk = 0; blk < statsChunks(rows); ++blk) {
        int64_t r0, nr;
        statsChunk(rows, blk, r0, nr);
        for (int64_t t0 = c0; t0 < c1; t0 += kTile) {
            const int64_t n = std::min(c1 - t0, kTile);
            if (n <= kHalf && !zeroed) {
                std::memset(bins, 0, sizeof bins);
                zeroed = true;
            }
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
                    MQ_ADD_16_ROWS(__m512i, csa, p, d);
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
#endif // MQ_STATS_X86

bool cpuRuns(StatsKernel kernel)
{
    switch (kernel) {
    case StatsKernel::Scalar: return true;
    case StatsKernel::Avx2: return cpu::avx2Fma();
    case StatsKernel::Avx512: return cpu::avx512();
    case StatsKernel::Vbmi: return cpu::avx512Vbmi();
    }
    return false;
}

std::atomic<int> g_kernel{-1}; // -1: not chosen yet; else a StatsKernel

} // namespace

StatsKernel statsKernel()
{
    int k = g_kernel.load(std::memory_order_relaxed);
    if (k < 0) {
        k = int(StatsKernel::Scalar);
        for (const StatsKernel c : {StatsKernel::Vbmi, StatsKernel::Avx512, StatsKernel::Avx2})
            if (cpuRuns(c)) {
                k = int(c);
                break;
            }
        g_kernel.store(k, std::memory_order_relaxed);
    }
    return StatsKernel(k);
}

bool setStatsKernel(StatsKernel kernel)
{
    if (!cpuRuns(kernel))
        return false;
    g_kernel.store(int(kernel), std::memory_order_relaxed);
    return true;
}

const char* statsKernelName(StatsKernel kernel)
{
    switch (kernel) {
    case StatsKernel::Scalar: return "scalar";
    case StatsKernel::Avx2: return "avx2";
    case StatsKernel::Avx512: return "avx512";
    case StatsKernel::Vbmi: return "avx512-vbmi";
    }
    return "?";
}

bool parseStatsKernel(const std::string& name, StatsKernel* out)
{
    for (const StatsKernel k : kStatsKernels)
        if (name == statsKernelName(k)) {
            *out = k;
            return true;
        }
    return false;
}

void accumulateStatsRange(StatsKernel kernel, const float* x, int64_t rows, int64_t k, int64_t c0, int64_t c1,
                          float* plo, float* phi, double* psa, double* pss, uint32_t* ph)
{
    switch (kernel) {
#if MQ_STATS_X86
    case StatsKernel::Vbmi: accumulateRangeVbmi(x, rows, k, c0, c1, plo, phi, psa, pss, ph); return;
    case StatsKernel::Avx512: accumulateRangeAvx512(x, rows, k, c0, c1, plo, phi, psa, pss, ph); return;
    case StatsKernel::Avx2: accumulateRangeAvx2(x, rows, k, c0, c1, plo, phi, psa, pss, ph); return;
#endif
    default: accumulateScalar(x, rows, k, c0, c1, plo, phi, psa, pss, ph); return;
    }
}

} // namespace mq::core
