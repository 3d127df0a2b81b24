#include "quant/act_quant.h"

namespace mq::core {

at::Tensor fakeQuantPerToken(const at::Tensor& x, int bits)
{
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = x.abs().amax(-1, true).div(qmax).clamp_min(1e-12);
    return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
}

at::Tensor fakeQuantPerChannel(const at::Tensor& x, const at::Tensor& alpha, int bits)
{
    const double qmax = double((1 << (bits - 1)) - 1);
    at::Tensor scale = alpha.div(qmax).clamp_min(1e-12);
    return at::clamp(at::round(x / scale), -qmax, qmax) * scale;
}

} // namespace mq::core
