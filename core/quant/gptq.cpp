#include "quant/gptq.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.h"

namespace mq::core {

namespace {

// Per (row, group) quantizer parameters: scale s and zero z (symmetric: z = 0 on the signed
// grid), each [N * G] float.
struct QuantParams {
    std::vector<float> scale, zero;
};

struct Grid {
    bool symmetric = true;
    float qmax = 7.f;   // symmetric: 2^(b-1)-1 (codes -qmax..qmax); asymmetric: 2^b - 1
    int offset = 8;     // code stored as u = c + offset (symmetric), u = c (asymmetric)
};

// The dequantized value of w and its code under (s, z) on the grid.
inline float roundTo(const Grid& g, float w, float s, float z, uint8_t* code)
{
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

// Parameters of one group's values w[0..n) at clip factor p (see gptq.h).
inline void groupParams(const Grid& g, const float* w, int64_t n, double p, float* s, float* z)
{
    if (g.symmetric) {
        float m = 0.f;
        for (int64_t i = 0; i < n; ++i)
            m = std::max(m, std::fabs(w[i]));
        *s = std::max(float(double(m) * p / double(g.qmax)), 1e-12f);
        *z = 0.f;
        return;
    }
    float lo = w[0], hi = w[0];
    for (int64_t i = 1; i < n; ++i) {
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
    }
    if (p != 1.0) {
        lo = float(double(lo) * p);
        hi = float(double(hi) * p);
    }
    *s = std::max((hi - lo) / g.qmax, 1e-12f);
    *z = std::nearbyint(-lo / *s);
}

// Parameters for every row and group of w [N, K] (contiguous float32), with the clip search
// weighting each column's squared error by d[k] (diag H).
QuantParams chooseParams(const Grid& grid, const at::Tensor& w, int64_t groupSize, const std::vector<double>& d,
                         const GptqSettings& st)
{
    const int64_t n = w.size(0), k = w.size(1), groups = k / groupSize;
    QuantParams p;
    p.scale.assign(size_t(n * groups), 1.f);
    p.zero.assign(size_t(n * groups), 0.f);
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
                        const double diff = double(a[c]) - double(roundTo(grid, a[c], s, z, &code));
                        err += dd[c] * diff * diff;
                    }
                }
                if (i == 0 || err < bestErr) {
                    bestErr = err;
                    bestS = s;
                    bestZ = z;
                }
            }
            p.scale[size_t(rg)] = bestS;
            p.zero[size_t(rg)] = bestZ;
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
                        const GptqSettings& st)
{
    if (spec.format != WeightFormat::Int)
        throw InputError("GPTQ quantizes integer weights (--wformat int), not " + spec.label());
    if (spec.bits < 2 || spec.bits > 8)
        throw InputError("GPTQ supports 2..8 weight bits, got " + std::to_string(spec.bits));
    if (wIn.dim() != 2)
        throw InputError("GPTQ expects a 2-D weight");
    const int64_t n = wIn.size(0), k = wIn.size(1);
    const int64_t groupSize = spec.groupSize > 0 ? spec.groupSize : k;
    if (k % groupSize != 0)
        throw InputError("input size " + std::to_string(k) + " is not a multiple of group size "
                         + std::to_string(groupSize));
    if (h.dim() != 2 || h.size(0) != k || h.size(1) != k)
        throw Error("GPTQ: the Hessian is not [" + std::to_string(k) + ", " + std::to_string(k) + "]");
    const int64_t groups = k / groupSize;

    Grid grid;
    grid.symmetric = spec.symmetric;
    grid.qmax = spec.symmetric ? float((1 << (spec.bits - 1)) - 1) : float((1 << spec.bits) - 1);
    grid.offset = spec.symmetric ? (1 << (spec.bits - 1)) : 0;

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
    const QuantParams qp = chooseParams(grid, w, groupSize, diag, st);

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
    sw.bits = spec.bits;
    sw.groupSize = groupSize;
    sw.symmetric = spec.symmetric;
    sw.codes.assign(size_t(n * k), 0);
    sw.scales = qp.scale;
    if (!spec.symmetric)
        sw.zeros = qp.zero;
    r.weight = at::empty({n, k}, at::kFloat);
    float* out = r.weight.data_ptr<float>();
    float* wp = wt.data_ptr<float>();

    const int64_t block = std::max(1, st.blockSize);
    at::Tensor err = at::empty({block, n}, at::kFloat);
    for (int64_t i1 = 0; i1 < k; i1 += block) {
        const int64_t i2 = std::min(k, i1 + block);
        float* ep = err.data_ptr<float>();
        for (int64_t i = i1; i < i2; ++i) {
            const int64_t col = perm[size_t(i)], gi = col / groupSize;
            float* wr = wp + i * n;
            float* er = ep + (i - i1) * n;
            const float d = up[i * k + i];
            at::parallel_for(0, n, 256, [&](int64_t b, int64_t e) {
                for (int64_t row = b; row < e; ++row) {
                    const size_t pi = size_t(row * groups + gi);
                    uint8_t code = 0;
                    const float q = roundTo(grid, wr[row], qp.scale[pi], qp.zero[pi], &code);
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
    if (sw.rows <= 0 || sw.cols <= 0 || sw.groupSize <= 0 || sw.cols % sw.groupSize != 0 || sw.bits < 2
        || sw.bits > 8)
        throw Error("stored weight: invalid shape, group size or bits");
    const int64_t groups = sw.cols / sw.groupSize;
    if (int64_t(sw.codes.size()) != sw.rows * sw.cols || int64_t(sw.scales.size()) != sw.rows * groups
        || (!sw.symmetric && int64_t(sw.zeros.size()) != sw.rows * groups))
        throw Error("stored weight: codes, scales or zero points do not match its shape");
    at::Tensor out = at::empty({sw.rows, sw.cols}, at::kFloat);
    float* o = out.data_ptr<float>();
    const int offset = sw.symmetric ? (1 << (sw.bits - 1)) : 0;
    at::parallel_for(0, sw.rows, 16, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            for (int64_t c = 0; c < sw.cols; ++c) {
                const size_t pi = size_t(r * groups + c / sw.groupSize);
                const float code = float(int(sw.codes[size_t(r * sw.cols + c)]) - offset);
                o[r * sw.cols + c] = sw.symmetric ? code * sw.scales[pi] : (code - sw.zeros[pi]) * sw.scales[pi];
            }
        }
    });
    return out;
}

} // namespace mq::core
