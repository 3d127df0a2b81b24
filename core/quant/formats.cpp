#include "quant/formats.h"

#include "common/error.h"
#include "quant/fp4_elements.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mq::core::fmt {

namespace {

using elem::floorLog2;
using elem::blockAbsMax;

void requireMultiple(int64_t cols, int64_t block, const char* what)
{
    if (cols <= 0 || cols % block != 0)
        throw InputError(std::string(what) + " needs the row length (" + std::to_string(cols)
                         + ") to be a multiple of " + std::to_string(block));
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Elements

// The arithmetic lives in fp4_elements.h, shared with the GPU kernels.
uint8_t e2m1Encode(float x) { return elem::e2m1Encode(x); }
float e2m1Decode(uint8_t code) { return elem::e2m1Decode(code); }
uint8_t e4m3Encode(float x) { return elem::e4m3Encode(x); }
float e4m3Decode(uint8_t code) { return elem::e4m3Decode(code); }

float bf16Round(float x)
{
    if (std::isnan(x))
        return x;
    uint32_t u = 0;
    std::memcpy(&u, &x, 4);
    u += 0x7FFFu + ((u >> 16) & 1u);
    u &= 0xFFFF0000u;
    float r = 0.f;
    std::memcpy(&r, &u, 4);
    return r;
}

namespace {

int hif8MantissaBits(int e)
{
    const int a = std::abs(e);
    if (a <= 3) return 3;
    if (a <= 7) return 2;
    if (a <= 15) return 1;
    return 0; // the denormal binades -22..-16
}

} // namespace

uint8_t hif8Encode(float x, bool saturate)
{
    if (std::isnan(x))
        return 0x80;
    const uint8_t sign = std::signbit(x) ? 0x80 : 0;
    const float a = std::fabs(x);
    if (a < std::ldexp(1.f, -23))
        return 0;
    if (a >= 40960.f)
        return uint8_t(sign | (saturate ? 0x6E : 0x6F));
    if (a < std::ldexp(1.f, -22))
        return uint8_t(sign | 0x01);
    int e = floorLog2(a);
    int w = hif8MantissaBits(e);
    // Round half away from zero on the binade's grid; a carry moves to the next binade.
    double r = std::floor(std::ldexp(double(a), w - e) + 0.5);
    int m = 0;
    if (r >= std::ldexp(1.0, w + 1)) {
        ++e;
        w = hif8MantissaBits(e);
        m = 0;
    } else {
        m = int(r) - (1 << w);
    }
    if (e <= -16) // denormal: 2^(M - 23)
        return uint8_t(sign | uint8_t(e + 23));
    const int neg = e < 0 ? 1 : 0, mag = std::abs(e);
    int b;
    if (mag == 0) b = 0x08 | m;
    else if (mag == 1) b = 0x10 | (neg << 3) | m;
    else if (mag <= 3) b = 0x20 | (neg << 4) | ((mag - 2) << 3) | m;
    else if (mag <= 7) b = 0x40 | (neg << 4) | ((mag - 4) << 2) | m;
    else b = 0x60 | (neg << 4) | ((mag - 8) << 1) | m;
    return uint8_t(sign | b);
}

float hif8Decode(uint8_t code)
{
    if (code == 0)
        return 0.f;
    if (code == 0x80)
        return std::numeric_limits<float>::quiet_NaN();
    const bool s = code & 0x80;
    const int b = code & 0x7F;
    int mag = 0, neg = 0, m = 0, w = 3;
    float v;
    if ((b & 0x60) == 0x60) {
        neg = (b >> 4) & 1;
        mag = ((b >> 1) & 7) + 8;
        m = b & 1;
        w = 1;
        if (!neg && mag == 15 && m == 1)
            return s ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    } else if ((b & 0x60) == 0x40) {
        neg = (b >> 4) & 1;
        mag = ((b >> 2) & 3) + 4;
        m = b & 3;
        w = 2;
    } else if ((b & 0x60) == 0x20) {
        neg = (b >> 4) & 1;
        mag = ((b >> 3) & 1) + 2;
        m = b & 7;
    } else if (b & 0x10) {
        neg = (b >> 3) & 1;
        mag = 1;
        m = b & 7;
    } else if (b & 0x08) {
        mag = 0;
        m = b & 7;
    } else {
        v = std::ldexp(1.f, (b & 7) - 23);
        return s ? -v : v;
    }
    v = std::ldexp(1.f + float(m) / float(1 << w), neg ? -mag : mag);
    return s ? -v : v;
}

// ---------------------------------------------------------------------------------------------
// Blocks

float nvfp4GlobalScale(float amax)
{
    return amax > 0.f && std::isfinite(amax) ? 448.f * 6.f / amax : 1.f;
}

Nvfp4 nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float globalScale)
{
    requireMultiple(cols, 16, "NVFP4");
    Nvfp4 q;
    q.rows = rows;
    q.cols = cols;
    q.globalScale = globalScale > 0.f ? globalScale : nvfp4GlobalScale(blockAbsMax(x, rows * cols));
    const float g = q.globalScale;
    q.codes.resize(size_t(rows * cols));
    q.scales.resize(size_t(rows * cols / 16));
    for (int64_t b = 0; b < rows * cols / 16; ++b) {
        const float* xb = x + b * 16;
        float div = 1.f;
        q.scales[size_t(b)] = elem::nvfp4BlockScale(xb, g, &div);
        for (int i = 0; i < 16; ++i)
            q.codes[size_t(b * 16 + i)] = e2m1Encode(xb[i] / div);
    }
    return q;
}

void nvfp4Dequantize(const Nvfp4& q, float* out)
{
    for (int64_t b = 0; b < q.rows * q.cols / 16; ++b) {
        const float div = e4m3Decode(q.scales[size_t(b)]) / q.globalScale;
        for (int i = 0; i < 16; ++i)
            out[b * 16 + i] = e2m1Decode(q.codes[size_t(b * 16 + i)]) * div;
    }
}

Mxfp4 mxfp4Quantize(const float* x, int64_t rows, int64_t cols, MxRule rule)
{
    requireMultiple(cols, 32, "MXFP4");
    Mxfp4 q;
    q.rows = rows;
    q.cols = cols;
    q.codes.assign(size_t(rows * cols), 0);
    q.scales.assign(size_t(rows * cols / 32), 0);
    for (int64_t b = 0; b < rows * cols / 32; ++b) {
        const float* xb = x + b * 32;
        int shared = 0;
        bool coded = false;
        q.scales[size_t(b)] = elem::mxfp4BlockScale(xb, rule == MxRule::Even, &shared, &coded);
        if (!coded)
            continue; // 0xFF (Inf or NaN) or 0x00 (all zeros): codes 0
        for (int i = 0; i < 32; ++i)
            q.codes[size_t(b * 32 + i)] = e2m1Encode(std::ldexp(xb[i], -shared));
    }
    return q;
}

void mxfp4Dequantize(const Mxfp4& q, float* out)
{
    for (int64_t b = 0; b < q.rows * q.cols / 32; ++b) {
        const uint8_t sb = q.scales[size_t(b)];
        for (int i = 0; i < 32; ++i)
            out[b * 32 + i] = elem::mxfp4Value(q.codes[size_t(b * 32 + i)], sb);
    }
}

Hif4 hif4Quantize(const float* x, int64_t rows, int64_t cols)
{
    requireMultiple(cols, 64, "HiFloat4");
    Hif4 q;
    q.rows = rows;
    q.cols = cols;
    const int64_t n = rows * cols;
    q.codes.assign(size_t(n), 0);
    q.scales.assign(size_t(n / 64), 0.f);
    q.exp8.assign(size_t(n / 8), 0);
    q.exp4.assign(size_t(n / 4), 0);
    const float inv7 = 0.142578125f; // bf16(1/7)
    for (int64_t u = 0; u < n / 64; ++u) {
        const float* xu = x + u * 64;
        const float m = blockAbsMax(xu, 64);
        float s0 = bf16Round(m * inv7);
        s0 = std::min(std::max(s0, std::ldexp(1.f, -48)), 49152.f);
        // E6M2: two mantissa bits, round half to even.
        const int e = floorLog2(s0);
        const float s = std::ldexp(std::nearbyint(std::ldexp(s0, 2 - e)), e - 2);
        const float rho = bf16Round(1.f / s);
        q.scales[size_t(u)] = s;
        for (int g = 0; g < 8; ++g) {
            const float* xg = xu + g * 8;
            const int a = blockAbsMax(xg, 8) * rho >= 4.f ? 1 : 0;
            q.exp8[size_t(u * 8 + g)] = uint8_t(a);
            for (int h = 0; h < 2; ++h) {
                const float* xh = xg + h * 4;
                const int bb = (blockAbsMax(xh, 4) / float(1 << a)) * rho >= 2.f ? 1 : 0;
                q.exp4[size_t(u * 16 + g * 2 + h)] = uint8_t(bb);
                const float div = float(1 << (a + bb));
                for (int i = 0; i < 4; ++i) {
                    const float k = std::min(7.f, std::floor((std::fabs(xh[i]) / div) * rho * 4.f + 0.5f));
                    q.codes[size_t(u * 64 + g * 8 + h * 4 + i)] = uint8_t((std::signbit(xh[i]) ? 8 : 0) | int(k));
                }
            }
        }
    }
    return q;
}

void hif4Dequantize(const Hif4& q, float* out)
{
    const int64_t n = q.rows * q.cols;
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t c = q.codes[size_t(i)];
        const int e = q.exp8[size_t(i / 8)] + q.exp4[size_t(i / 4)];
        const float v = float(c & 7) / 4.f * float(1 << e) * q.scales[size_t(i / 64)];
        out[i] = (c & 8) ? -v : v;
    }
}

