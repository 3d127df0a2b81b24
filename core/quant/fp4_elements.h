#pragma once
// The element and scale arithmetic of E2M1, E4M3, NVFP4 and MXFP4 (FORMATS.md), written once
// for the CPU (quant/formats.cpp) and the GPU kernels (cuda/fp4.cu): inline functions that
// nvcc compiles for both sides (MQ_HD), with the math calls that exist on each. Plain C++ and
// no dependency: formats.h is the interface the engine uses.
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define MQ_HD __host__ __device__
#else
#include <cmath>
#define MQ_HD
#endif

namespace mq::core::fmt::elem {

MQ_HD inline float quietNan()
{
    const uint32_t bits = 0x7fc00000u;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

MQ_HD inline bool isNan(float x) { return x != x; }
MQ_HD inline bool isFinite(float x) { return !isNan(x) && !isNan(x - x); } // x - x is NaN for +-Inf
MQ_HD inline bool signBit(float x)
{
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    return (bits >> 31) != 0;
}

#if defined(__CUDA_ARCH__)
MQ_HD inline float absf(float x) { return fabsf(x); }
MQ_HD inline float ldexpF(float x, int e) { return ldexpf(x, e); }
MQ_HD inline float rintF(float x) { return rintf(x); } // round half to even
MQ_HD inline int frexpExp(float a) { int k = 0; frexpf(a, &k); return k; }
#else
inline float absf(float x) { return std::fabs(x); }
inline float ldexpF(float x, int e) { return std::ldexp(x, e); }
inline float rintF(float x) { return std::nearbyint(x); } // the default rounding mode: half to even
inline int frexpExp(float a) { int k = 0; std::frexp(a, &k); return k; }
#endif

// Round half to even for |x| <= 2^22 by adding and removing 1.5 * 2^23: what rintF gives there
// in the default rounding mode, as plain arithmetic that vectorizes (no library call). The
// integer quantizers' rounding (MDQFO's grid on CPU and GPU, the morphology loss, int weights).
MQ_HD inline float roundHalfEvenSmall(float x)
{
    constexpr float kMagic = 12582912.0f;
    return (x + kMagic) - kMagic;
}

// One element on the static per-channel activation grid (fakeQuantPerChannel's quantizer):
// v / scale clamped to [-qmax, qmax] (before rounding instead of after: the same, qmax being an
// integer), rounded half to even, times scale, clamped to [-alpha, alpha]. NaN passes through
// every comparison, as through at::clamp / maximum / minimum. MDQFO's grid (CPU and GPU), its
// morphology loss and the engine's fused activation pass all quantize with it.
MQ_HD inline float quantizeStaticGrid(float v, float scale, float alpha, float qmax)
{
    float u = v / scale;
    u = u < -qmax ? -qmax : (u > qmax ? qmax : u);
    const float q = roundHalfEvenSmall(u) * scale;
    return q < -alpha ? -alpha : (q > alpha ? alpha : q);
}

// floor(log2 a) for a finite a > 0.
MQ_HD inline int floorLog2(float a) { return frexpExp(a) - 1; }

// FP4 E2M1: codes 0..7 = 0, 0.5, 1, 1.5, 2, 3, 4, 6, bit 3 the sign; round half to even with
// saturation at 6; NaN encodes as 0.
MQ_HD inline uint8_t e2m1Encode(float x)
{
    if (isNan(x))
        return 0;
    const uint8_t sign = signBit(x) ? 8 : 0;
    const float a = absf(x);
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

MQ_HD inline float e2m1Decode(uint8_t code)
{
    const int m = code & 7;
    const float v = m < 4 ? 0.5f * float(m) : (m == 4 ? 2.f : m == 5 ? 3.f : m == 6 ? 4.f : 6.f);
    return (code & 8) ? -v : v;
}

// FP8 E4M3 (float8_e4m3fn): bias 7, max 448, 0x7F/0xFF NaN, no infinity; round half to even,
// saturating at +-448.
MQ_HD inline uint8_t e4m3Encode(float x)
{
    if (isNan(x))
        return 0x7F;
    const uint8_t sign = signBit(x) ? 0x80 : 0;
    const float a = absf(x);
    if (a >= 448.f)
        return uint8_t(sign | 0x7E); // saturate (0x7F is NaN)
    if (a < ldexpF(1.f, -6)) {       // subnormal: steps of 2^-9
        const float q = rintF(a * 512.f);
        return uint8_t(sign | uint8_t(q)); // q == 8 is the smallest normal's code
    }
    int e = floorLog2(a);
    float m = rintF(ldexpF(a, 3 - e)); // 8..16
    if (m >= 16.f) {
        m = 8.f;
        ++e;
    }
    if (e > 8)
        return uint8_t(sign | 0x7E);
    const int code = ((e + 7) << 3) | (int(m) - 8);
    return uint8_t(sign | (code < 0x7E ? code : 0x7E));
}

MQ_HD inline float e4m3Decode(uint8_t code)
{
    const int e = (code >> 3) & 0xF, m = code & 7;
    float v;
    if (e == 0xF && m == 7)
        v = quietNan();
    else if (e == 0)
        v = ldexpF(float(m), -9);
    else
        v = ldexpF(1.f + float(m) / 8.f, e - 7);
    return (code & 0x80) ? -v : v;
}

// The largest finite |x| of n values (0 for none); *finite: whether every value was finite.
MQ_HD inline float blockAbsMax(const float* x, int64_t n, bool* finite = nullptr)
{
    float m = 0.f;
    bool ok = true;
    for (int64_t i = 0; i < n; ++i) {
        if (!isFinite(x[i]))
            ok = false;
        else
            m = m > absf(x[i]) ? m : absf(x[i]);
    }
    if (finite)
        *finite = ok;
    return m;
}

// NVFP4: one 16-element block's E4M3 scale byte s = e4m3(min(amax / 6 * g, 448)) (0 -> 0.125),
// and the divisor s / g its codes take (codes: e2m1Encode(x / div)).
MQ_HD inline uint8_t nvfp4BlockScale(const float* xb, float g, float* div)
{
    const float amax = blockAbsMax(xb, 16);
    float sv = amax / 6.f * g;
    sv = sv < 448.f ? sv : 448.f;
    uint8_t sb = e4m3Encode(sv);
    float s = e4m3Decode(sb);
    if (s == 0.f) { // fp8 eps
        sb = e4m3Encode(0.125f);
        s = 0.125f;
    }
    *div = s / g;
    return sb;
}

// MXFP4: one 32-element block's E8M0 byte and shared exponent (codes: e2m1Encode(ldexp(x,
// -shared))): 0xFF for a block with Inf or NaN and 0x00 for an all-zero one (no codes, *coded
// false), else floor(log2 amax) - 2 ("even": amax's exponent rounded up when its mantissa is
// >= 1.75), clamped at -127.
MQ_HD inline uint8_t mxfp4BlockScale(const float* xb, bool even, int* shared, bool* coded)
{
    bool finite = true;
    const float amax = blockAbsMax(xb, 32, &finite);
    *shared = 0;
    *coded = false;
    if (!finite)
        return 0xFF;
    if (amax == 0.f)
        return 0x00;
    int e = floorLog2(amax);
    if (even && ldexpF(amax, -e) >= 1.75f)
        ++e;
    const int sh = e - 2 < -127 ? -127 : e - 2;
    *shared = sh;
    *coded = true;
    return uint8_t(sh + 127);
}

// A dequantized MXFP4 element: NaN in a 0xFF block.
MQ_HD inline float mxfp4Value(uint8_t code, uint8_t scale)
{
    return scale == 0xFF ? quietNan() : ldexpF(e2m1Decode(code), int(scale) - 127);
}

} // namespace mq::core::fmt::elem
