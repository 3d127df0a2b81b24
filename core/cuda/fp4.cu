// NVFP4 and MXFP4 quantize / dequantize for the simulated path (kernels.h, section 3): the
// arithmetic of mq::core::fmt (quant/fp4_elements.h, shared with formats.cpp), one thread per
// scale block (16 or 32 consecutive elements of a row), codes packed two per byte, the first
// in the low nibble. Compiled with --fmad=false: every product and quotient rounds on its own,
// as on the CPU.
#include "cuda/check.cuh"
#include "cuda/kernels.h"
#include "quant/fp4_elements.h"

#include <cmath>

namespace mq::cuda {

namespace {

constexpr int kThreads = 256;

using core::fmt::elem::e2m1Decode;
using core::fmt::elem::e2m1Encode;
using core::fmt::elem::e4m3Decode;
using core::fmt::elem::mxfp4BlockScale;
using core::fmt::elem::mxfp4Value;
using core::fmt::elem::nvfp4BlockScale;

__global__ void nvfp4QuantKernel(const float* __restrict__ x, int64_t blocks, float g, uint8_t* packed, uint8_t* scales)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    const float* xb = x + b * 16;
    float div = 1.f;
    scales[b] = nvfp4BlockScale(xb, g, &div);
    for (int i = 0; i < 16; i += 2)
        packed[b * 8 + i / 2] = uint8_t(e2m1Encode(xb[i] / div) | (e2m1Encode(xb[i + 1] / div) << 4));
}

__global__ void nvfp4DequantKernel(const uint8_t* __restrict__ packed, const uint8_t* __restrict__ scales, int64_t blocks,
                                   float g, float* out)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    const float div = e4m3Decode(scales[b]) / g;
    for (int i = 0; i < 8; ++i) {
        const uint8_t v = packed[b * 8 + i];
        out[b * 16 + 2 * i] = e2m1Decode(v & 0xF) * div;
        out[b * 16 + 2 * i + 1] = e2m1Decode(v >> 4) * div;
    }
}

__global__ void nvfp4FakeKernel(const float* x, int64_t blocks, float g, float* out)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    float xb[16];
    for (int i = 0; i < 16; ++i)
        xb[i] = x[b * 16 + i];
    float div = 1.f;
    const uint8_t sb = nvfp4BlockScale(xb, g, &div);
    const float d = e4m3Decode(sb) / g; // the dequantizer's divisor, as nvfp4Dequantize
    for (int i = 0; i < 16; ++i)
        out[b * 16 + i] = e2m1Decode(e2m1Encode(xb[i] / div)) * d;
}

__global__ void mxfp4QuantKernel(const float* __restrict__ x, int64_t blocks, bool even, uint8_t* packed, uint8_t* scales)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    const float* xb = x + b * 32;
    int sh = 0;
    bool coded = false;
    const uint8_t sb = mxfp4BlockScale(xb, even, &sh, &coded);
    scales[b] = sb;
    for (int i = 0; i < 32; i += 2) {
        const uint8_t lo = coded ? e2m1Encode(ldexpf(xb[i], -sh)) : 0;
        const uint8_t hi = coded ? e2m1Encode(ldexpf(xb[i + 1], -sh)) : 0;
        packed[b * 16 + i / 2] = uint8_t(lo | (hi << 4));
    }
}

__global__ void mxfp4DequantKernel(const uint8_t* __restrict__ packed, const uint8_t* __restrict__ scales, int64_t blocks,
                                   float* out)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    const uint8_t sb = scales[b];
    for (int i = 0; i < 16; ++i) {
        const uint8_t v = packed[b * 16 + i];
        out[b * 32 + 2 * i] = mxfp4Value(uint8_t(v & 0xF), sb);
        out[b * 32 + 2 * i + 1] = mxfp4Value(uint8_t(v >> 4), sb);
    }
}

__global__ void mxfp4FakeKernel(const float* x, int64_t blocks, bool even, float* out)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    float xb[32];
    for (int i = 0; i < 32; ++i)
        xb[i] = x[b * 32 + i];
    int sh = 0;
    bool coded = false;
    const uint8_t sb = mxfp4BlockScale(xb, even, &sh, &coded);
    for (int i = 0; i < 32; ++i)
        out[b * 32 + i] = mxfp4Value(coded ? e2m1Encode(ldexpf(xb[i], -sh)) : uint8_t(0), sb);
}