// ---------------------------------------------------------------------------------------------
// NF4 double quantization

namespace {

// torch.linspace(start, end, steps) in float32: the first half from start, the second from end.
std::vector<float> linspaceF32(float start, float end, int steps)
{
    std::vector<float> v(static_cast<size_t>(steps));
    if (steps == 1) {
        v[0] = start;
        return v;
    }
    const float step = (end - start) / float(steps - 1);
    const int half = steps / 2;
    for (int i = 0; i < steps; ++i)
        v[size_t(i)] = i < half ? start + step * float(i) : end - step * float(steps - 1 - i);
    return v;
}

} // namespace

const std::vector<float>& dynamicMap8()
{
    static const std::vector<float> map = [] {
        std::vector<float> data;
        for (int i = 0; i < 7; ++i) {
            const std::vector<float> b = linspaceF32(0.1f, 1.0f, (1 << i) + 1);
            const float scale = float(std::pow(10.0, double(i - 6)));
            for (size_t j = 0; j + 1 < b.size(); ++j) {
                const float mean = (b[j] + b[j + 1]) / 2.0f;
                data.push_back(scale * mean);
                data.push_back(-scale * mean);
            }
        }
        data.push_back(0.f);
        data.push_back(1.f);
        std::sort(data.begin(), data.end());
        return data;
    }();
    return map;
}

