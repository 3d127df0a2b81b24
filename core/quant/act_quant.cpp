#include "quant/act_quant.h"

#include "common/error.h"

#include <string>

namespace mq::core {

namespace {

void checkBits(int bits)
{
    if (bits < 2 || bits > 8)
        throw InputError("activation quantization supports 2..8 bits, got " + std::to_string(bits));
}

} // namespace

at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits)
{
    checkBits(bits);
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = x.abs().amax(-1, true).div(qmax).clamp_min(1e-12);
    return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
}

at::Tensor fakeQuantPerChannel(const at::Tensor& x, const at::Tensor& alpha, int bits)
{
    checkBits(bits);
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = alpha.div(qmax).clamp_min(1e-12);
    // qmax * fl(alpha / qmax) can exceed alpha by an ulp; the grid's ends are +-alpha exactly.
    return at::minimum(at::maximum(at::clamp(at::round(x / scale), -qmax, qmax) * scale, -alpha), alpha);
}

} // namespace mq::core
