#pragma once
// A decoder layer's causal self-attention with rotary position embeddings and grouped-query heads.
//
// q is q_proj's output [B*T, nh*hd], k and v are k_proj's and v_proj's [B*T, nkv*hd] (one row per
// token, heads side by side); cos and sin are the rotary tables [Bc, 1, T, hd] with Bc 1 or B
// (rotate-half convention). The result is o_proj's input [B*T, nh*hd]. Token i attends to tokens
// 0..i of its own sequence; query head h reads key/value head h / (nh / nkv).

#include <ATen/ATen.h>

#include <cstdint>

namespace mq::core {

struct AttentionShape {
    int64_t batch = 0, tokens = 0, heads = 0, kvHeads = 0;
};

// The fused CPU kernel where it applies (float32 CPU tensors), otherwise the reference below.
// The kernel visits only the causal half of the scores and keeps them in cache: no [T, T] mask
// or score tensor, no repeated key/value heads. It agrees with the reference to float32 rounding
// (another summation order and exponential; tst_forward states the bound).
at::Tensor causalSelfAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& cos,
                               const at::Tensor& sin, const AttentionShape& shape);

// The same in LibTorch operations (rotate, repeat the key/value heads, masked softmax of the
// scaled scores, weighted sum), on any device.
at::Tensor causalSelfAttentionReference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const at::Tensor& cos, const at::Tensor& sin, const AttentionShape& shape);

// Whether causalSelfAttention takes the fused kernel for these tensors.
bool fusedAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

} // namespace mq::core