DoubleQuant doubleQuantize(const std::vector<float>& absmax, int block)
{
    DoubleQuant q;
    if (absmax.empty())
        return q;
    double sum = 0.0;
    for (float a : absmax)
        sum += a;
    q.offset = float(sum / double(absmax.size()));
    const std::vector<float>& map = dynamicMap8();
    q.codes.resize(absmax.size());
    for (size_t b0 = 0; b0 < absmax.size(); b0 += size_t(block)) {
        const size_t n = std::min(absmax.size() - b0, size_t(block));
        float m = 0.f;
        for (size_t i = 0; i < n; ++i)
            m = std::max(m, std::fabs(absmax[b0 + i] - q.offset));
        q.absmax2.push_back(m);
        const float r = m > 0.f ? 1.0f / m : 0.f;
        for (size_t i = 0; i < n; ++i) {
            const float v = (absmax[b0 + i] - q.offset) * r;
            // Nearest entry; on a tie the lower index.
            const auto it = std::lower_bound(map.begin(), map.end(), v);
            size_t k = size_t(it - map.begin());
            if (k == map.size())
                k = map.size() - 1;
            else if (k > 0 && (v - map[k - 1]) <= (map[k] - v))
                k = k - 1;
            q.codes[b0 + i] = uint8_t(k);
        }
    }
    return q;
}

std::vector<float> doubleDequantize(const DoubleQuant& q, int block)
{
    const std::vector<float>& map = dynamicMap8();
    std::vector<float> out(q.codes.size());
    for (size_t i = 0; i < q.codes.size(); ++i)
        out[i] = map[q.codes[i]] * q.absmax2[i / size_t(block)] + q.offset;
    return out;
}

// ---------------------------------------------------------------------------------------------
// Packing

