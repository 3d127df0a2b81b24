// CPU reference of the fused W4A4 + DABC linear (reference.h, section "the fused W4A4 + DABC
// linear"): the arithmetic of quantizeActivations and w4a4Linear in w4a4.cu, element by element.
// Every float operation the kernel rounds separately is rounded separately here too (through
// `rn`, a volatile store, so that no compiler contracts a * b + c into one fused multiply-add).
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cuda/reference.h"

namespace mq::cuda::ref {

namespace {

// One float32 rounding, kept apart from its neighbours (no FMA contraction across it).
inline float rn(float v)
{
    volatile float r = v;
    return r;
}

// The kernel's quantizer: clamp(rne(x / s), -7, 7) with IEEE division; fmax / fmin drop a NaN
// the same way on both sides (a NaN quotient becomes -7).
inline int quant4(float x, float s)
{
    const float q = std::nearbyint(rn(x / s));
    return static_cast<int>(std::fmin(std::fmax(q, -7.0f), 7.0f));
}

void need(bool ok, const char* what)
{
    if (!ok)
        throw std::invalid_argument(std::string("mq::cuda::ref w4a4: ") + what);
}

} // namespace

uint16_t toBf16(float x)
{
    uint32_t u;
    std::memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)          // NaN: keep sign and top payload, force quiet
        return static_cast<uint16_t>((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);               // round half to even (overflow gives +-inf)
    return static_cast<uint16_t>(u >> 16);
}

float fromBf16(uint16_t b)
{
    const uint32_t u = static_cast<uint32_t>(b) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

std::vector<uint8_t> packInt4(const std::vector<int8_t>& v, int64_t rows, int64_t cols)
{
    need(rows >= 0 && cols >= 0 && cols % 2 == 0, "packInt4: cols must be even");
    need(static_cast<int64_t>(v.size()) == rows * cols, "packInt4: size is not rows * cols");
    std::vector<uint8_t> out(static_cast<size_t>(rows * cols / 2));
    for (size_t i = 0; i < out.size(); ++i) {
        const unsigned lo = static_cast<unsigned>(v[2 * i]) & 0xFu;
        const unsigned hi = static_cast<unsigned>(v[2 * i + 1]) & 0xFu;
        out[i] = static_cast<uint8_t>(lo | (hi << 4));
    }
    return out;
}

std::vector<int8_t> unpackInt4(const std::vector<uint8_t>& packed, int64_t rows, int64_t cols)
{
    need(rows >= 0 && cols >= 0 && cols % 2 == 0, "unpackInt4: cols must be even");
    need(static_cast<int64_t>(packed.size()) == rows * cols / 2, "unpackInt4: size is not rows * cols / 2");
    std::vector<int8_t> out(static_cast<size_t>(rows * cols));
    for (size_t i = 0; i < packed.size(); ++i) {
        const int lo = packed[i] & 0xF;
        const int hi = packed[i] >> 4;
        out[2 * i] = static_cast<int8_t>(lo >= 8 ? lo - 16 : lo);
        out[2 * i + 1] = static_cast<int8_t>(hi >= 8 ? hi - 16 : hi);
    }
    return out;
}

void quantizeActivations(const std::vector<uint16_t>& xBf16, int64_t T, int64_t K, const float* channelScale,
                         const std::vector<int32_t>& maskedIndex, float rho, std::vector<int8_t>& a,
                         std::vector<float>& tokenScale, std::vector<uint16_t>& residualBf16)
{
    need(T >= 0 && K >= 0 && K % 2 == 0, "quantizeActivations: K must be even");
    need(static_cast<int64_t>(xBf16.size()) == T * K, "quantizeActivations: x is not [T, K]");
    const int64_t Mk = static_cast<int64_t>(maskedIndex.size());
    for (int64_t m = 0; m < Mk; ++m)
        need(maskedIndex[m] >= 0 && maskedIndex[m] < K, "quantizeActivations: masked index out of range");

    a.assign(static_cast<size_t>(T * K), 0);
    tokenScale.assign(static_cast<size_t>(T), 1.0f);
    residualBf16.assign(static_cast<size_t>(T * Mk), 0);
    for (int64_t t = 0; t < T; ++t) {
        const uint16_t* x = xBf16.data() + t * K;
        float s = 1.0f;
        if (!channelScale) {
            float amax = 0.0f;
            for (int64_t k = 0; k < K; ++k)
                amax = std::fmax(amax, std::fabs(fromBf16(x[k])));
            s = std::fmax(rn(amax / 7.0f), 1e-12f);
        }
        tokenScale[t] = s;
        for (int64_t k = 0; k < K; ++k)
            a[t * K + k] = static_cast<int8_t>(quant4(fromBf16(x[k]), channelScale ? channelScale[k] : s));
        for (int64_t m = 0; m < Mk; ++m) {
            const int32_t c = maskedIndex[m];
            const float xv = fromBf16(x[c]);
            const float su = channelScale ? channelScale[c] : s;
            const float xhat = rn(static_cast<float>(a[t * K + c]) * su);
            const bool keep = rho <= 0.0f || std::fabs(xv) > rn(rho * rn(7.0f * su));
            residualBf16[t * Mk + m] = toBf16(keep ? rn(xv - xhat) : 0.0f);
        }
    }
}

void w4a4Linear(const std::vector<int8_t>& a, const std::vector<float>& tokenScale, const std::vector<int8_t>& w,
                const std::vector<float>& weightScale, const std::vector<uint16_t>& residualBf16,
                const std::vector<uint16_t>& wMaskedBf16, int Mk, const std::vector<uint16_t>& biasBf16, int64_t T,
                int64_t N, int64_t K, std::vector<int32_t>& acc, std::vector<uint16_t>& yBf16)
{
    need(T >= 0 && N >= 0 && K >= 0 && Mk >= 0, "w4a4Linear: negative size");
    need(static_cast<int64_t>(a.size()) == T * K, "w4a4Linear: a is not [T, K]");
    need(static_cast<int64_t>(w.size()) == N * K, "w4a4Linear: w is not [N, K]");
    need(static_cast<int64_t>(tokenScale.size()) == T, "w4a4Linear: tokenScale is not [T]");
    need(static_cast<int64_t>(weightScale.size()) == N, "w4a4Linear: weightScale is not [N]");
    need(static_cast<int64_t>(residualBf16.size()) == T * Mk, "w4a4Linear: residual is not [T, Mk]");
    need(static_cast<int64_t>(wMaskedBf16.size()) == N * Mk, "w4a4Linear: wMasked is not [N, Mk]");
    need(biasBf16.empty() || static_cast<int64_t>(biasBf16.size()) == N, "w4a4Linear: bias is not [N] (or empty)");

    acc.assign(static_cast<size_t>(T * N), 0);
    yBf16.assign(static_cast<size_t>(T * N), 0);
    std::vector<float> r(residualBf16.size()), wm(wMaskedBf16.size());
    for (size_t i = 0; i < r.size(); ++i)
        r[i] = fromBf16(residualBf16[i]);
    for (size_t i = 0; i < wm.size(); ++i)
        wm[i] = fromBf16(wMaskedBf16[i]);
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t n = 0; n < N; ++n) {
            int32_t s = 0;
            const int8_t* at = a.data() + t * K;
            const int8_t* wn = w.data() + n * K;
            for (int64_t k = 0; k < K; ++k)
                s += static_cast<int32_t>(at[k]) * static_cast<int32_t>(wn[k]);
            acc[t * N + n] = s;
            float dabc = 0.0f;
            for (int m = 0; m < Mk; ++m)
                dabc = rn(dabc + rn(r[t * Mk + m] * wm[n * Mk + m]));
            const float main = rn(rn(static_cast<float>(s) * tokenScale[t]) * weightScale[n]);
            float v = rn(main + dabc);
            if (!biasBf16.empty())
                v = rn(v + fromBf16(biasBf16[n]));
            yBf16[t * N + n] = toBf16(v);
        }
    }
}

} // namespace mq::cuda::ref
