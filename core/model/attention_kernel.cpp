#include "model/attention_kernel.h"

#include "common/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

// Vectors are passed between always-inlined helpers; their ABI notes do not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

#define MQ_INLINE inline __attribute__((always_inline))

namespace mq::core {

namespace {

constexpr int kRows = 4;   // query rows that share each key and value load
constexpr int kLanes = 16; // key positions per logical vector

// The kernel's body is written once for W floats a register: 16 (AVX-512), 8 (AVX2 with FMA) or
// 4 (SSE2, NEON), one function of each built for its instruction set and chosen at run time. A
// logical vector of kLanes keys is kLanes / W registers, so lane l of a score, a maximum or a
// sum takes the keys j = l (mod 16) in the same order at every width: AVX-512 and AVX2 give the
// same bits (tst_forward; both contract a * b + c into FMA alike), the 4-wide kernel the same up
// to that contraction. (GCC's 64-byte generic vectors, used before at every width, are lowered
// element by element through the stack under AVX2: 4 to 6 times slower than AVX-512, slower than
// SSE2.)
template <int W> struct Lanes;
template <> struct Lanes<16> {
    typedef float F __attribute__((vector_size(64)));
    typedef int32_t I __attribute__((vector_size(64)));
};
template <> struct Lanes<8> {
    typedef float F __attribute__((vector_size(32)));
    typedef int32_t I __attribute__((vector_size(32)));
};
template <> struct Lanes<4> {
    typedef float F __attribute__((vector_size(16)));
    typedef int32_t I __attribute__((vector_size(16)));
};

template <typename F> MQ_INLINE F load(const float* p)
{
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <typename F> MQ_INLINE void store(float* p, const F& v) { std::memcpy(p, &v, sizeof v); }

// The lanes of a logical vector (P registers of W) summed in lane order.
template <int W, typename F, int P> MQ_INLINE float lanesSum(const F (&v)[P])
{
    float t = 0.0f;
    for (int p = 0; p < P; ++p)
        for (int l = 0; l < W; ++l)
            t += v[p][l];
    return t;
}

// exp(x) for the softmax's x = s - max(s) <= 0, lane by lane: x = n ln2 + r with |r| <= ln2/2
// (ln2 in two parts), a degree-6 polynomial for e^r (Cephes' expf coefficients, about 1 ulp),
// times 2^n built in the exponent bits. Below -87 the result is about 1e-38 instead of a denormal
// or 0, which no softmax sum can notice. NaN stays NaN.
template <int W> MQ_INLINE typename Lanes<W>::F expNonPositive(typename Lanes<W>::F x)
{
    using F = typename Lanes<W>::F;
    using I = typename Lanes<W>::I;
    const F lo = F{} - 87.0f;
    x = x < lo ? lo : x;
    const F n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round to nearest
    F r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    F p = F{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const I bits = (__builtin_convertvector(n, I) + 127) << 23;
    F scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// Element d of x (one head's hd values) after the rotary embedding (rotate-half convention).
inline float rotated(const float* x, const float* c, const float* s, int64_t hd, int64_t d)
{
    const int64_t half = hd / 2;
    const float partner = d < half ? -x[d + half] : x[d - half];
    return x[d] * c[d] + partner * s[d];
}

struct HeadView {
    const float* q;       // row i of this head at q + i * qStride
    int64_t qStride;
    const float* cos;     // [T, hd] of this sequence
    const float* sin;
    const float* kt;      // [hd, tp]: rotated keys of the key/value head, zero past T
    const float* vt;      // [hd, tp]: values
    int64_t tp;           // T rounded up to kLanes
    float* out;           // row i at out + i * outStride
    int64_t outStride;
    int64_t tokens, hd;
    float scale;
};

// One query head of one sequence, kRows query rows at a time. qs holds kRows * hd floats,
// s kRows * tp.
template <int W> MQ_INLINE void attendHead(const HeadView& h, float* qs, float* s)
{
    using F = typename Lanes<W>::F;
    constexpr int P = kLanes / W;
    const int64_t hd = h.hd, tp = h.tp;
    for (int64_t i0 = 0; i0 < h.tokens; i0 += kRows) {
        const int64_t rows = std::min<int64_t>(kRows, h.tokens - i0);
        for (int r = 0; r < kRows; ++r) {
            const int64_t i = i0 + r;
            for (int64_t d = 0; d < hd; ++d)
                qs[r * hd + d] = r < rows ? rotated(h.q + i * h.qStride, h.cos + i * hd, h.sin + i * hd, hd, d) * h.scale
                                          : 0.0f;
        }
        const float *q0 = qs, *q1 = qs + hd, *q2 = qs + 2 * hd, *q3 = qs + 3 * hd;
        float *s0 = s, *s1 = s + tp, *s2 = s + 2 * tp, *s3 = s + 3 * tp;
        // Scores of the block's rows against keys 0 .. i0 + rows - 1, kLanes keys at a time.
        const int64_t nb = (i0 + rows + kLanes - 1) / kLanes * kLanes;
        for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
            F a0[P] = {}, a1[P] = {}, a2[P] = {}, a3[P] = {};
            for (int64_t d = 0; d < hd; ++d) {
                for (int p = 0; p < P; ++p) {
                    const F k = load<F>(h.kt + d * tp + j0 + p * W);
                    a0[p] += q0[d] * k;
                    a1[p] += q1[d] * k;
                    a2[p] += q2[d] * k;
                    a3[p] += q3[d] * k;
                }
            }
            for (int p = 0; p < P; ++p) {
                store(s0 + j0 + p * W, a0[p]);
                store(s1 + j0 + p * W, a1[p]);
                store(s2 + j0 + p * W, a2[p]);
                store(s3 + j0 + p * W, a3[p]);
            }
        }
        // Softmax of each row over its own causal prefix 0..i; zero weights past it (and for
        // the rows past T in the last block).
        F lane[P];
        for (int p = 0; p < P; ++p)
            for (int l = 0; l < W; ++l)
                lane[p][l] = float(p * W + l);
        float inv[kRows] = {};
        for (int r = 0; r < kRows; ++r) {
            float* sr = s + r * tp;
            const float n = r < rows ? float(i0 + r + 1) : 0.0f; // exact: T < 2^24
            const F lowest = F{} - 3.0e38f;
            F mx[P];
            for (int p = 0; p < P; ++p)
                mx[p] = lowest;
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                for (int p = 0; p < P; ++p) {
                    const F v = load<F>(sr + j0 + p * W);
                    const F keep = (lane[p] + float(j0) < n) ? v : lowest;
                    mx[p] = keep > mx[p] ? keep : mx[p];
                }
            }
            float m = mx[0][0];
            for (int p = 0; p < P; ++p)
                for (int l = p == 0 ? 1 : 0; l < W; ++l)
                    m = mx[p][l] > m ? mx[p][l] : m;
            F sum[P] = {};
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                for (int p = 0; p < P; ++p) {
                    const F e = expNonPositive<W>(load<F>(sr + j0 + p * W) - m);
                    const F w = (lane[p] + float(j0) < n) ? e : F{};
                    store(sr + j0 + p * W, w);
                    sum[p] += w;
                }
            }
            inv[r] = r < rows ? 1.0f / lanesSum<W>(sum) : 0.0f;
        }
        // Weighted sums of the values, one head dimension at a time.
        for (int64_t d = 0; d < hd; ++d) {
            const float* vd = h.vt + d * tp;
            F a0[P] = {}, a1[P] = {}, a2[P] = {}, a3[P] = {};
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                for (int p = 0; p < P; ++p) {
                    const int64_t j = j0 + p * W;
                    const F v = load<F>(vd + j);
                    a0[p] += load<F>(s0 + j) * v;
                    a1[p] += load<F>(s1 + j) * v;
                    a2[p] += load<F>(s2 + j) * v;
                    a3[p] += load<F>(s3 + j) * v;
                }
            }
            const float t[kRows] = {lanesSum<W>(a0), lanesSum<W>(a1), lanesSum<W>(a2), lanesSum<W>(a3)};
            for (int r = 0; r < rows; ++r)
                h.out[(i0 + r) * h.outStride + d] = t[r] * inv[r];
        }
    }
}

using HeadKernel = void (*)(const HeadView&, float*, float*);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MQ_ATTENTION_X86 1
__attribute__((target("avx512f"))) void attendHead16(const HeadView& h, float* qs, float* s)
{
    attendHead<16>(h, qs, s);
}
__attribute__((target("avx2,fma"))) void attendHead8(const HeadView& h, float* qs, float* s)
{
    attendHead<8>(h, qs, s);
}
#else
#define MQ_ATTENTION_X86 0
#endif
void attendHead4(const HeadView& h, float* qs, float* s)
{
    attendHead<4>(h, qs, s);
}

bool cpuRunsLanes(int lanes)
{
    return lanes == 16 ? cpu::avx512f() : lanes == 8 ? cpu::avx2Fma() : lanes == 4;
}

std::atomic<int> g_lanes{0}; // 0: not chosen yet

HeadKernel headKernel(int lanes)
{
#if MQ_ATTENTION_X86
    if (lanes == 16)
        return attendHead16;
    if (lanes == 8)
        return attendHead8;
#endif
    (void)lanes;
    return attendHead4;
}

} // namespace

