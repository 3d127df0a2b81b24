#include "quant/dabc.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>

namespace mq::core {

at::Tensor compensatedInput(const at::Tensor& x, const at::Tensor& xq, const at::Tensor& mask,
                            const at::Tensor& alpha, double rho)
{
    at::Tensor m = mask.to(x.scalar_type());
    if (rho > 0.0) {
        at::Tensor big = (x.abs() > alpha.to(x.scalar_type()) * rho).to(x.scalar_type());
        return xq + (x - xq) * m * big;
    }
    return xq + (x - xq) * m;
}

at::Tensor dabcLinear(const at::Tensor& x, const at::Tensor& xq, const at::Tensor& wq, const at::Tensor& bias,
                      const at::Tensor& mask, const at::Tensor& alpha, double rho)
{
    at::Tensor y = bias.defined() ? at::linear(xq, wq, bias) : at::linear(xq, wq);
    at::Tensor idx = mask.to(at::kBool).nonzero().flatten();
    if (idx.numel() == 0)
        return y;
    at::Tensor r = (x - xq).index_select(1, idx); // [T, |m|] residuals of the masked channels
    if (rho > 0.0) {
        at::Tensor a = alpha.to(x.scalar_type()).index_select(0, idx) * rho;
        r = r * (x.index_select(1, idx).abs() > a).to(x.scalar_type());
    }
    return y + at::matmul(r, wq.index_select(1, idx).t());
}

} // namespace mq::core
