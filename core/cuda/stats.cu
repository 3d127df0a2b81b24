// Per-channel statistics of a Linear input, per modality, in one pass (kernels.h, section 1).
//
// A block of kThreads threads owns kThreads consecutive channels (one each: the loads of a row
// are coalesced) and a chunk of rows (grid.y). Each thread keeps its channel's running min,
// max and float64 sums in registers and its 40 histogram counters in a shared-memory column
// (no contention: the column is its own), for the modality of the rows it is reading; when the
// modality changes, and at the end of the chunk, the run is added to the totals with atomics.
// Modalities come in runs (a sample's text, then its image tokens, ...), so the atomics are few.
#include "cuda/check.cuh"
#include "cuda/kernels.h"

#include <algorithm>
#include <cmath>

namespace mq::cuda {

namespace {

constexpr int kThreads = 128;
constexpr int kBatch = 16; // rows whose loads a thread issues together (a power of two, at most 32)

// The log2 histogram's bin of a finite value from its biased exponent field (its magnitude's).
__device__ __forceinline__ int histBinOfExponent(int biased)
{
    return min(max(biased - 127 - kHistMinExp, 0), kHistBins - 1);
}

// Float min/max through the integer order of IEEE-754 bits (non-NaN values).
__device__ __forceinline__ void atomicMinFloat(float* addr, float v)
{
    if (v >= 0.f)
        atomicMin(reinterpret_cast<int*>(addr), __float_as_int(v));
    else
        atomicMax(reinterpret_cast<unsigned int*>(addr), __float_as_uint(v));
}

__device__ __forceinline__ void atomicMaxFloat(float* addr, float v)
{
    if (v >= 0.f)
        atomicMax(reinterpret_cast<int*>(addr), __float_as_int(v));
    else
        atomicMin(reinterpret_cast<unsigned int*>(addr), __float_as_uint(v));
}

__global__ void statsResetKernel(StatsOut out, int64_t n)
{
    const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) {
        out.min[i] = INFINITY;
        out.max[i] = -INFINITY;
        out.sumAbs[i] = 0.0;
        out.sumSq[i] = 0.0;
    }
}

__global__ void __launch_bounds__(kThreads) statsKernel(const float* __restrict__ x, const uint8_t* __restrict__ modality,
                                                       int64_t rows, int64_t K, int M, int64_t rowsPerChunk, StatsOut out)
{
    __shared__ uint32_t hs[kHistBins * kThreads];
    __shared__ unsigned long long counts[kMaxModalities];
    const int tid = int(threadIdx.x);
    const int64_t c = int64_t(blockIdx.x) * kThreads + tid;
    const int64_t r0 = int64_t(blockIdx.y) * rowsPerChunk;
    const int64_t r1 = min(rows, r0 + rowsPerChunk);
    for (int b = 0; b < kHistBins; ++b)
        hs[b * kThreads + tid] = 0u;
    if (tid < kMaxModalities)
        counts[tid] = 0ull;
    __syncthreads();
    // Rows per modality: counted once, by the blocks of the first channel tile.
    if (blockIdx.x == 0) {
        for (int64_t r = r0 + tid; r < r1; r += kThreads) {
            const int m = modality ? int(modality[r]) : 0;
            if (m < M)
                atomicAdd(&counts[m], 1ull);
        }
    }
    // Every lane of a warp runs the row loop (the modality vote below needs all 32); a lane past
    // the last channel reads channel K - 1 and never flushes.
    const bool live = c < K;
    const int lane = tid & 31;
    int cur = -1;
    float lo = INFINITY, hi = -INFINITY;
    double sa = 0.0, ss = 0.0;
    unsigned long long bad = 0;
    auto flush = [&]() {
        if (!live || cur < 0 || cur >= M) // nothing accumulated for an out-of-range modality
            return;
        const int64_t i = int64_t(cur) * K + c;
        if (lo != INFINITY)
            atomicMinFloat(out.min + i, lo);
        if (hi != -INFINITY)
            atomicMaxFloat(out.max + i, hi);
        if (sa != 0.0)
            atomicAdd(out.sumAbs + i, sa);
        if (ss != 0.0)
            atomicAdd(out.sumSq + i, ss);
        uint32_t* h = out.hist + i * kHistBins;
        for (int b = 0; b < kHistBins; ++b) {
            const uint32_t n = hs[b * kThreads + tid];
            if (n) {
                atomicAdd(h + b, n);
                hs[b * kThreads + tid] = 0u;
            }
        }
        lo = INFINITY;
        hi = -INFINITY;
        sa = 0.0;
        ss = 0.0;
    };
    auto add = [&](float v) {
        const int e = int((__float_as_uint(v) >> 23) & 0xffu); // biased exponent; 255: inf or NaN
        if (e == 0xff) {
            ++bad;
            return;
        }
        const double d = double(v);
        lo = fminf(lo, v);
        hi = fmaxf(hi, v);
        sa = __dadd_rn(sa, fabs(d));
        // The product of two floats is exact in float64, so the fused form rounds once, as
        // __dadd_rn(ss, __dmul_rn(d, d)) does: the same bits, one instruction.
        ss = __fma_rn(d, d, ss);
        // The column is this thread's own; a shared-memory atomic is one instruction where
        // load, add and store were three.
        atomicAdd(&hs[histBinOfExponent(e) * kThreads + tid], 1u);
    };
    const float* col = x + (live ? c : K - 1);
    // Rows in batches of kBatch: the batch's loads are issued together (one load in flight per
    // thread left the kernel waiting on memory at a fifth of the bandwidth), then added in row
    // order, so the sums are the same as row by row. Lane u % kBatch reads the modality of row
    // r + u; a batch wholly of the current modality takes the unrolled path.
    for (int64_t r = r0; r < r1; r += kBatch) {
        const int n = int(min(int64_t(kBatch), r1 - r));
        const int u = lane & (kBatch - 1);
        const int mu = u < n ? (modality ? int(__ldg(modality + r + u)) : 0) : cur;
        float v[kBatch];
        if (n == kBatch) { // issued before the vote's answer is needed
            const float* p = col + r * K;
#pragma unroll
            for (int j = 0; j < kBatch; ++j, p += K)
                v[j] = __ldg(p);
        }
        const bool same = __all_sync(0xffffffffu, mu == cur) && cur >= 0 && cur < M;
        if (same && n == kBatch) {
#pragma unroll
            for (int j = 0; j < kBatch; ++j)
                add(v[j]);
        } else {
            for (int j = 0; j < n; ++j) {
                const int m = __shfl_sync(0xffffffffu, mu, j);
                if (m != cur) {
                    flush();
                    cur = m;
                }
                if (m >= M)
                    continue; // out of range: skipped, as the reference does
                add(__ldg(col + (r + j) * K)); // just read: from the cache
            }
        }
    }
    flush();
    if (live && bad)
        atomicAdd(out.nonFinite, bad);
    __syncthreads();
    if (blockIdx.x == 0 && tid < M && counts[tid])
        atomicAdd(out.count + tid, counts[tid]);
}

void requireModalities(int M)
{
    if (M < 1 || M > kMaxModalities)
        throw Error("channelStats: " + std::to_string(M) + " modalities (1.." + std::to_string(kMaxModalities) + ")");
}

} // namespace