__global__ void absMaxKernel(const float* __restrict__ x, int64_t n, float* out)
{
    float m = 0.f;
    for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < n; i += int64_t(gridDim.x) * kThreads) {
        const float v = x[i];
        if (isfinite(v))
            m = fmaxf(m, fabsf(v));
    }
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    // Non-negative floats order as their bit patterns do.
    if ((threadIdx.x & 31) == 0 && m > 0.f)
        atomicMax(reinterpret_cast<int*>(out), __float_as_int(m));
}

unsigned blocksFor(int64_t n)
{
    return unsigned((n + kThreads - 1) / kThreads);
}

void requireCols(int64_t cols, int block, const char* what)
{
    if (cols <= 0 || cols % block != 0)
        throw Error(std::string(what) + " needs the row length (" + std::to_string(cols) + ") to be a multiple of "
                    + std::to_string(block));
}

} // namespace

void absMax(const float* x, int64_t n, float* out, void* stream)
{
    check(cudaMemsetAsync(out, 0, sizeof(float), streamOf(stream)), "absMax");
    if (n <= 0)
        return;
    const unsigned blocks = unsigned(std::min<int64_t>((n + kThreads - 1) / kThreads, 4096));
    absMaxKernel<<<blocks, kThreads, 0, streamOf(stream)>>>(x, n, out);
    checkLaunch("absMax");
}

void nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float g, uint8_t* packed, uint8_t* scales, void* stream)
{
    requireCols(cols, 16, "NVFP4");
    if (!(g > 0.f))
        throw Error("NVFP4: the global scale must be > 0");
    const int64_t blocks = rows * cols / 16;
    if (blocks > 0)
        nvfp4QuantKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(x, blocks, g, packed, scales);
    checkLaunch("nvfp4Quantize");
}

void nvfp4Dequantize(const uint8_t* packed, const uint8_t* scales, int64_t rows, int64_t cols, float g, float* out,
                     void* stream)
{
    requireCols(cols, 16, "NVFP4");
    const int64_t blocks = rows * cols / 16;
    if (blocks > 0)
        nvfp4DequantKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(packed, scales, blocks, g, out);
    checkLaunch("nvfp4Dequantize");
}

void nvfp4FakeQuant(const float* x, int64_t rows, int64_t cols, float g, float* out, void* stream)
{
    requireCols(cols, 16, "NVFP4");
    if (!(g > 0.f))
        throw Error("NVFP4: the global scale must be > 0");
    const int64_t blocks = rows * cols / 16;
    if (blocks > 0)
        nvfp4FakeKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(x, blocks, g, out);
    checkLaunch("nvfp4FakeQuant");
}

void mxfp4Quantize(const float* x, int64_t rows, int64_t cols, bool even, uint8_t* packed, uint8_t* scales, void* stream)
{
    requireCols(cols, 32, "MXFP4");
    const int64_t blocks = rows * cols / 32;
    if (blocks > 0)
        mxfp4QuantKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(x, blocks, even, packed, scales);
    checkLaunch("mxfp4Quantize");
}

void mxfp4Dequantize(const uint8_t* packed, const uint8_t* scales, int64_t rows, int64_t cols, float* out, void* stream)
{
    requireCols(cols, 32, "MXFP4");
    const int64_t blocks = rows * cols / 32;
    if (blocks > 0)
        mxfp4DequantKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(packed, scales, blocks, out);
    checkLaunch("mxfp4Dequantize");
}

void mxfp4FakeQuant(const float* x, int64_t rows, int64_t cols, bool even, float* out, void* stream)
{
    requireCols(cols, 32, "MXFP4");
    const int64_t blocks = rows * cols / 32;
    if (blocks > 0)
        mxfp4FakeKernel<<<blocksFor(blocks), kThreads, 0, streamOf(stream)>>>(x, blocks, even, out);
    checkLaunch("mxfp4FakeQuant");
}

} // namespace mq::cuda
