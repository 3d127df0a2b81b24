#include "quant/act_quant.h"

#include "common/error.h"
#include "common/vector_clones.h"
#include "quant/dabc.h"
#include "quant/fp4_elements.h"
#include "quant/mdqfo.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace mq::core {

namespace {

void checkBits(int bits)
{
    if (bits < 2 || bits > 8)
        throw InputError("activation quantization supports 2..8 bits, got " + std::to_string(bits));
}

// One row of fakeQuantPerChannelCompensated, element by element as the ATen expressions go:
// fmt::elem::quantizeStaticGrid, and with a mask xq + ((x - xq) * m) [* (|x| > bound)], each
// product rounded as ATen's float kernels round it (a product by 0 or 1 is exact, so a contracted
// multiply-add would give the same too).
MQ_VECTOR_CLONES
void quantizeRowPerChannel(const float* x, float* o, int64_t k, const float* scale, const float* alpha,
                           const float* mask, const float* bound, float qmax)
{
    auto q = [&](int64_t c) { return fmt::elem::quantizeStaticGrid(x[c], scale[c], alpha[c], qmax); };
    if (!mask) {
        for (int64_t c = 0; c < k; ++c)
            o[c] = q(c);
    } else if (!bound) {
        for (int64_t c = 0; c < k; ++c) {
            const float xq = q(c);
            o[c] = xq + (x[c] - xq) * mask[c];
        }
    } else {
        for (int64_t c = 0; c < k; ++c) {
            const float xq = q(c);
            const float big = std::fabs(x[c]) > bound[c] ? 1.f : 0.f;
            o[c] = xq + (x[c] - xq) * mask[c] * big;
        }
    }
}

} // namespace

at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits)
{
    checkBits(bits);
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = x.abs().amax(-1, true).div(qmax).clamp_min(1e-12);
    return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
}

at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits, double clip, bool asym)
{
    if (!asym && clip == 1.0)
        return fakeQuantPerToken(x, bits);
    checkBits(bits);
    if (!(clip > 0.0 && clip <= 1.0))
        throw InputError("activation clip ratio must be in (0, 1], got " + std::to_string(clip));
    if (!asym) {
        const double qmax = double((1 << (bits - 1)) - 1);
        at::Tensor scale = x.abs().amax(-1, true).mul(clip / qmax).clamp_min(1e-12);
        return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
    }
    const double qmax = double((1 << bits) - 1);
    at::Tensor lo = x.amin(-1, true).clamp_max(0.0).mul(clip), hi = x.amax(-1, true).clamp_min(0.0).mul(clip);
    at::Tensor scale = (hi - lo).div(qmax).clamp_min(1e-12);
    at::Tensor zero = at::round(-lo / scale);
    return (at::clamp(at::round(x / scale) + zero, 0.0, qmax) - zero) * scale;
}

at::Tensor fakeQuantPerTokenGroups(const at::Tensor& x, int bits, double clip, bool asym, int groupSize)
{
    if (groupSize <= 0)
        return fakeQuantPerToken(x, bits, clip, asym);
    const int64_t k = x.size(-1), whole = k / groupSize * groupSize;
    auto groups = [&](const at::Tensor& part, int64_t g) { // [..., n * g] as [..., n, g]
        std::vector<int64_t> shape(part.sizes().begin(), part.sizes().end() - 1);
        shape.push_back(part.size(-1) / g);
        shape.push_back(g);
        return fakeQuantPerToken(part.reshape(shape), bits, clip, asym).reshape(part.sizes());
    };
    if (whole == k)
        return groups(x, groupSize);
    // A partial last group of k - whole channels has a scale of its own.
    const at::Tensor head = x.narrow(-1, 0, whole), tail = x.narrow(-1, whole, k - whole);
    return at::cat({whole > 0 ? groups(head.contiguous(), groupSize) : head, groups(tail.contiguous(), k - whole)}, -1);
}

float perTensorScale(double lo, double hi, double clip, int bits)
{
    const double qmax = double((1 << (bits - 1)) - 1);
    return float(std::max(clip * std::max(std::fabs(lo), std::fabs(hi)) / qmax, 1e-12));
}

