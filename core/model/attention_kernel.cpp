#include "model/attention_kernel.h"

#include "common/vector_clones.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

// Vectors of 16 floats are passed between inline helpers; their ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace mq::core {

namespace {

constexpr int kRows = 4;   // query rows that share each key and value load
constexpr int kLanes = 16; // key positions per vector

// 16 floats; GCC and Clang lower it to one AVX-512 register, two AVX2 or four SSE ones.
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t IVec __attribute__((vector_size(kLanes * sizeof(int32_t))));

inline Vec load(const float* p)
{
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

inline float lanesSum(const Vec& v)
{
    float t = 0.0f;
    for (int l = 0; l < kLanes; ++l)
        t += v[l];
    return t;
}

// exp(x) for the softmax's x = s - max(s) <= 0, lane by lane: x = n ln2 + r with |r| <= ln2/2
// (ln2 in two parts), a degree-6 polynomial for e^r (Cephes' expf coefficients, about 1 ulp),
// times 2^n built in the exponent bits. Below -87 the result is about 1e-38 instead of a denormal
// or 0, which no softmax sum can notice. NaN stays NaN.
inline Vec expNonPositive(Vec x)
{
    const Vec lo = Vec{} - 87.0f;
    x = x < lo ? lo : x;
    const Vec n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; // round to nearest
    Vec r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    Vec p = Vec{} + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const IVec bits = (__builtin_convertvector(n, IVec) + 127) << 23;
    Vec scale;
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
MQ_VECTOR_CLONES
void attendHead(const HeadView& h, float* qs, float* s)
{
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
            Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
            for (int64_t d = 0; d < hd; ++d) {
                const Vec k = load(h.kt + d * tp + j0);
                a0 += q0[d] * k;
                a1 += q1[d] * k;
                a2 += q2[d] * k;
                a3 += q3[d] * k;
            }
            store(s0 + j0, a0);
            store(s1 + j0, a1);
            store(s2 + j0, a2);
            store(s3 + j0, a3);
        }
        // Softmax of each row over its own causal prefix 0..i; zero weights past it (and for
        // the rows past T in the last block).
        Vec lane = {};
        for (int l = 0; l < kLanes; ++l)
            lane[l] = float(l);
        float inv[kRows] = {};
        for (int r = 0; r < kRows; ++r) {
            float* sr = s + r * tp;
            const float n = r < rows ? float(i0 + r + 1) : 0.0f; // exact: T < 2^24
            const Vec lowest = Vec{} - 3.0e38f;
            Vec mx = lowest;
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                const Vec v = load(sr + j0);
                const Vec keep = (lane + float(j0) < n) ? v : lowest;
                mx = keep > mx ? keep : mx;
            }
            float m = mx[0];
            for (int l = 1; l < kLanes; ++l)
                m = mx[l] > m ? mx[l] : m;
            Vec sum = {};
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                const Vec e = expNonPositive(load(sr + j0) - m);
                const Vec w = (lane + float(j0) < n) ? e : Vec{};
                store(sr + j0, w);
                sum += w;
            }
            inv[r] = r < rows ? 1.0f / lanesSum(sum) : 0.0f;
        }
        // Weighted sums of the values, one head dimension at a time.
        for (int64_t d = 0; d < hd; ++d) {
            const float* vd = h.vt + d * tp;
            Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
            for (int64_t j0 = 0; j0 < nb; j0 += kLanes) {
                const Vec v = load(vd + j0);
                a0 += load(s0 + j0) * v;
                a1 += load(s1 + j0) * v;
                a2 += load(s2 + j0) * v;
                a3 += load(s3 + j0) * v;
            }
            const float t[kRows] = {lanesSum(a0), lanesSum(a1), lanesSum(a2), lanesSum(a3)};
            for (int r = 0; r < rows; ++r)
                h.out[(i0 + r) * h.outStride + d] = t[r] * inv[r];
        }
    }
}

} // namespace

void attendTasks(const AttentionArrays& a, int64_t begin, int64_t end)
{
    const int64_t T = a.tokens, nh = a.heads, nkv = a.kvHeads, hd = a.headDim, group = nh / nkv;
    const int64_t tp = (T + kLanes - 1) / kLanes * kLanes;
    const float scale = float(1.0 / std::sqrt(double(hd)));
    std::vector<float> kt(size_t(hd * tp), 0.0f), vt(size_t(hd * tp), 0.0f), qs(size_t(kRows * hd));
    std::vector<float> s(size_t(kRows * tp));
    int64_t built = -1; // b * nkv + key/value head in kt, vt
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
        attendHead(view, qs.data(), s.data());
    }
}

} // namespace mq::core
