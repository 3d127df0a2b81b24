#include "quant/mdqfo.h"

#include "common/dist.h"
#include "common/runtime.h"
#include "cuda/kernels.h"

#include "common/error.h"
#include "common/vector_clones.h"
#include "quant/act_quant.h"
#include "quant/dabc.h"
#include "quant/grid_scores.h"
#include "quant/fp4_elements.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mq::core {

namespace {

// Per-element error |x - x_hat|^p; p = 2 avoids the pow call.
at::Tensor elementError(const at::Tensor& diff, double p)
{
    return p == 2.0 ? diff * diff : diff.abs().pow(p);
}

double cosineLoss(const at::Tensor& x, const at::Tensor& xh)
{
    return 1.0 - at::cosine_similarity(x, xh, 1, 1e-8).mean().item<double>();
}

// Rows used to score every step: a fixed, evenly spaced subset so the curve is comparable.
at::Tensor evalSubset(const at::Tensor& x, int64_t maxRows)
{
    if (x.size(0) <= maxRows)
        return x;
    at::Tensor idx = at::linspace(0, double(x.size(0) - 1), maxRows, at::TensorOptions().dtype(at::kDouble))
                         .round()
                         .to(at::kLong);
    return x.index_select(0, idx.to(x.device()));
}

LossPoint point(int step, const MorphologyLoss& l)
{
    LossPoint p;
    p.step = step;
    p.lp = l.lp;
    p.lcos = l.lcos;
    p.total = l.total;
    return p;
}

std::vector<float> toVector(const at::Tensor& t)
{
    at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

MdqfoResult gridSearch(const at::Tensor& x, const at::Tensor& alpha0, const at::Tensor& mask, int abits,
                       const DabcSettings& dabc, const MdqfoSettings& st, const at::Tensor& xe,
                       const CancelToken* cancel)
{
    const int64_t T = x.size(0), K = x.size(1);
    const int n = std::max(1, st.ratios);
    std::vector<double> ratios(static_cast<size_t>(n), 0.0);
    for (int j = 0; j < n; ++j)
        ratios[size_t(j)] = n == 1 ? st.rMax
                                   : std::exp(std::log(st.rMin) + (std::log(st.rMax) - std::log(st.rMin)) * j / (n - 1));
    at::Tensor ratioT = at::tensor(ratios, at::TensorOptions().dtype(at::kDouble)).to(x.options());
    at::Tensor ema; // [n, K]
    at::Tensor best = alpha0.clone();
    MdqfoResult res;
    res.curve.push_back(point(0, morphologyLoss(xe, alpha0, mask, abits, dabc, st)));
    const int64_t bt = std::max<int64_t>(1, st.batchTokens);
    int step = 0;
    for (int64_t start = 0; start < T; start += bt) {
        if (cancel)
            cancel->check();
        at::Tensor xb = x.narrow(0, start, std::min(bt, T - start));
        at::Tensor scores;
        // The fused scorers: the GPU's grid kernel (--device cuda) or the CPU's.
        const bool onGpu = cudaKernelsEnabled();
        auto fused = [&](const std::vector<double>& r) {
            return onGpu ? gridScoresCuda(xb, alpha0, mask, r, abits, dabc.rho, st)
                         : gridScoresCpu(xb.contiguous(), alpha0, mask, r, abits, dabc.rho, st);
        };
        if ((onGpu || xb.device().is_cpu()) && dist::parallel()) {
            // Under MPI each rank scores its block of the ratios (each ratio's scores come from its
            // own pass, the same on any rank) and the blocks are gathered in ratio order: every
            // rank then holds the single process's score matrix.
            const auto [j0, j1] = dist::share(ratios.size());
            const std::vector<double> mine(ratios.begin() + long(j0), ratios.begin() + long(j1));
            const at::Tensor local = mine.empty() ? at::zeros({0, K}, at::kFloat) : fused(mine);
            scores = dist::gatherRows(local).to(x.options());
        } else if (onGpu || xb.device().is_cpu()) {
            scores = fused(ratios).to(x.options());
        } else {
            scores = at::empty({n, K}, x.options());
            for (int j = 0; j < n; ++j) {
                at::Tensor a = alpha0 * ratios[size_t(j)];
                at::Tensor xh = compensatedInput(xb, fakeQuantPerChannel(xb, a, abits), mask, a, dabc.rho);
                // Per channel: its own L_p term plus the shared cosine term of this ratio, so the
                // choice of each channel also weighs the direction of whole tokens.
                scores[j] = elementError(xb - xh, st.p).mean(0) + st.lambdaCos * cosineLoss(xb, xh);
            }
        }
        ema = ema.defined() ? ema * st.emaDecay + scores * (1.0 - st.emaDecay) : scores;
        best = alpha0 * ratioT.index_select(0, ema.argmin(0));
        res.curve.push_back(point(++step, morphologyLoss(xe, best, mask, abits, dabc, st)));
    }
    res.alpha = toVector(best);
    return res;
}

MdqfoResult adam(const at::Tensor& x, const at::Tensor& alpha0, const at::Tensor& mask, int abits,
                 const DabcSettings& dabc, const MdqfoSettings& st, const at::Tensor& xe, const CancelToken* cancel)
{
    const double qmax = double((1 << (abits - 1)) - 1);
    const int64_t T = x.size(0);
    MdqfoResult res;
    res.curve.push_back(point(0, morphologyLoss(xe, alpha0, mask, abits, dabc, st)));
    at::Tensor logA = alpha0.clamp_min(1e-8).log().detach().clone().requires_grad_(true);
    at::Tensor m1 = at::zeros_like(alpha0), m2 = at::zeros_like(alpha0);
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const at::Tensor maskF = mask.to(x.scalar_type());
    const int64_t bt = std::max<int64_t>(1, st.batchTokens);
    at::Tensor best = alpha0.clone();
    double bestLoss = res.curve.front().total;
    for (int it = 1; it <= st.adamSteps; ++it) {
        if (cancel)
            cancel->check();
        const int64_t start = ((it - 1) * bt) % std::max<int64_t>(1, T);
        at::Tensor xb = x.narrow(0, start, std::min(bt, T - start));
        at::Tensor a = logA.exp();
        at::Tensor s = a / qmax;
        at::Tensor xc = at::max(at::min(xb, a), -a);
        at::Tensor u = xc / s;
        at::Tensor xq = (u + (at::round(u) - u).detach()) * s; // straight-through rounding
        at::Tensor xh = xq + (xb - xq) * maskF;
        at::Tensor lp = (st.p == 2.0 ? (xb - xh).pow(2) : (xb - xh).abs().add(1e-12).pow(st.p)).mean();
        at::Tensor lc = 1.0 - at::cosine_similarity(xb, xh, 1, 1e-8).mean();
        at::Tensor loss = lp + st.lambdaCos * lc;
        loss.backward();
        {
            at::NoGradGuard ng;
            at::Tensor g = logA.grad();
            m1.mul_(b1).add_(g * (1 - b1));
            m2.mul_(b2).add_(g * g * (1 - b2));
            at::Tensor mh = m1 / (1 - std::pow(b1, it)), vh = m2 / (1 - std::pow(b2, it));
            logA.sub_(st.adamLr * mh / (vh.sqrt() + eps));
            logA.grad().zero_();
        }
        at::Tensor cur = logA.detach().exp();
        const MorphologyLoss l = morphologyLoss(xe, cur, mask, abits, dabc, st);
        res.curve.push_back(point(it, l));
        if (l.total < bestLoss) {
            bestLoss = l.total;
            best = cur.clone();
        }
    }
    res.alpha = toVector(best);
    return res;
}

} // namespace

// The grid's scores in one pass per ratio over a CPU batch, with no temporaries: the same
// quantizer as fakeQuantPerChannel (round half to even, clamp to +-alpha), the same
// compensation as compensatedInput, and per-channel L_p plus the ratio's shared cosine term.
// xb [T, K] float32 contiguous; returns [ratios, K].
at::Tensor gridScoresCpu(const at::Tensor& xb, const at::Tensor& alpha0, const at::Tensor& mask,
                         const std::vector<double>& ratios, int abits, double rho, const MdqfoSettings& st)
{
    const int64_t T = xb.size(0), K = xb.size(1), n = int64_t(ratios.size());
    at::Tensor a0 = alpha0.to(at::kFloat).contiguous(), m = mask.to(at::kFloat).contiguous();
    at::Tensor out = at::empty({n, K}, at::kFloat);
    const float* x = xb.data_ptr<float>();
    at::parallel_for(0, n, 1, [&](int64_t j0, int64_t j1) {
        gridScoresRange(x, T, K, a0.data_ptr<float>(), m.data_ptr<float>(), ratios.data(), j0, j1, abits, rho, st.p,
                        st.lambdaCos, out.data_ptr<float>());
    });
    return out.to(xb.device());
}

at::Tensor gridScoresCuda(const at::Tensor& xb, const at::Tensor& alpha0, const at::Tensor& mask,
                          const std::vector<double>& ratios, int abits, double rho, const MdqfoSettings& st)
{
    const at::Tensor x = xb.to(at::kFloat).contiguous();
    const int64_t T = x.size(0), K = x.size(1);
    const int n = int(ratios.size());
    const at::Tensor a0 = alpha0.to(at::kCPU, at::kFloat).contiguous(), m = mask.to(at::kCPU, at::kFloat).contiguous();
    cuda::Buffer bx, ba(size_t(K) * 4), bm(size_t(K) * 4), bs(size_t(n) * size_t(K) * 4),
        bw(cuda::gridScoresWorkspaceBytes(T, K, n));
    const float* px = nullptr;
    if (x.is_cuda()) {
        px = x.data_ptr<float>();
    } else {
        bx = cuda::Buffer(size_t(x.numel()) * 4);
        bx.upload(x.data_ptr<float>(), size_t(x.numel()) * 4);
        px = bx.as<float>();
    }
    ba.upload(a0.data_ptr<float>(), size_t(K) * 4);
    bm.upload(m.data_ptr<float>(), size_t(K) * 4);
    cuda::GridParams prm;
    prm.abits = abits;
    prm.rho = rho;
    prm.p = st.p;
    prm.lambdaCos = st.lambdaCos;
    cuda::gridScores(px, T, K, ba.as<float>(), bm.as<float>(), ratios.data(), n, prm, bs.as<float>(), bw.get());
    at::Tensor out = at::empty({n, K}, at::kFloat);
    bs.download(out.data_ptr<float>(), size_t(n) * size_t(K) * 4); // synchronous: waits for the kernels
    return out;
}

namespace {

// One row of morphologyLossCpu: the row quantized and compensated into h, then
// out = {sum_c |x - h|^p, sum x h, sum x^2, sum h^2}, each sum in float64 over eight interleaved
// lanes (which vectorize; MQ_VECTOR_CLONES, and this file is built without floating-point
// contraction, so every clone gives the same bits) added up in a fixed order at the end. form:
// 2, 1 or 5 (p = 0.5) as in gridScoresRange, 0 any other p (std::pow, one by one).
MQ_VECTOR_CLONES
void lossRow(const float* row, float* h, int64_t K, const float* scale, const float* alpha, const float* thr,
             float qmax, bool rhoPositive, int form, double p, double* out)
{
    for (int64_t c = 0; c < K; ++c) {
        const float v = row[c];
        const float q = fmt::elem::quantizeStaticGrid(v, scale[c], alpha[c], qmax);
        const bool keep = rhoPositive ? std::fabs(v) > thr[c] : thr[c] == 0.0f;
        h[c] = keep ? v : q;
    }
    constexpr int kLanes = 8;
    double err[kLanes] = {}, dot[kLanes] = {}, nx[kLanes] = {}, nh[kLanes] = {};
    auto term = [form, p](double d) { // d = |x - h|
        return form == 2 ? d * d : form == 1 ? d : form == 5 ? std::sqrt(d) : (d == 0.0 ? 0.0 : std::pow(d, p));
    };
    int64_t c = 0;
    if (form != 0) {
        for (; c + kLanes <= K; c += kLanes)
            for (int l = 0; l < kLanes; ++l) {
                const double v = row[c + l], hv = h[c + l], d = std::fabs(v - hv);
                err[l] += form == 2 ? d * d : form == 1 ? d : std::sqrt(d);
                dot[l] += v * hv;
                nx[l] += v * v;
                nh[l] += hv * hv;
            }
    }
    for (; c < K; ++c) {
        const double v = row[c], hv = h[c];
        err[0] += term(std::fabs(v - hv));
        dot[0] += v * hv;
        nx[0] += v * v;
        nh[0] += hv * hv;
    }
    double sums[4] = {0, 0, 0, 0};
    for (int l = 0; l < kLanes; ++l) {
        sums[0] += err[l];
        sums[1] += dot[l];
        sums[2] += nx[l];
        sums[3] += nh[l];
    }
    for (int i = 0; i < 4; ++i)
        out[i] = sums[i];
}

// The loss of one per-channel choice of alpha in one pass over a CPU float32 [T, K] matrix:
// the same quantizer and compensation as the grid kernel (and as fakeQuantPerChannel +
// compensatedInput), sums in float64. Rows go in fixed blocks whose partial sums are added in
// block order, so the result does not depend on the thread count.
MorphologyLoss morphologyLossCpu(const at::Tensor& xIn, const at::Tensor& alphaIn, const at::Tensor& maskIn,
                                 int abits, double rho, const MdqfoSettings& st)
{
    const at::Tensor xc = xIn.contiguous();
    const at::Tensor a = alphaIn.to(at::kCPU, at::kFloat).contiguous(), m = maskIn.to(at::kCPU, at::kFloat).contiguous();
    const int64_t T = xc.size(0), K = xc.size(1);
    const float qmax = float((1 << (abits - 1)) - 1);
    const float* x = xc.data_ptr<float>();
    const size_t nk = static_cast<size_t>(K);
    std::vector<float> alpha(nk), scale(nk), thr(nk);
    for (int64_t c = 0; c < K; ++c) {
        alpha[size_t(c)] = a.data_ptr<float>()[c];
        scale[size_t(c)] = std::max(alpha[size_t(c)] / qmax, 1e-12f);
        thr[size_t(c)] = m.data_ptr<float>()[c] > 0.5f ? float(rho) * alpha[size_t(c)] : INFINITY;
    }
    const double p = st.p;
    const int form = p == 2.0 ? 2 : p == 1.0 ? 1 : p == 0.5 ? 5 : 0;
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (T + kBlock - 1) / kBlock;
    std::vector<double> errSum(size_t(blocks), 0.0), cosSum(size_t(blocks), 0.0);
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
        std::vector<float> h(nk);
        for (int64_t b = b0; b < b1; ++b) {
            double err = 0.0, cs = 0.0;
            for (int64_t t = b * kBlock; t < std::min(T, (b + 1) * kBlock); ++t) {
                double r[4];
                lossRow(x + t * K, h.data(), K, scale.data(), alpha.data(), thr.data(), qmax, rho > 0.0, form, p, r);
                err += r[0];
                // at::cosine_similarity's convention: the product of norms clamped at eps^2.
                cs += r[1] / std::sqrt(std::max(r[2] * r[3], 1e-16));
            }
            errSum[size_t(b)] = err;
            cosSum[size_t(b)] = cs;
        }
    });
    double err = 0.0, cs = 0.0;
    for (int64_t b = 0; b < blocks; ++b) {
        err += errSum[size_t(b)];
        cs += cosSum[size_t(b)];
    }
    MorphologyLoss l;
    l.lp = T * K > 0 ? err / double(T * K) : 0.0;
    l.lcos = 1.0 - (T > 0 ? cs / double(T) : 1.0);
    l.total = l.lp + st.lambdaCos * l.lcos;
    return l;
}

} // namespace

