#pragma once
// The fused causal self-attention kernel on plain float arrays, without LibTorch: the engine's
// causalSelfAttention (attention.h) runs it on its tensors, and the launcher's evaluation of small
// models (eval/plain_eval.h) on its own buffers, so both compute the same bits.
//
// q [B*T, nh*hd], k and v [B*T, nkv*hd] (one row per token, heads side by side); cos and sin the
// rotary tables [Bc, T, hd] (Bc 1 or B, rotate-half convention); out [B*T, nh*hd] receives o_proj's
// input. Token i attends to tokens 0..i of its own sequence; query head h reads key/value head
// h / (nh / nkv). hd must be even.
#include <cstdint>

namespace mq::core {

struct AttentionArrays {
    const float *q = nullptr, *k = nullptr, *v = nullptr;
    const float *cos = nullptr, *sin = nullptr;
    int64_t tableStride = 0; // floats between two sequences' tables: 0 (one shared table) or T * hd
    float* out = nullptr;
    int64_t batch = 0, tokens = 0, heads = 0, kvHeads = 0, headDim = 0;
};

// Tasks [begin, end) of the batch * heads tasks (task = sequence * heads + query head), on the
// calling thread; consecutive heads of a group reuse the rotated keys. Tasks write disjoint
// parts of out, so ranges may run on different threads at once.
void attendTasks(const AttentionArrays& a, int64_t begin, int64_t end);

// The floats a vector register holds in the kernel this process runs: 16 (AVX-512), 8 (AVX2 with
// FMA) or 4, by default the widest the CPU has. setAttentionLanes (tests, benchmarks) returns
// false for a width the CPU cannot run.
int attentionLanes();
bool setAttentionLanes(int lanes);

} // namespace mq::core
