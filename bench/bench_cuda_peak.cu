// bench_cuda, the tensor-core ceilings that bound the fused W4A4 linear: the throughput of the
// warp-level mma.sync instructions it is built on (int8 m16n8k32, bf16 m16n8k16), measured by
// kernels that do nothing else (eight independent accumulators per warp, operands in
// registers, no memory traffic in the loop). cuBLAS BF16 on Hopper uses wgmma instead; the
// ratio of these figures to its measured rate is the most a mma.sync kernel could gain.
#include "bench_cuda.h"

#include "cuda/kernels.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <string>

namespace mq::cuda::bench {

namespace {

constexpr int kChains = 8;   // independent MMAs in flight per warp
constexpr int kThreads = 256; // 8 warps a block

__global__ void __launch_bounds__(kThreads) peakS8(int iters, int* sink)
{
    int32_t c[kChains][4] = {};
    const uint32_t a0 = threadIdx.x * 0x01010101u, a1 = a0 ^ 0x5a5a5a5au, a2 = a0 + 7u, a3 = a1 - 3u;
    const uint32_t b0 = blockIdx.x * 0x00ff00ffu, b1 = b0 ^ 0x0f0f0f0fu;
    for (int it = 0; it < iters; ++it) {
#pragma unroll
        for (int k = 0; k < kChains; ++k)
            asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
                         "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                         : "+r"(c[k][0]), "+r"(c[k][1]), "+r"(c[k][2]), "+r"(c[k][3])
                         : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
    int s = 0;
#pragma unroll
    for (int k = 0; k < kChains; ++k)
        s += c[k][0] ^ c[k][1] ^ c[k][2] ^ c[k][3];
    if (s == 0x7fffffff) // never in practice; keeps the loop from being removed
        sink[0] = s;
}

__global__ void __launch_bounds__(kThreads) peakBf16(int iters, int* sink)
{
    float c[kChains][4] = {};
    const uint32_t a0 = 0x3f803f80u + threadIdx.x, a1 = a0 ^ 0x00010001u, a2 = a0, a3 = a1;
    const uint32_t b0 = 0x3c003c00u + blockIdx.x, b1 = b0;
    for (int it = 0; it < iters; ++it) {
#pragma unroll
        for (int k = 0; k < kChains; ++k)
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                         "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                         : "+f"(c[k][0]), "+f"(c[k][1]), "+f"(c[k][2]), "+f"(c[k][3])
                         : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
    float s = 0.f;
#pragma unroll
    for (int k = 0; k < kChains; ++k)
        s += c[k][0] + c[k][1] + c[k][2] + c[k][3];
    if (s == 1234.5f)
        sink[0] = 1;
}

void check(cudaError_t e, const char* what)
{
    if (e != cudaSuccess)
        throw Error(std::string("bench_cuda (mma peak): ") + what + ": " + cudaGetErrorString(e));
}

} // namespace

void benchMmaPeak(const Options& o, int multiprocessors)
{
    std::printf("\n== tensor-core ceilings of mma.sync (no memory traffic; %d blocks of %d threads, %d chains a warp)\n",
                multiprocessors * 4, kThreads, kChains);
    std::printf("%-32s %10s %10s\n", "instruction", "ms", "TOPS");
    Buffer sink(16);
    const int iters = o.quick ? 2000 : 20000;
    const unsigned blocks = static_cast<unsigned>(multiprocessors * 4);
    const double warps = double(blocks) * (kThreads / 32);
    for (int kind = 0; kind < 2; ++kind) {
        auto launch = [&] {
            if (kind == 0)
                peakS8<<<blocks, kThreads>>>(iters, sink.as<int>());
            else
                peakBf16<<<blocks, kThreads>>>(iters, sink.as<int>());
            check(cudaGetLastError(), "launch");
        };
        launch(); // warm-up
        synchronize();
        Timer t;
        t.start();
        launch();
        const double ms = t.stopMs();
        const double macsPerMma = kind == 0 ? 16.0 * 8 * 32 : 16.0 * 8 * 16;
        const double ops = 2.0 * macsPerMma * kChains * iters * warps;
        std::printf("%-32s %10.3f %10.1f\n", kind == 0 ? "int8 m16n8k32 (s32 accumulate)" : "bf16 m16n8k16 (f32 accumulate)",
                    ms, ops / (ms * 1e-3) / 1e12);
    }
}

} // namespace mq::cuda::bench
