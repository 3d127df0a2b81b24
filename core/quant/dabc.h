#pragma once
// Distribution-Aware Bias Compensation (DESIGN.md, Eqs. 6 and 7).
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "quant/dabc_mask.h"
#include "session.h"

namespace mq::core {

// X_hat = Q(X) + (X - Q(X)) * m, the input that makes W_Q X_hat + b equal Eq. 7.
// With rho > 0 only elements with |x| > rho * alpha_c are compensated in masked channels.
// x, xq: [T, K]; mask: [K] (0/1, any dtype); alpha: [K] (needed when rho > 0).
at::Tensor compensatedInput(const at::Tensor& x, const at::Tensor& xq, const at::Tensor& mask,
                            const at::Tensor& alpha, double rho);

// Eq. 7 computed as the engine's kernel would: the dense product of Q(X) with W_Q plus a
// product restricted to the masked channels (cost O(T * N * |m|)).
// x, xq: [T, K]; wq: [N, K]; bias: [N] or undefined; mask: [K].
at::Tensor dabcLinear(const at::Tensor& x, const at::Tensor& xq, const at::Tensor& wq, const at::Tensor& bias,
                      const at::Tensor& mask, const at::Tensor& alpha, double rho);

} // namespace mq::core
