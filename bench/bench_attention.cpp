// Times the decoder's causal self-attention (rotary, grouped-query heads, causal softmax): the
// fused CPU kernel against the same in LibTorch operations, at stories260K's and Qwen2.5-7B's
// shapes, and prints the largest difference between the two.
// build/bin/bench_attention [THREADS [REPEATS]]
// MQ_ATTENTION_LANES=16|8|4 chooses the kernel built for AVX-512, AVX2 with FMA, or 4-wide
// vectors (kernel_env.h).
#include "kernel_env.h"

#include "common/runtime.h"
#include "model/attention.h"
#include "model/attention_kernel.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

struct Case {
    const char* name;
    int64_t batch, tokens, heads, kvHeads, headDim;
};

double medianMs(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    using namespace mq::core;
    const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
    initRuntime(threads);
    if (!mq::bench::applyKernelEnvironment())
        return 2;
    c10::InferenceMode guard;
    const Case cases[] = {
        {"stories260K (batch 8)", 8, 257, 8, 4, 8},
        {"Qwen2.5-7B (batch 8)", 8, 256, 28, 4, 128},
        {"Qwen2.5-7B (one 2048-token sample)", 1, 2048, 28, 4, 128},
    };
    std::printf("%d thread(s), median of %d, kernel of %d lanes\n", threads, repeats, attentionLanes());
    std::printf("%-36s %12s %12s %8s %12s\n", "shape", "LibTorch ms", "fused ms", "speed-up", "max |diff|");
    for (const Case& c : cases) {
        at::manual_seed(1);
        const int64_t BT = c.batch * c.tokens;
        const at::Tensor q = at::randn({BT, c.heads * c.headDim}), k = at::randn({BT, c.kvHeads * c.headDim});
        const at::Tensor v = at::randn({BT, c.kvHeads * c.headDim});
        const at::Tensor ang = at::arange(c.tokens, at::kFloat).unsqueeze(-1) * at::rand({1, c.headDim});
        const at::Tensor cos = ang.cos().reshape({1, 1, c.tokens, c.headDim}), sin = ang.sin().reshape({1, 1, c.tokens, c.headDim});
        const AttentionShape shape{c.batch, c.tokens, c.heads, c.kvHeads};
        std::vector<double> tr, tf;
        at::Tensor ref, fused;
        for (int r = 0; r < repeats; ++r) {
            auto t0 = std::chrono::steady_clock::now();
            ref = causalSelfAttentionReference(q, k, v, cos, sin, shape);
            auto t1 = std::chrono::steady_clock::now();
            fused = causalSelfAttention(q, k, v, cos, sin, shape);
            auto t2 = std::chrono::steady_clock::now();
            tr.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            tf.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
        }
        const double diff = (ref - fused).abs().max().item<double>();
        std::printf("%-36s %12.2f %12.2f %7.2fx %12.3g\n", c.name, medianMs(tr), medianMs(tf), medianMs(tr) / medianMs(tf), diff);
    }
    return 0;
}