void statsReset(const StatsOut& out, int64_t K, int M, void* stream)
{
    requireModalities(M);
    const int64_t n = int64_t(M) * K;
    if (n > 0) {
        statsResetKernel<<<unsigned((n + 255) / 256), 256, 0, streamOf(stream)>>>(out, n);
        checkLaunch("statsReset");
        check(cudaMemsetAsync(out.hist, 0, size_t(n) * kHistBins * sizeof(uint32_t), streamOf(stream)),
              "statsReset (histogram)");
    }
    check(cudaMemsetAsync(out.count, 0, size_t(M) * sizeof(unsigned long long), streamOf(stream)), "statsReset (count)");
    check(cudaMemsetAsync(out.nonFinite, 0, sizeof(unsigned long long), streamOf(stream)), "statsReset (nonFinite)");
}

void channelStats(const float* x, const uint8_t* modality, int64_t rows, int64_t K, int M, const StatsOut& out,
                  void* stream)
{
    requireModalities(M);
    if (rows <= 0 || K <= 0)
        return;
    int dev = 0, sms = 0;
    check(cudaGetDevice(&dev), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
    const int64_t tiles = (K + kThreads - 1) / kThreads;
    // Enough blocks to fill every SM several times over, but at least 64 rows per chunk so the
    // flush at its end stays small next to the loads.
    const int64_t wantBlocks = int64_t(sms) * 16;
    int64_t chunks = std::max<int64_t>(1, (wantBlocks + tiles - 1) / tiles);
    chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, rows / 64));
    chunks = std::min<int64_t>(chunks, 65535);
    const int64_t perChunk = (rows + chunks - 1) / chunks;
    chunks = (rows + perChunk - 1) / perChunk;
    if (tiles > 0x7fffffff)
        throw Error("channelStats: too many channels");
    const dim3 grid{unsigned(tiles), unsigned(chunks), 1u};
    statsKernel<<<grid, kThreads, 0, streamOf(stream)>>>(x, modality, rows, K, M, perChunk, out);
    checkLaunch("channelStats");
}

} // namespace mq::cuda
