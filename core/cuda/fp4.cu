// NVFP4 and MXFP4 quantize / dequantize for the simulated path (kernels.h, section 3): the
// arithmetic of mq::core::fmt (formats.cpp, FORMATS.md) in device functions, one thread per
// scale block (16 or 32 consecutive elements of a row), codes packed two per byte, the first
// in the low nibble. Compiled with --fmad=false: every product and quotient rounds on its own,
// as on the CPU.
#include "cuda/check.cuh"
#include "cuda/kernels.h"

#include <cmath>

namespace mq::cuda {

namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ int floorLog2(float a)
{
    int k = 0;
    frexpf(a, &k);
    return k - 1;
}

__device__ uint8_t e2m1Encode(float x)
{
    if (isnan(x))
        return 0;
    const uint8_t sign = signbit(x) ? 8 : 0;
    const float a = fabsf(x);
    uint8_t c;
    if (a <= 0.25f) c = 0;
    else if (a < 0.75f) c = 1;
    else if (a <= 1.25f) c = 2;
    else if (a < 1.75f) c = 3;
    else if (a <= 2.5f) c = 4;
    else if (a < 3.5f) c = 5;
    else if (a <= 5.f) c = 6;
    else c = 7;
    return uint8_t(sign | c);
}

__device__ __forceinline__ float e2m1Decode(uint8_t code)
{
    const int m = code & 7;
    const float v = m < 4 ? 0.5f * float(m) : (m == 4 ? 2.f : m == 5 ? 3.f : m == 6 ? 4.f : 6.f);
    return (code & 8) ? -v : v;
}

__device__ uint8_t e4m3Encode(float x)
{
    if (isnan(x))
        return 0x7F;
    const uint8_t sign = signbit(x) ? 0x80 : 0;
    const float a = fabsf(x);
    if (a >= 448.f)
        return uint8_t(sign | 0x7E);
    if (a < ldexpf(1.f, -6)) {
        const float q = rintf(a * 512.f);
        return uint8_t(sign | uint8_t(q));
    }
    int e = floorLog2(a);
    float m = rintf(ldexpf(a, 3 - e));
    if (m >= 16.f) {
        m = 8.f;
        ++e;
    }
    if (e > 8)
        return uint8_t(sign | 0x7E);
    const int code = ((e + 7) << 3) | (int(m) - 8);
    return uint8_t(sign | (code < 0x7E ? code : 0x7E));
}

__device__ float e4m3Decode(uint8_t code)
{
    const int e = (code >> 3) & 0xF, m = code & 7;
    float v;
    if (e == 0xF && m == 7)
        v = __int_as_float(0x7fc00000);
    else if (e == 0)
        v = ldexpf(float(m), -9);
    else
        v = ldexpf(1.f + float(m) / 8.f, e - 7);
    return (code & 0x80) ? -v : v;
}

// NVFP4: the block's E4M3 scale byte and the divisor s / g its codes use.
__device__ __forceinline__ uint8_t nvfp4Scale(const float* xb, float g, float* div)
{
    float amax = 0.f;
    for (int i = 0; i < 16; ++i)
        if (isfinite(xb[i]))
            amax = fmaxf(amax, fabsf(xb[i]));
    float sv = amax / 6.f * g;
    sv = fminf(sv, 448.f);
    uint8_t sb = e4m3Encode(sv);
    float s = e4m3Decode(sb);
    if (s == 0.f) {
        sb = e4m3Encode(0.125f);
        s = 0.125f;
    }
    *div = s / g;
    return sb;
}

// MXFP4: the block's E8M0 byte (0xFF for Inf/NaN, 0 for all zeros) and its shared exponent;
// *coded: the block has codes (not Inf/NaN, not all zeros; a shared exponent of -127 is also 0x00).
__device__ __forceinline__ uint8_t mxfp4Scale(const float* xb, bool even, int* shared, bool* coded)
{
    float amax = 0.f;
    bool finite = true;
    for (int i = 0; i < 32; ++i) {
        if (!isfinite(xb[i]))
            finite = false;
        else
            amax = fmaxf(amax, fabsf(xb[i]));
    }
    *shared = 0;
    *coded = false;
    if (!finite)
        return 0xFF;
    if (amax == 0.f)
        return 0x00;
    int e = floorLog2(amax);
    if (even && ldexpf(amax, -e) >= 1.75f)
        ++e;
    const int sh = e - 2 < -127 ? -127 : e - 2;
    *shared = sh;
    *coded = true;
    return uint8_t(sh + 127);
}

__global__ void nvfp4QuantKernel(const float* __restrict__ x, int64_t blocks, float g, uint8_t* packed, uint8_t* scales)
{
    const int64_t b = int64_t(blockIdx.x) * kThreads + threadIdx.x;
    if (b >= blocks)
        return;
    const float* xb = x + b * 16;
    float div = 1.f;
    scales[b] = nvfp4Scale(xb, g, &div);
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
    const uint8_t sb = nvfp4Scale(xb, g, &div);
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
    const uint8_t sb = mxfp4Scale(xb, even, &sh, &coded);
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
        const float nan = __int_as_float(0x7fc00000);
        out[b * 32 + 2 * i] = sb == 0xFF ? nan : ldexpf(e2m1Decode(v & 0xF), int(sb) - 127);
        out[b * 32 + 2 * i + 1] = sb == 0xFF ? nan : ldexpf(e2m1Decode(v >> 4), int(sb) - 127);
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
    const uint8_t sb = mxfp4Scale(xb, even, &sh, &coded);
    const float nan = __int_as_float(0x7fc00000);
    for (int i = 0; i < 32; ++i) {
        const uint8_t code = coded ? e2m1Encode(ldexpf(xb[i], -sh)) : 0;
        out[b * 32 + i] = sb == 0xFF ? nan : ldexpf(e2m1Decode(code), int(sb) - 127);
    }
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
