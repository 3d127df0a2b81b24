#include "quant/grid_scores.h"

#include "common/vector_clones.h"
#include "quant/fp4_elements.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mq::core {

// Built for AVX-512, AVX2 and the baseline (MQ_VECTOR_CLONES) with floating-point contraction
// off for this file (core/CMakeLists.txt): every clone then rounds each product and sum as the
// source says, and the scores are the same bits on any x86-64 CPU (and the CUDA reference's).
MQ_VECTOR_CLONES
void gridScoresRange(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask, const double* ratios,
                     int64_t j0, int64_t j1, int abits, double rho, double p, double lambdaCos, float* out)
{
    const float qmax = float((1 << (abits - 1)) - 1);
    const float* pa0 = alpha0;
    const float* pm = mask;
    float* po = out;
    // |d|^p without std::pow for the usual exponents (pow is most of the time at other p); the
    // error of a compensated element is exactly 0 and adds nothing.
    const int form = p == 2.0 ? 2 : p == 1.0 ? 1 : p == 3.0 ? 3 : p == 4.0 ? 4 : p == 0.5 ? 5 : 0;
    const float pf = float(p);
    // Per row, the quantized values go to a buffer in a branch-free loop the compiler can
    // vectorize; the error per channel is another elementwise loop; only the three dot
    // products (float64, in channel order as before) stay sequential. Each element is quantized
    // by fmt::elem::quantizeStaticGrid (fp4_elements.h).
    const size_t k = static_cast<size_t>(K);
    std::vector<float> alpha(k, 0.f), scale(k, 0.f), thr(k, 0.f), h(k, 0.f);
    std::vector<uint8_t> always(k, 0);
    std::vector<double> err(k, 0.0);
    for (int64_t j = j0; j < j1; ++j) {
        for (int64_t c = 0; c < K; ++c) {
            alpha[c] = float(pa0[c] * ratios[j]);
            scale[c] = std::max(alpha[c] / qmax, 1e-12f);
            // Masked channels compensate elements above rho * alpha (all of them at rho 0).
            thr[c] = pm[c] > 0.5f ? float(rho) * alpha[c] : INFINITY;
            always[c] = (rho > 0.0) ? 0 : (thr[c] == 0.0f ? 1 : 0);
            err[c] = 0.0;
        }
        const float* pa = alpha.data();
        const float* ps = scale.data();
        const float* pt = thr.data();
        const uint8_t* pal = always.data();
        float* ph = h.data();
        double* pe = err.data();
        double cosSum = 0.0;
        for (int64_t t = 0; t < T; ++t) {
            const float* row = x + t * K;
            for (int64_t c = 0; c < K; ++c) {
                const float v = row[c];
                const float q = fmt::elem::quantizeStaticGrid(v, ps[c], pa[c], qmax);
                const bool keep = rho > 0.0 ? std::fabs(v) > pt[c] : pal[c] != 0;
                ph[c] = keep ? v : q;
            }
            switch (form) {
            case 2:
                for (int64_t c = 0; c < K; ++c) {
                    const double d = double(row[c]) - double(ph[c]);
                    pe[c] += d * d;
                }
                break;
            case 1:
                for (int64_t c = 0; c < K; ++c)
                    pe[c] += std::fabs(double(row[c]) - double(ph[c]));
                break;
            case 3:
                for (int64_t c = 0; c < K; ++c) {
                    const double a = std::fabs(double(row[c]) - double(ph[c]));
                    pe[c] += a * a * a;
                }
                break;
            case 4:
                for (int64_t c = 0; c < K; ++c) {
                    const double a = double(row[c]) - double(ph[c]);
                    pe[c] += (a * a) * (a * a);
                }
                break;
            case 5:
                for (int64_t c = 0; c < K; ++c)
                    pe[c] += std::sqrt(std::fabs(double(row[c]) - double(ph[c])));
                break;
            default:
                for (int64_t c = 0; c < K; ++c) {
                    const double a = std::fabs(double(row[c]) - double(ph[c]));
                    if (a != 0.0)
                        pe[c] += double(std::pow(float(a), pf));
                }
            }
            // Four interleaved float64 accumulators per sum (vectorizable), added at the end.
            double dot4[4] = {0, 0, 0, 0}, nx4[4] = {0, 0, 0, 0}, nh4[4] = {0, 0, 0, 0};
            int64_t c = 0;
            for (; c + 4 <= K; c += 4) {
                for (int l = 0; l < 4; ++l) {
                    const double v = row[c + l], hv = ph[c + l];
                    dot4[l] += v * hv;
                    nx4[l] += v * v;
                    nh4[l] += hv * hv;
                }
            }
            for (; c < K; ++c) {
                const double v = row[c], hv = ph[c];
                dot4[0] += v * hv;
                nx4[0] += v * v;
                nh4[0] += hv * hv;
            }
            const double dot = (dot4[0] + dot4[1]) + (dot4[2] + dot4[3]);
            const double nx = (nx4[0] + nx4[1]) + (nx4[2] + nx4[3]);
            const double nh = (nh4[0] + nh4[1]) + (nh4[2] + nh4[3]);
            cosSum += dot / std::sqrt(std::max(nx * nh, 1e-16));
        }
        const double cosLoss = 1.0 - cosSum / double(std::max<int64_t>(T, 1));
        for (int64_t c = 0; c < K; ++c)
            po[j * K + c] = float(err[c] / double(std::max<int64_t>(T, 1)) + lambdaCos * cosLoss);
    }
}

} // namespace mq::core