at::Tensor fakeQuantPerTensor(const at::Tensor& x, int bits, double lo, double hi, double clip, bool asym)
{
    checkBits(bits);
    if (!(clip > 0.0 && clip <= 1.0))
        throw InputError("activation clip ratio must be in (0, 1], got " + std::to_string(clip));
    if (!std::isfinite(lo) || !std::isfinite(hi))
        throw InputError("per-tensor activation range is not finite (calibration statistics with NaN or Inf?)");
    if (!asym) {
        const double qmax = double((1 << (bits - 1)) - 1);
        const double scale = double(perTensorScale(lo, hi, clip, bits));
        return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
    }
    const double qmax = double((1 << bits) - 1);
    const double l = clip * std::min(lo, 0.0), h = clip * std::max(hi, 0.0);
    const double scale = double(float(std::max((h - l) / qmax, 1e-12))); // stored as float32
    const double zero = std::nearbyint(-l / scale);
    return (at::clamp(at::round(x / scale) + zero, 0.0, qmax) - zero) * scale;
}

at::Tensor fakeQuantPerTensorDynamic(const at::Tensor& x, int bits, double clip, bool asym)
{
    if (x.numel() == 0)
        return x;
    return fakeQuantPerTensor(x, bits, x.min().item<double>(), x.max().item<double>(), clip, asym);
}

double searchTokenClip(const at::Tensor& x, const at::Tensor& gram, int bits, bool asym, int steps,
                       const MdqfoSettings* morphology)
{
    return searchClip(x, gram, steps, morphology, [&](const at::Tensor& v, double clip) {
        return fakeQuantPerToken(v, bits, clip, asym);
    });
}

double searchClip(const at::Tensor& x, const at::Tensor& gram, int steps, const MdqfoSettings* morphology,
                  const std::function<at::Tensor(const at::Tensor&, double)>& quantize)
{
    double best = 1.0, bestErr = 0.0;
    for (int i = 0; i <= std::max(0, steps); ++i) {
        // float32 ratios: an export stores them so, and the plan is then the export exactly
        const double clip = steps > 0 ? double(float(1.0 - 0.3 * double(i) / double(steps))) : 1.0;
        const at::Tensor xq = quantize(x, clip);
        const at::Tensor d = x - xq;
        const double err = morphology ? morphologyLossOf(x, xq, *morphology).total
                                      : (d.matmul(gram) * d).sum().item<double>();
        if (i == 0 || err < bestErr) {
            best = clip;
            bestErr = err;
        }
    }
    return best;
}

at::Tensor fakeQuantPerChannel(const at::Tensor& x, const at::Tensor& alpha, int bits)
{
    checkBits(bits);
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = alpha.div(qmax).clamp_min(1e-12);
    // qmax * fl(alpha / qmax) can exceed alpha by an ulp; the grid's ends are +-alpha exactly.
    return at::minimum(at::maximum(at::clamp(at::round(x / scale), -qmax, qmax) * scale, -alpha), alpha);
}

at::Tensor fakeQuantPerChannelCompensated(const at::Tensor& x, const at::Tensor& alpha, int bits,
                                          const at::Tensor& mask, double rho)
{
    checkBits(bits);
    const int64_t k = x.dim() > 0 ? x.size(-1) : 0;
    if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || alpha.scalar_type() != at::kFloat
        || alpha.dim() != 1 || alpha.size(0) != k || !alpha.device().is_cpu()
        || (mask.defined() && (mask.numel() != k || !mask.device().is_cpu()))) {
        const at::Tensor xq = fakeQuantPerChannel(x, alpha, bits);
        return mask.defined() ? compensatedInput(x, xq, mask, alpha, rho) : xq;
    }
    const double qmax = double((1 << (bits - 1)) - 1);
    // The per-channel vectors as the expressions compute them (ATen, [K] only).
    const at::Tensor a = alpha.contiguous();
    const at::Tensor scale = a.div(qmax).clamp_min(1e-12).contiguous();
    at::Tensor m, bound;
    if (mask.defined()) {
        m = mask.reshape({k}).to(at::kFloat).contiguous();
        if (rho > 0.0)
            bound = (a * rho).contiguous();
    }
    const at::Tensor xc = x.contiguous();
    at::Tensor out = at::empty_like(xc);
    const int64_t rows = k > 0 ? xc.numel() / k : 0;
    const float* src = xc.data_ptr<float>();
    float* dst = out.data_ptr<float>();
    const float* ps = scale.data_ptr<float>();
    const float* pa = a.data_ptr<float>();
    const float* pm = m.defined() ? m.data_ptr<float>() : nullptr;
    const float* pb = bound.defined() ? bound.data_ptr<float>() : nullptr;
    const float fq = float(qmax);
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, k));
    at::parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r)
            quantizeRowPerChannel(src + r * k, dst + r * k, k, ps, pa, pm, pb, fq);
    });
    return out;
}

} // namespace mq::core