int attentionLanes()
{
    int lanes = g_lanes.load(std::memory_order_relaxed);
    if (lanes == 0) {
        lanes = cpuRunsLanes(16) ? 16 : cpuRunsLanes(8) ? 8 : 4;
        g_lanes.store(lanes, std::memory_order_relaxed);
    }
    return lanes;
}

bool setAttentionLanes(int lanes)
{
    if (!cpuRunsLanes(lanes))
        return false;
    g_lanes.store(lanes, std::memory_order_relaxed);
    return true;
}

void attendTasks(const AttentionArrays& a, int64_t begin, int64_t end)
{
    const int64_t T = a.tokens, nh = a.heads, nkv = a.kvHeads, hd = a.headDim, group = nh / nkv;
    const int64_t tp = (T + kLanes - 1) / kLanes * kLanes;
    const float scale = float(1.0 / std::sqrt(double(hd)));
    std::vector<float> kt(size_t(hd * tp), 0.0f), vt(size_t(hd * tp), 0.0f), qs(size_t(kRows * hd));
    std::vector<float> s(size_t(kRows * tp));
    int64_t built = -1; // b * nkv + key/value head in kt, vt
    const HeadKernel kernel = headKernel(attentionLanes());
    for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / nh, h = task % nh, kh = h / group;
        const float* cb = a.cos + b * a.tableStride;
        const float* sb = a.sin + b * a.tableStride;
        if (built != b * nkv + kh) {
            for (int64_t j = 0; j < T; ++j) {
                const float* kj = a.k + ((b * T + j) * nkv + kh) * hd;
                const float* vj = a.v + ((b * T + j) * nkv + kh) * hd;
                for (int64_t d = 0; d < hd; ++d) {
                    kt[size_t(d * tp + j)] = rotated(kj, cb + j * hd, sb + j * hd, hd, d);
                    vt[size_t(d * tp + j)] = vj[d];
                }
            }
            built = b * nkv + kh;
        }
        const HeadView view{a.q + (b * T * nh + h) * hd, nh * hd, cb, sb, kt.data(), vt.data(), tp,
                            a.out + (b * T * nh + h) * hd, nh * hd, T, hd, scale};
        kernel(view, qs.data(), s.data());
    }
}

} // namespace mq::core
