#include "model/attention.h"

#include "common/error.h"
#include "model/attention_kernel.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mq::core {

namespace {

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
    const int64_t T = sh.tokens, nh = sh.heads, nkv = sh.kvHeads, hd = q2d.size(1) / nh;
    const at::Tensor q = q2d.contiguous(), k = k2d.contiguous(), v = v2d.contiguous();
    const at::Tensor cos = cosIn.to(at::kCPU, at::kFloat).contiguous(), sin = sinIn.to(at::kCPU, at::kFloat).contiguous();
    at::Tensor out = at::empty({sh.batch * T, nh * hd}, q.options());
    AttentionArrays a;
    a.q = q.data_ptr<float>();
    a.k = k.data_ptr<float>();
    a.v = v.data_ptr<float>();
    a.cos = cos.data_ptr<float>();
    a.sin = sin.data_ptr<float>();
    a.tableStride = cos.size(0) == 1 ? 0 : T * hd;
    a.out = out.data_ptr<float>();
    a.batch = sh.batch;
    a.tokens = T;
    a.heads = nh;
    a.kvHeads = nkv;
    a.headDim = hd;
    // One task per (sequence, query head).
    at::parallel_for(0, sh.batch * nh, 1, [&](int64_t begin, int64_t end) { attendTasks(a, begin, end); });
    return out;
}

} // namespace mq::core