std::vector<uint8_t> packNibbles(const std::vector<uint8_t>& codes, bool lowFirst)
{
    std::vector<uint8_t> out((codes.size() + 1) / 2, 0);
    for (size_t i = 0; i < codes.size(); ++i) {
        const uint8_t c = codes[i] & 0xF;
        const bool first = i % 2 == 0;
        out[i / 2] |= uint8_t((first == lowFirst) ? c : c << 4);
    }
    return out;
}

std::vector<uint8_t> unpackNibbles(const std::vector<uint8_t>& bytes, size_t count, bool lowFirst)
{
    if (bytes.size() * 2 < count)
        throw InputError("packed 4-bit data: " + std::to_string(bytes.size()) + " bytes cannot hold "
                         + std::to_string(count) + " codes");
    std::vector<uint8_t> out(count);
    for (size_t i = 0; i < count; ++i) {
        const bool first = i % 2 == 0;
        out[i] = (first == lowFirst) ? (bytes[i / 2] & 0xF) : (bytes[i / 2] >> 4);
    }
    return out;
}

std::vector<int32_t> packInt4ToInt32(const std::vector<int8_t>& q, int64_t rows, int64_t cols)
{
    requireMultiple(cols, 8, "int32 packing of 4-bit values");
    if (int64_t(q.size()) != rows * cols)
        throw InputError("int32 packing: " + std::to_string(q.size()) + " values for a [" + std::to_string(rows)
                         + ", " + std::to_string(cols) + "] matrix");
    std::vector<int32_t> out(size_t(rows * cols / 8), 0);
    for (int64_t i = 0; i < rows * cols; ++i) {
        const int v = q[size_t(i)];
        if (v < -8 || v > 7)
            throw InputError("int32 packing: value " + std::to_string(v) + " is outside [-8, 7]");
        const uint32_t u = uint32_t(v + 8);
        uint32_t w = uint32_t(out[size_t(i / 8)]);
        w |= u << (4 * (i % 8));
        out[size_t(i / 8)] = int32_t(w);
    }
    return out;
}

std::vector<int8_t> unpackInt32ToInt4(const std::vector<int32_t>& words, int64_t rows, int64_t cols)
{
    requireMultiple(cols, 8, "int32 unpacking of 4-bit values");
    if (int64_t(words.size()) * 8 != rows * cols)
        throw InputError("int32 unpacking: " + std::to_string(words.size()) + " words for a [" + std::to_string(rows)
                         + ", " + std::to_string(cols) + "] matrix");
    std::vector<int8_t> out(size_t(rows * cols));
    for (int64_t i = 0; i < rows * cols; ++i)
        out[size_t(i)] = int8_t(int((uint32_t(words[size_t(i / 8)]) >> (4 * (i % 8))) & 0xF) - 8);
    return out;
}

std::vector<int32_t> packToInt32(const int8_t* q, int64_t rows, int64_t cols, int bits)
{
    if (bits != 4 && bits != 8)
        throw InputError("int32 packing supports 4 or 8 bits, got " + std::to_string(bits));
    const int64_t wc = packedInt32Cols(cols, bits), per = 32 / bits;
    const int lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
    const uint32_t mask = (1u << bits) - 1u;
    std::vector<int32_t> out(size_t(rows * wc), 0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const int v = q[r * cols + c];
            if (v < lo || v > hi)
                throw InputError("int32 packing: value " + std::to_string(v) + " is outside [" + std::to_string(lo)
                                 + ", " + std::to_string(hi) + "]");
            uint32_t& w = reinterpret_cast<uint32_t&>(out[size_t(r * wc + c / per)]);
            w |= (uint32_t(v - lo) & mask) << (bits * (c % per));
        }
    return out;
}

std::vector<int8_t> unpackFromInt32(const int32_t* words, int64_t rows, int64_t cols, int bits)
{
    if (bits != 4 && bits != 8)
        throw InputError("int32 unpacking supports 4 or 8 bits, got " + std::to_string(bits));
    const int64_t wc = packedInt32Cols(cols, bits), per = 32 / bits;
    const int lo = -(1 << (bits - 1));
    const uint32_t mask = (1u << bits) - 1u;
    std::vector<int8_t> out(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            out[size_t(r * cols + c)] =
                int8_t(int((uint32_t(words[r * wc + c / per]) >> (bits * (c % per))) & mask) + lo);
    return out;
}

} // namespace mq::core::fmt
