#include "model/attention.h"

#include "common/error.h"
#include "common/vector_clones.h"

#include <ATen/Parallel.h>

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

void checkShapes(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& cos,
                 const at::Tensor& sin, const AttentionShape& sh)
{
    const int64_t BT = sh.batch * sh.tokens;
    if (sh.heads <= 0 || sh.kvHeads <= 0 || sh.heads % sh.kvHeads != 0 || q.dim() != 2 || q.size(0) != BT
        || q.size(1) % sh.heads != 0)
        throw Error("attention: q of shape " + std::to_string(q.size(0)) + "x" + std::to_string(q.size(1))
                    + " does not fit batch " + std::to_string(sh.batch) + ", tokens " + std::to_string(sh.tokens)
                    + ", heads " + std::to_string(sh.heads) + "/" + std::to_string(sh.kvHeads));
    const int64_t hd = q.size(1) / sh.heads;
    for (const at::Tensor* t : {&k, &v})
        if (t->dim() != 2 || t->size(0) != BT || t->size(1) != sh.kvHeads * hd)
            throw Error("attention: key/value of shape " + std::to_string(t->size(0)) + "x"
                        + std::to_string(t->size(1)) + ", expected " + std::to_string(BT) + "x"
                        + std::to_string(sh.kvHeads * hd));
    for (const at::Tensor* t : {&cos, &sin})
        if (t->dim() != 4 || (t->size(0) != 1 && t->size(0) != sh.batch) || t->size(1) != 1
            || t->size(2) != sh.tokens || t->size(3) != hd)
            throw Error("attention: rotary table of the wrong shape for " + std::to_string(sh.tokens) + " tokens, head "
                        + std::to_string(hd));
}

} // namespace

bool fusedAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v)
{
    for (const at::Tensor* t : {&q, &k, &v})
        if (!t->device().is_cpu() || t->scalar_type() != at::kFloat)
            return false;
    return true;
}

at::Tensor causalSelfAttentionReference(const at::Tensor& q2d, const at::Tensor& k2d, const at::Tensor& v2d,
                                        const at::Tensor& cos, const at::Tensor& sin, const AttentionShape& sh)
{
    checkShapes(q2d, k2d, v2d, cos, sin, sh);
    const int64_t B = sh.batch, T = sh.tokens, nh = sh.heads, nkv = sh.kvHeads, hd = q2d.size(1) / nh;
    auto rotateHalf = [](const at::Tensor& x) {
        const int64_t half = x.size(-1) / 2;
        return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
    };
    at::Tensor q = q2d.reshape({B, T, nh, hd}).transpose(1, 2);
    at::Tensor k = k2d.reshape({B, T, nkv, hd}).transpose(1, 2);
    at::Tensor v = v2d.reshape({B, T, nkv, hd}).transpose(1, 2);
    q = q * cos + rotateHalf(q) * sin;
    k = k * cos + rotateHalf(k) * sin;
    if (nkv != nh) {
        k = k.repeat_interleave(nh / nkv, 1);
        v = v.repeat_interleave(nh / nkv, 1);
    }
    const at::Tensor causal = at::ones({T, T}, at::TensorOptions().dtype(at::kBool).device(q.device())).triu(1);
    const double scale = 1.0 / std::sqrt(double(hd));
    at::Tensor att = at::matmul(q, k.transpose(-2, -1)).mul_(scale).masked_fill_(causal, -INFINITY);
    return at::matmul(at::softmax(att, -1), v).transpose(1, 2).reshape({B * T, nh * hd});
}

at::Tensor causalSelfAttention(const at::Tensor& q2d, const at::Tensor& k2d, const at::Tensor& v2d,
                               const at::Tensor& cosIn, const at::Tensor& sinIn, const AttentionShape& sh)
{
    checkShapes(q2d, k2d, v2d, cosIn, sinIn, sh);
    if (!fusedAttentionApplies(q2d, k2d, v2d) || (q2d.size(1) / sh.heads) % 2 != 0)
        return causalSelfAttentionReference(q2d, k2d, v2d, cosIn, sinIn, sh);
    const int64_t T = sh.tokens, nh = sh.heads, nkv = sh.kvHeads, hd = q2d.size(1) / nh, group = nh / nkv;
    const at::Tensor q = q2d.contiguous(), k = k2d.contiguous(), v = v2d.contiguous();
    const at::Tensor cos = cosIn.to(at::kCPU, at::kFloat).contiguous(), sin = sinIn.to(at::kCPU, at::kFloat).contiguous();
    const int64_t tableStride = cos.size(0) == 1 ? 0 : T * hd;
    at::Tensor out = at::empty({sh.batch * T, nh * hd}, q.options());
    const float *Q = q.data_ptr<float>(), *K = k.data_ptr<float>(), *V = v.data_ptr<float>();
    const float *C = cos.data_ptr<float>(), *S = sin.data_ptr<float>();
    float* O = out.data_ptr<float>();
    const int64_t tp = (T + kLanes - 1) / kLanes * kLanes;
    const float scale = float(1.0 / std::sqrt(double(hd)));
    // One task per (sequence, query head); consecutive heads of a group reuse the rotated keys.
    at::parallel_for(0, sh.batch * nh, 1, [&](int64_t begin, int64_t end) {
        std::vector<float> kt(size_t(hd * tp), 0.0f), vt(size_t(hd * tp), 0.0f), qs(size_t(kRows * hd));
        std::vector<float> s(size_t(kRows * tp));
        int64_t built = -1; // b * nkv + key/value head in kt, vt
        for (int64_t task = begin; task < end; ++task) {
            const int64_t b = task / nh, h = task % nh, kh = h / group;
            const float* cb = C + b * tableStride;
            const float* sb = S + b * tableStride;
            if (built != b * nkv + kh) {
                for (int64_t j = 0; j < T; ++j) {
                    const float* kj = K + ((b * T + j) * nkv + kh) * hd;
                    const float* vj = V + ((b * T + j) * nkv + kh) * hd;
                    for (int64_t d = 0; d < hd; ++d) {
                        kt[size_t(d * tp + j)] = rotated(kj, cb + j * hd, sb + j * hd, hd, d);
                        vt[size_t(d * tp + j)] = vj[d];
                    }
                }
                built = b * nkv + kh;
            }
            const HeadView view{Q + (b * T * nh + h) * hd, nh * hd, cb, sb, kt.data(), vt.data(), tp,
                                O + (b * T * nh + h) * hd, nh * hd, T, hd, scale};
            attendHead(view, qs.data(), s.data());
        }
    });
    return out;
}

} // namespace mq::core