MorphologyLoss morphologyLoss(const at::Tensor& x, const at::Tensor& alpha, const at::Tensor& mask, int abits,
                              const DabcSettings& dabc, const MdqfoSettings& st)
{
    if (x.device().is_cpu() && x.scalar_type() == at::kFloat && x.dim() == 2)
        return morphologyLossCpu(x, alpha, mask, abits, dabc.rho, st);
    return morphologyLossOf(x, compensatedInput(x, fakeQuantPerChannel(x, alpha, abits), mask, alpha, dabc.rho), st);
}

MorphologyLoss morphologyLossOf(const at::Tensor& x, const at::Tensor& xh, const MdqfoSettings& st)
{
    MorphologyLoss l;
    l.lp = elementError(x - xh, st.p).mean().item<double>();
    l.lcos = cosineLoss(x, xh);
    l.total = l.lp + st.lambdaCos * l.lcos;
    return l;
}

MdqfoResult optimizeClipping(const at::Tensor& xIn, const at::Tensor& alpha0In, const at::Tensor& maskIn, int abits,
                             const DabcSettings& dabc, const MdqfoSettings& st, const CancelToken* cancel)
{
    if (xIn.dim() != 2 || alpha0In.numel() != xIn.size(1) || maskIn.numel() != xIn.size(1))
        throw Error("optimizeClipping: x must be [T, K] with alpha0 and mask of K entries");
    if (abits < 2 || abits > 8)
        throw InputError("MDQFO needs 2..8 activation bits, got " + std::to_string(abits));
    // The plan runs under InferenceMode (no autograd); Adam needs autograd, so it is switched
    // back on here and the inputs copied outside it (inference tensors cannot be saved for
    // backward).
    c10::InferenceMode autograd(false);
    at::Tensor x = xIn.to(at::kFloat).contiguous().clone();
    at::Tensor alpha0 = alpha0In.to(x.options()).clamp_min(1e-8).clone();
    at::Tensor mask = maskIn.to(x.options()).clone();
    at::Tensor xe = evalSubset(x, 2048);
    return st.solver == MdqfoSolver::Adam ? adam(x, alpha0, mask, abits, dabc, st, xe, cancel)
                                          : gridSearch(x, alpha0, mask, abits, dabc, st, xe, cancel);
}

} // namespace mq::core
