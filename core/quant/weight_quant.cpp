#include "quant/weight_quant.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "quant/fp4_elements.h"
#include "quant/formats.h"
#include "common/runtime.h"
#include "common/vector_clones.h"
#include "cuda/kernels.h"

namespace mq::core {

const float* nf4Levels()
{
    // QLoRA (Dettmers et al. 2023), Appendix E / bitsandbytes: normal-float 4-bit code book.
    static const float levels[16] = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    return levels;
}

float roundScale(float s, ScaleDtype d)
{
    switch (d) {
    case ScaleDtype::F32:
        return s;
    case ScaleDtype::BF16: {
        const float r = fmt::bf16Round(s);
        return r > 0.f ? r : 1.17549435e-38f;
    }
    case ScaleDtype::F16: {
        const float r = float(c10::Half(s));
        return r > 0.f ? std::min(r, 65504.f) : 6.103515625e-05f;
    }
    }
    return s;
}

namespace {

// max |a| over a group, in 16 lanes so that the loop vectorizes (a maximum is exact in any
// order; a NaN is skipped as std::max skips it).
MQ_VECTOR_CLONES
float groupAbsMax(const float* a, int64_t g)
{
    constexpr int kLanes = 16;
    float lane[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= g; i += kLanes)
        for (int l = 0; l < kLanes; ++l)
            lane[l] = std::max(lane[l], std::fabs(a[i + l]));
    float m = 0.f;
    for (; i < g; ++i)
        m = std::max(m, std::fabs(a[i]));
    for (int l = 0; l < kLanes; ++l)
        m = std::max(m, lane[l]);
    return m;
}

// o = clamp(round half to even(a / scale), -qmax, qmax) * scale. The rounding adds and removes
// 1.5 * 2^23, which is exactly std::nearbyint's in the default rounding mode for |a / scale| <
// 2^22 (here at most qmax, since scale >= max|a| / qmax); unlike a call to nearbyintf it
// vectorizes. No multiply-add to contract: the same bits in every clone.
MQ_VECTOR_CLONES
void roundGroupSymmetric(const float* a, float* o, int64_t g, float scale, float qmax)
{
    for (int64_t i = 0; i < g; ++i) {
        float q = fmt::elem::roundHalfEvenSmall(a[i] / scale);
        q = q < -qmax ? -qmax : (q > qmax ? qmax : q);
        o[i] = q * scale;
    }
}

} // namespace

// roundScale over a contiguous float32 tensor, in place.
static void roundScales(at::Tensor& t, ScaleDtype d)
{
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
        p[i] = roundScale(p[i], d);
}

static at::Tensor fakeQuantInt(const at::Tensor& w, const WeightQuantSpec& spec, bool fused = true)
{
    if (spec.bits < 2 || spec.bits > 8)
        throw InputError("integer weight quantization supports 2..8 bits, got " + std::to_string(spec.bits));
    if (spec.perTensor) { // one scale for all: the whole weight as one row of one channel
        WeightQuantSpec row = spec;
        row.perTensor = false;
        row.groupSize = 0;
        return fakeQuantInt(w.reshape({1, w.numel()}), row, fused).reshape(w.sizes());
    }
    const int64_t n = w.size(0), k = w.size(1);
    const int64_t g = spec.groupSize > 0 ? spec.groupSize : k;
    if (k % g != 0)
        throw InputError("input size " + std::to_string(k) + " is not a multiple of group size "
                         + std::to_string(g));
    at::Tensor x = w.reshape({n, k / g, g});
    at::Tensor out;
    if (fused && spec.symmetric && w.device().is_cpu() && w.scalar_type() == at::kFloat && w.is_contiguous()) {
        // One fused pass per group on the CPU (the ATen expression below makes five full-size
        // temporaries: seconds per 7B layer). Same arithmetic: scale = max|x| / qmax (at least
        // 1e-12), round half to even of x / scale, clamp, times scale.
        const float qmax = float((1 << (spec.bits - 1)) - 1);
        out = at::empty({n, k}, w.options());
        const float* src = w.data_ptr<float>();
        float* dst = out.data_ptr<float>();
        const int64_t groups = n * (k / g);
        at::parallel_for(0, groups, 16, [&](int64_t g0, int64_t g1) {
            for (int64_t gi = g0; gi < g1; ++gi) {
                const float* a = src + gi * g;
                const float scale = roundScale(std::max(float(double(groupAbsMax(a, g)) / double(qmax)), 1e-12f),
                                               spec.scaleDtype);
                roundGroupSymmetric(a, dst + gi * g, g, scale, qmax);
            }
        });
        return out;
    }
    if (spec.symmetric) {
        const double qmax = double((1 << (spec.bits - 1)) - 1);
        at::Tensor scale = x.abs().amax(-1, true).div(qmax).clamp_min(1e-12);
        if (spec.scaleDtype != ScaleDtype::F32)
            scale = scale.contiguous().clone(), roundScales(scale, spec.scaleDtype);
        out = at::clamp(at::round(x / scale), -qmax, qmax) * scale;
    } else {
        const double qmax = double((1 << spec.bits) - 1);
        // The range always holds 0 (min <= 0 <= max, as compressed-tensors and GPTQ do), so that
        // the zero point is an integer within the code range and 0 stays exact.
        at::Tensor lo = x.amin(-1, true).clamp_max(0.0), hi = x.amax(-1, true).clamp_min(0.0);
        at::Tensor scale = (hi - lo).div(qmax).clamp_min(1e-12);
        if (spec.scaleDtype != ScaleDtype::F32)
            scale = scale.contiguous().clone(), roundScales(scale, spec.scaleDtype);
        at::Tensor zero = at::round(-lo / scale).clamp(0.0, qmax); // a rounded scale may push it past the range
        out = (at::clamp(at::round(x / scale) + zero, 0.0, qmax) - zero) * scale;
    }
    return out.reshape({n, k});
}

static at::Tensor fakeQuantNf4(const at::Tensor& w, int block, bool doubleQuant)
{
    const int64_t numel = w.numel();
    if (block <= 0 || numel % block != 0)
        throw InputError("NF4 needs the weight size (" + std::to_string(numel)
                         + ") to be a multiple of the block size " + std::to_string(block));
    at::Tensor x = w.reshape({numel / block, block});
    at::Tensor absmax = x.abs().amax(-1, true).clamp_min(1e-12);
    if (doubleQuant) { // the absmax values as their 8-bit double quantization gives them back
        const at::Tensor a = absmax.reshape({-1}).contiguous();
        const std::vector<float> values(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
        const std::vector<float> back = fmt::doubleDequantize(fmt::doubleQuantize(values));
        absmax = at::tensor(back, at::TensorOptions().dtype(at::kFloat)).reshape(absmax.sizes()).clamp_min(1e-12);
    }
    at::Tensor normed = x / absmax;
    at::Tensor levels = at::from_blob(const_cast<float*>(nf4Levels()), {16}, at::kFloat).clone();
    // Nearest code value: boundaries are midpoints between consecutive levels.
    at::Tensor mids = (levels.slice(0, 1) + levels.slice(0, 0, 15)) * 0.5;
    at::Tensor idx = at::bucketize(normed, mids);
    return (levels.index_select(0, idx.flatten()).reshape(x.sizes()) * absmax).reshape(w.sizes());
}

namespace {

// NVFP4 / MXFP4 of rows x cols (a multiple of the block) on the GPU (--device cuda), from src
// into dst on the host: the arithmetic of mq::core::fmt (cuda::nvfp4FakeQuant / mxfp4FakeQuant,
// exact: cuda_selftest). globalScale <= 0: the tensor's own, 448 * 6 / max |x|.
void fakeQuantBlockFormatGpu(const float* src, int64_t rows, int64_t cols, WeightFormat f, float globalScale,
                             float* dst)
{
    const size_t bytes = size_t(rows * cols) * sizeof(float);
    cuda::Buffer buf(bytes);
    buf.upload(src, bytes);
    if (f == WeightFormat::NVFP4) {
        if (!(globalScale > 0.f)) {
            cuda::Buffer amax(sizeof(float));
            cuda::absMax(buf.as<float>(), rows * cols, amax.as<float>());
            float a = 0.f;
            amax.download(&a, sizeof a);
            globalScale = fmt::nvfp4GlobalScale(a);
        }
        cuda::nvfp4FakeQuant(buf.as<float>(), rows, cols, globalScale, buf.as<float>());
    } else {
        cuda::mxfp4FakeQuant(buf.as<float>(), rows, cols, false, buf.as<float>());
    }
    buf.download(dst, bytes);
}

} // namespace

at::Tensor fakeQuantBlockFormat(const at::Tensor& w, WeightFormat f, float nvfp4GlobalScale)
{
    const int64_t block = f == WeightFormat::NVFP4 ? 16 : (f == WeightFormat::MXFP4 ? 32 : 64);
    const at::Tensor x2 = w.reshape({-1, w.size(-1)}).to(at::kFloat);
    const int64_t rows = x2.size(0), k = x2.size(1), kp = (k + block - 1) / block * block;
    // A partial last block is padded with zeros (they change no block maximum) and cut off again.
    const at::Tensor x = (kp == k ? x2 : at::constant_pad_nd(x2, {0, kp - k}, 0.0)).contiguous();
    at::Tensor out = at::empty({rows, kp}, at::kFloat);
    const float* src = x.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    if (cudaKernelsEnabled() && (f == WeightFormat::NVFP4 || f == WeightFormat::MXFP4) && rows * kp > 0) {
        fakeQuantBlockFormatGpu(src, rows, kp, f, nvfp4GlobalScale, dst);
    } else {
        switch (f) {
        case WeightFormat::NVFP4: {
            const fmt::Nvfp4 q = fmt::nvfp4Quantize(src, rows, kp, nvfp4GlobalScale);
            fmt::nvfp4Dequantize(q, dst);
            break;
        }
        case WeightFormat::MXFP4: {
            const fmt::Mxfp4 q = fmt::mxfp4Quantize(src, rows, kp);
            fmt::mxfp4Dequantize(q, dst);
            break;
        }
        case WeightFormat::HiF4: {
            const fmt::Hif4 q = fmt::hif4Quantize(src, rows, kp);
            fmt::hif4Dequantize(q, dst);
            break;
        }
        default:
            throw Error("fakeQuantBlockFormat: not a block format");
        }
    }
    return (kp == k ? out : out.slice(1, 0, k).contiguous()).reshape(w.sizes());
}

at::Tensor fakeQuantIntAten(const at::Tensor& w, const WeightQuantSpec& spec)
{
    return fakeQuantInt(w.to(at::kFloat).contiguous(), spec, false);
}

at::Tensor fakeQuantWeight(const at::Tensor& w, const WeightQuantSpec& spec, float nvfp4GlobalScale)
{
    if (w.dim() != 2)
        throw InputError("weight quantization expects a 2-D weight, got " + std::to_string(w.dim()) + "-D");
    at::Tensor wf = w.to(at::kFloat).contiguous();
    switch (spec.format) {
    case WeightFormat::None:
        return wf;
    case WeightFormat::Int:
        return fakeQuantInt(wf, spec);
    case WeightFormat::NF4:
        return fakeQuantNf4(wf, spec.nf4Block, spec.nf4DoubleQuant);
    case WeightFormat::NVFP4:
        return fakeQuantBlockFormat(wf, spec.format, nvfp4GlobalScale);
    case WeightFormat::MXFP4:
    case WeightFormat::HiF4:
        return fakeQuantBlockFormat(wf, spec.format);
    }
    return wf;
}

} // namespace mq::core
