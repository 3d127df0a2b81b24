#include "quant/gptq.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"
#include "quant/formats.h"
#include "quant/weight_quant.h"

namespace mq::core {

namespace {

// Per (row, parameter group) quantizer parameters (see stored scales in session.h):
//   Int:   s scale, z zero (symmetric: 0 on the signed grid)
//   NVFP4: s = e4m3 block scale / global scale (the divisor), per 16
//   MXFP4: z = the shared exponent, s = 2^z, per 32
//   HiF4:  s the unit's E6M2 scale, z = 2^(a+b) of the 4-element subgroup, r = bf16(1/s), per 4
struct QuantParams {
    std::vector<float> s, z, r;
};

struct Grid {
    WeightFormat format = WeightFormat::Int;
    bool symmetric = true;
    float qmax = 7.f;   // Int symmetric: 2^(b-1)-1 (codes -qmax..qmax); asymmetric: 2^b - 1
    int offset = 8;     // Int: code stored as u = c + offset (symmetric), u = c (asymmetric)
    int64_t paramGroup = 0; // inputs per parameter set
    ScaleDtype scaleDtype = ScaleDtype::F32; // Int: scales rounded to it
};

// The dequantized value of w and its code under the parameters of its group.
inline float roundTo(const Grid& g, float w, float s, float z, float r, uint8_t* code)
{
    switch (g.format) {
    case WeightFormat::NVFP4:
        *code = fmt::e2m1Encode(w / s);
        return fmt::e2m1Decode(*code) * s;
    case WeightFormat::MXFP4:
        *code = fmt::e2m1Encode(std::ldexp(w, -int(z)));
        return std::ldexp(fmt::e2m1Decode(*code), int(z));
    case WeightFormat::HiF4: {
        const float k = std::min(7.f, std::floor((std::fabs(w) / z) * r * 4.f + 0.5f));
        *code = uint8_t((std::signbit(w) ? 8 : 0) | int(k));
        const float v = k / 4.f * z * s;
        return std::signbit(w) ? -v : v;
    }
    default:
        break;
    }
    if (g.symmetric) {
        float q = std::nearbyint(w / s);
        q = q < -g.qmax ? -g.qmax : (q > g.qmax ? g.qmax : q);
        *code = uint8_t(int(q) + g.offset);
        return q * s;
    }
    float u = std::nearbyint(w / s) + z;
    u = u < 0.f ? 0.f : (u > g.qmax ? g.qmax : u);
    *code = uint8_t(int(u));
    return (u - z) * s;
}

// Integer parameters of one group's values w[0..n) at clip factor p (see gptq.h).
inline void groupParams(const Grid& g, const float* w, int64_t n, double p, float* s, float* z)
{
    if (g.symmetric) {
        float m = 0.f;
        for (int64_t i = 0; i < n; ++i)
            m = std::max(m, std::fabs(w[i]));
        *s = roundScale(std::max(float(double(m) * p / double(g.qmax)), 1e-12f), g.scaleDtype);
        *z = 0.f;
        return;
    }
    float lo = 0.f, hi = 0.f; // the range holds 0, as fakeQuantWeight's
    for (int64_t i = 0; i < n; ++i) {
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
    }
    if (p != 1.0) {
        lo = float(double(lo) * p);
        hi = float(double(hi) * p);
    }
    *s = roundScale(std::max((hi - lo) / g.qmax, 1e-12f), g.scaleDtype);
    *z = std::min(std::max(std::nearbyint(-lo / *s), 0.f), g.qmax);
}

// The block formats' parameters of w [N, K], as formats.h chooses them (the same arithmetic,
// so that with nothing to spread GPTQ gives fmt's round-to-nearest exactly).
QuantParams blockParams(const Grid& grid, const at::Tensor& w, float* globalScale)
{
    const int64_t n = w.size(0), k = w.size(1), per = k / grid.paramGroup;
    QuantParams p;
    p.s.assign(size_t(n * per), 1.f);
    p.z.assign(size_t(n * per), 0.f);
    p.r.assign(size_t(n * per), 0.f);
    const float* src = w.data_ptr<float>();
    if (grid.format == WeightFormat::NVFP4) {
        // The divisors of fmt::nvfp4Quantize, taken from its scale bytes.
        const fmt::Nvfp4 q = fmt::nvfp4Quantize(src, n, k, *globalScale); // given > 0: a fused projection's shared one
        *globalScale = q.globalScale;
        for (size_t i = 0; i < q.scales.size(); ++i)
            p.s[i] = fmt::e4m3Decode(q.scales[i]) / q.globalScale;
    } else if (grid.format == WeightFormat::MXFP4) {
        const fmt::Mxfp4 q = fmt::mxfp4Quantize(src, n, k);
        for (size_t i = 0; i < q.scales.size(); ++i) {
            if (q.scales[i] == 0xFF)
                throw InputError("MXFP4: a weight block holds Inf or NaN");
            const int e = int(q.scales[i]) - 127;
            p.z[i] = float(e);
            p.s[i] = std::ldexp(1.f, e);
        }
    } else { // HiF4: per 4 elements
        const fmt::Hif4 q = fmt::hif4Quantize(src, n, k);
        for (size_t i = 0; i < p.s.size(); ++i) {
            const float s = q.scales[i / 16];
            p.s[i] = s;
            p.z[i] = float(1 << (q.exp8[i / 2] + q.exp4[i]));
            p.r[i] = fmt::bf16Round(1.f / s);
        }
    }
    return p;
}

// Integer parameters for every row and group of w [N, K] (contiguous float32), with the clip
// search weighting each column's squared error by d[k] (diag H).
QuantParams chooseParams(const Grid& grid, const at::Tensor& w, int64_t groupSize, const std::vector<double>& d,
                         const GptqSettings& st)
{
    const int64_t n = w.size(0), k = w.size(1), groups = k / groupSize;
    QuantParams p;
    p.s.assign(size_t(n * groups), 1.f);
    p.z.assign(size_t(n * groups), 0.f);
    p.r.assign(size_t(n * groups), 0.f);
    const float* src = w.data_ptr<float>();
    const int steps = std::max(0, st.clipSteps);
    at::parallel_for(0, n * groups, 16, [&](int64_t b, int64_t e) {
        uint8_t code = 0;
        for (int64_t rg = b; rg < e; ++rg) {
            const int64_t r = rg / groups, gi = rg % groups;
            const float* a = src + r * k + gi * groupSize;
            const double* dd = d.data() + gi * groupSize;
            float bestS = 1.f, bestZ = 0.f;
            double bestErr = 0.0;
            for (int i = 0; i <= steps; ++i) {
                const double factor = steps ? 1.0 - (1.0 - st.clipMin) * double(i) / double(steps) : 1.0;
                float s = 1.f, z = 0.f;
                groupParams(grid, a, groupSize, factor, &s, &z);
                double err = 0.0;
                if (steps) {
                    for (int64_t c = 0; c < groupSize; ++c) {
                        const double diff = double(a[c]) - double(roundTo(grid, a[c], s, z, 0.f, &code));
                        err += dd[c] * diff * diff;
                    }
                }
                if (i == 0 || err < bestErr) {
                    bestErr = err;
                    bestS = s;
                    bestZ = z;
                }
            }
            p.s[size_t(rg)] = bestS;
            p.z[size_t(rg)] = bestZ;
        }
    });
    return p;
}

at::Tensor dampedHessian(const at::Tensor& h, double damp, std::vector<bool>* dead)
{
    at::Tensor h64 = h.to(at::kCPU, at::kDouble).clone();
    const int64_t k = h64.size(0);
    at::Tensor diag = h64.diagonal();
    auto dg = diag.accessor<double, 1>();
    double mean = 0.0;
    if (dead)
        dead->assign(size_t(k), false);
    for (int64_t i = 0; i < k; ++i) {
        if (!(dg[i] > 0.0)) { // a column no calibration row reached
            dg[i] = 1.0;
            if (dead)
                (*dead)[size_t(i)] = true;
        }
        mean += dg[i];
    }
    mean /= double(std::max<int64_t>(1, k));
    diag.add_(std::max(damp, 0.0) * mean);
    return h64;
}

at::Tensor cholesky(const at::Tensor& a, bool upper, const char* what)
{
    try {
        return at::linalg_cholesky(a, upper);
    } catch (const std::exception&) {
        throw Error(std::string("GPTQ: the ") + what
                    + " is not positive definite (too few calibration rows for this Linear, or a NaN in its "
                      "inputs); raise the dampening");
    }
}

} // namespace

GptqResult gptqQuantize(const at::Tensor& wIn, const at::Tensor& h, const WeightQuantSpec& spec,
                        const GptqSettings& st, float nvfp4GlobalScale)
{
    if (!gptqRounds(spec.format))
        throw InputError("GPTQ quantizes integer, nvfp4, mxfp4 or hif4 weights, not " + spec.label());
    const bool block = spec.format != WeightFormat::Int;
    if (spec.format == WeightFormat::Int && (spec.bits < 2 || spec.bits > 8))
        throw InputError("GPTQ supports 2..8 weight bits, got " + std::to_string(spec.bits));
    if (wIn.dim() != 2)
        throw InputError("GPTQ expects a 2-D weight");
    const int64_t n = wIn.size(0), k = wIn.size(1);
    Grid grid;
    grid.format = spec.format;
    const int64_t unit = spec.format == WeightFormat::NVFP4 ? 16
        : spec.format == WeightFormat::MXFP4                ? 32
        : spec.format == WeightFormat::HiF4                 ? 64
                                                            : (spec.groupSize > 0 ? spec.groupSize : k);
    if (block && k % unit != 0) {
        // A partial last block: zero columns pad it (they quantize to 0 and spread nothing, as in
        // fakeQuantBlockFormat), and are cut off again.
        const int64_t kp = (k + unit - 1) / unit * unit;
        const at::Tensor wpad = at::constant_pad_nd(wIn.to(at::kCPU, at::kFloat), {0, kp - k}, 0.0);
        at::Tensor hpad = at::eye(kp, at::kDouble);
        hpad.slice(0, 0, k).slice(1, 0, k).copy_(h.to(at::kCPU, at::kDouble));
        GptqResult r = gptqQuantize(wpad, hpad, spec, st, nvfp4GlobalScale);
        StoredWeight& sw = r.stored;
        const int64_t perPad = kp / sw.groupSize, per = (k + sw.groupSize - 1) / sw.groupSize;
        std::vector<uint8_t> codes(size_t(n * k));
        std::vector<float> scales(size_t(n * per));
        for (int64_t row = 0; row < n; ++row) {
            std::copy_n(sw.codes.begin() + row * kp, k, codes.begin() + row * k);
            std::copy_n(sw.scales.begin() + row * perPad, per, scales.begin() + row * per);
        }
        sw.codes = std::move(codes);
        sw.scales = std::move(scales);
        sw.cols = k;
        r.weight = r.weight.slice(1, 0, k).contiguous();
        return r;
    }
    if (k % unit != 0)
        throw InputError("input size " + std::to_string(k) + " is not a multiple of group size " + std::to_string(unit));
    grid.paramGroup = spec.format == WeightFormat::HiF4 ? 4 : unit;
    if (spec.format == WeightFormat::Int) {
        grid.symmetric = spec.symmetric;
        grid.scaleDtype = spec.scaleDtype;
        grid.qmax = spec.symmetric ? float((1 << (spec.bits - 1)) - 1) : float((1 << spec.bits) - 1);
        grid.offset = spec.symmetric ? (1 << (spec.bits - 1)) : 0;
    }
    if (h.dim() != 2 || h.size(0) != k || h.size(1) != k)
        throw Error("GPTQ: the Hessian is not [" + std::to_string(k) + ", " + std::to_string(k) + "]");
    const int64_t groups = k / grid.paramGroup;

    at::Tensor w = wIn.to(at::kCPU, at::kFloat).contiguous();
    std::vector<bool> dead;
    const at::Tensor hd = dampedHessian(h, st.damp, &dead);
    std::vector<double> diag(static_cast<size_t>(k));
    {
        const at::Tensor d0 = h.to(at::kCPU, at::kDouble).diagonal().contiguous();
        const double* p = d0.data_ptr<double>();
        for (int64_t i = 0; i < k; ++i)
            diag[size_t(i)] = dead[size_t(i)] ? 0.0 : p[i];
    }
    float globalScale = nvfp4GlobalScale;
    const QuantParams qp = block ? blockParams(grid, w, &globalScale) : chooseParams(grid, w, unit, diag, st);

    // Column order, and the working copy Wt [K, N] in that order (column i is row i: contiguous).
    std::vector<int64_t> perm(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i)
        perm[size_t(i)] = i;
    if (st.actOrder) {
        std::stable_sort(perm.begin(), perm.end(),
                         [&](int64_t a, int64_t b) { return diag[size_t(a)] > diag[size_t(b)]; });
    }
    const at::Tensor permT = at::tensor(perm, at::TensorOptions().dtype(at::kLong));
    at::Tensor wt = w.t().index_select(0, permT).contiguous(); // [K, N]
    for (int64_t i = 0; i < k; ++i)
        if (dead[size_t(perm[size_t(i)])])
            wt[i].zero_();

    // U = chol(H^-1) upper, in the permuted order.
    const at::Tensor hp = hd.index_select(0, permT).index_select(1, permT);
    const at::Tensor hinv = at::cholesky_inverse(cholesky(hp, false, "Hessian"), false);
    const at::Tensor u = cholesky(hinv, true, "inverse Hessian").to(at::kFloat).contiguous();
    const float* up = u.data_ptr<float>();

    GptqResult r;
    StoredWeight& sw = r.stored;
    sw.rows = n;
    sw.cols = k;
    sw.format = spec.format == WeightFormat::NVFP4 ? "nvfp4"
        : spec.format == WeightFormat::MXFP4       ? "mxfp4"
        : spec.format == WeightFormat::HiF4        ? "hif4"
                                                   : "int";
    sw.bits = block ? 4 : spec.bits;
    sw.groupSize = grid.paramGroup;
    sw.symmetric = block || spec.symmetric;
    sw.globalScale = globalScale;
    sw.codes.assign(size_t(n * k), 0);
    if (spec.format == WeightFormat::HiF4) { // k * (s 2^(a+b) / 4): the same product as k/4 * 2^(a+b) * s
        sw.scales.resize(qp.s.size());
        for (size_t i = 0; i < qp.s.size(); ++i)
            sw.scales[i] = qp.s[i] * qp.z[i] / 4.f;
    } else {
        sw.scales = qp.s;
    }
    if (spec.format == WeightFormat::Int && !spec.symmetric)
        sw.zeros = qp.z;
    r.weight = at::empty({n, k}, at::kFloat);
    float* out = r.weight.data_ptr<float>();
    float* wp = wt.data_ptr<float>();

    const int64_t blockSize = std::max(1, st.blockSize);
    at::Tensor err = at::empty({blockSize, n}, at::kFloat);
    for (int64_t i1 = 0; i1 < k; i1 += blockSize) {
        const int64_t i2 = std::min(k, i1 + blockSize);
        float* ep = err.data_ptr<float>();
        for (int64_t i = i1; i < i2; ++i) {
            const int64_t col = perm[size_t(i)], gi = col / grid.paramGroup;
            float* wr = wp + i * n;
            float* er = ep + (i - i1) * n;
            const float d = up[i * k + i];
            at::parallel_for(0, n, 256, [&](int64_t b, int64_t e) {
                for (int64_t row = b; row < e; ++row) {
                    const size_t pi = size_t(row * groups + gi);
                    uint8_t code = 0;
                    const float q = roundTo(grid, wr[row], qp.s[pi], qp.z[pi], qp.r[pi], &code);
                    sw.codes[size_t(row * k + col)] = code;
                    out[row * k + col] = q;
                    er[row] = (wr[row] - q) / d;
                }
            });
            // The rest of the block takes the rounding error now.
            at::parallel_for(i + 1, i2, 1, [&](int64_t b, int64_t e) {
                for (int64_t j = b; j < e; ++j) {
                    const float uij = up[i * k + j];
                    if (uij == 0.f)
                        continue;
                    float* wj = wp + j * n;
                    for (int64_t row = 0; row < n; ++row)
                        wj[row] -= uij * er[row];
                }
            });
        }
        // The columns after the block take the block's errors at once.
        if (i2 < k) {
            at::Tensor rest = wt.slice(0, i2, k);
            rest.addmm_(u.slice(0, i1, i2).slice(1, i2, k).t(), err.slice(0, 0, i2 - i1), 1.0, -1.0);
        }
    }
    return r;
}

at::Tensor fpTargetWeight(const at::Tensor& w, const at::Tensor& h, const at::Tensor& c, double damp)
{
    const at::Tensor hd = dampedHessian(h, damp, nullptr);
    const at::Tensor l = cholesky(hd, false, "Hessian of the quantized inputs");
    // W* = W C H^-1  <=>  H W*^T = C^T W^T (H symmetric).
    const at::Tensor rhs = c.to(at::kCPU, at::kDouble).t().matmul(w.to(at::kCPU, at::kDouble).t());
    return at::cholesky_solve(rhs, l, false).t().to(at::kFloat).contiguous();
}

at::Tensor dequantize(const StoredWeight& sw)
{
    const bool intFormat = sw.format == "int";
    if (!intFormat && sw.format != "nvfp4" && sw.format != "mxfp4" && sw.format != "hif4")
        throw Error("stored weight: unknown format '" + sw.format + "'");
    if (sw.rows <= 0 || sw.cols <= 0 || sw.groupSize <= 0 || (intFormat && sw.cols % sw.groupSize != 0) || sw.bits < 2
        || sw.bits > 8)
        throw Error("stored weight: invalid shape, group size or bits");
    const int64_t groups = (sw.cols + sw.groupSize - 1) / sw.groupSize; // block formats: a partial last block
    if (int64_t(sw.codes.size()) != sw.rows * sw.cols || int64_t(sw.scales.size()) != sw.rows * groups
        || (intFormat && !sw.symmetric && int64_t(sw.zeros.size()) != sw.rows * groups))
        throw Error("stored weight: codes, scales or zero points do not match its shape");
    at::Tensor out = at::empty({sw.rows, sw.cols}, at::kFloat);
    float* o = out.data_ptr<float>();
    const int offset = sw.symmetric ? (1 << (sw.bits - 1)) : 0;
    const bool hif4 = sw.format == "hif4";
    at::parallel_for(0, sw.rows, 16, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            for (int64_t c = 0; c < sw.cols; ++c) {
                const size_t pi = size_t(r * groups + c / sw.groupSize);
                const uint8_t u = sw.codes[size_t(r * sw.cols + c)];
                float v;
                if (!intFormat) {
                    const float m = hif4 ? float(u & 7) : fmt::e2m1Decode(uint8_t(u & 7));
                    v = m * sw.scales[pi];
                    v = (u & 8) ? -v : v;
                } else {
                    const float code = float(int(u) - offset);
                    v = sw.symmetric ? code * sw.scales[pi] : (code - sw.zeros[pi]) * sw.scales[pi];
                }
                o[r * sw.cols + c] = v;
            }
        }
    });
    return out;
}

} // namespace mq::core
