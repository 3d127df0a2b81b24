// MDQFO grid scoring (kernels.h, section 2): every ratio for every channel in one launch.
//
// Block (tile, chunk, j): kThreads channels of one ratio over kRows rows. Each thread owns a
// channel: it quantizes and compensates its elements exactly as gridScoresCpu does (IEEE
// division, rounding by the 1.5 * 2^23 trick, the same clamps; this file is compiled with
// --fmad=false so that nothing is contracted into an FMA) and sums its error in float64. The
// per-row dot products of the cosine term are reduced across the block (warp shuffles, then the
// warps in order) and added to a per-(ratio, row) accumulator; a second kernel turns them into
// each ratio's cosine loss and writes the scores.
#include "cuda/check.cuh"
#include "cuda/kernels.h"
#include "quant/fp4_elements.h"

#include <algorithm>
#include <cmath>

namespace mq::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kRows = 32;
constexpr int kMaxRatiosPerLaunch = 64;

struct Ratios {
    double r[kMaxRatiosPerLaunch];
};

enum Form : int { kGeneral = 0, kP1 = 1, kP2 = 2, kP3 = 3, kP4 = 4, kPHalf = 5 };

__device__ __forceinline__ double warpSum(double v)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void __launch_bounds__(kThreads) gridKernel(const float* __restrict__ x, int64_t T, int64_t K,
                                                      const float* __restrict__ alpha0, const float* __restrict__ mask,
                                                      Ratios ratios, int jBase, float qmax, double rho, int form, float pf,
                                                      double* err, double* dot, double* nh, double* nx)
{
    __shared__ double sDot[kRows][kWarps], sNh[kRows][kWarps], sNx[kRows][kWarps];
    const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
    const int jl = int(blockIdx.z);
    const int j = jBase + jl;
    const int64_t c = int64_t(blockIdx.x) * kThreads + tid;
    const int64_t r0 = int64_t(blockIdx.y) * kRows;
    const int rows = T - r0 < kRows ? int(T - r0) : kRows;
    const bool active = c < K;
    const bool withNx = j == 0;
    float al = 0.f, sc = 1.f, thr = INFINITY;
    bool always = false;
    if (active) {
        al = float(double(alpha0[c]) * ratios.r[jl]);
        sc = fmaxf(al / qmax, 1e-12f);
        thr = mask[c] > 0.5f ? float(rho) * al : INFINITY;
        always = rho > 0.0 ? false : thr == 0.0f;
    }
    double e = 0.0;
    for (int i = 0; i < rows; ++i) {
        double v = 0.0, h = 0.0;
        if (active) {
            const float xv = __ldg(x + (r0 + i) * K + c);
            const float q = mq::core::fmt::elem::quantizeStaticGrid(xv, sc, al, qmax);
            const bool keep = rho > 0.0 ? fabsf(xv) > thr : always;
            const float hv = keep ? xv : q;
            v = double(xv);
            h = double(hv);
            const double d = v - h;
            switch (form) {
            case kP2: e += d * d; break;
            case kP1: e += fabs(d); break;
            case kP3: { const double a = fabs(d); e += a * a * a; } break;
            case kP4: e += (d * d) * (d * d); break;
            case kPHalf: e += sqrt(fabs(d)); break;
            default: {
                const double a = fabs(d);
                if (a != 0.0)
                    e += double(powf(float(a), pf));
            }
            }
        }
        const double pd = warpSum(v * h), ph = warpSum(h * h);
        const double px = withNx ? warpSum(v * v) : 0.0;
        if (lane == 0) {
            sDot[i][warp] = pd;
            sNh[i][warp] = ph;
            sNx[i][warp] = px;
        }
    }
    __syncthreads();
    if (tid < rows) {
        double sd = 0.0, sh = 0.0, sx = 0.0;
        for (int w = 0; w < kWarps; ++w) {
            sd += sDot[tid][w];
            sh += sNh[tid][w];
            sx += sNx[tid][w];
        }
        atomicAdd(dot + int64_t(j) * T + r0 + tid, sd);
        atomicAdd(nh + int64_t(j) * T + r0 + tid, sh);
        if (withNx)
            atomicAdd(nx + r0 + tid, sx);
    }
    if (active)
        atomicAdd(err + int64_t(j) * K + c, e);
}

// One block per ratio: the cosine loss over the rows, then the ratio's scores.
__global__ void __launch_bounds__(kThreads) gridFinalize(int64_t T, int64_t K, double lambdaCos, const double* err,
                                                        const double* dot, const double* nh, const double* nx,
                                                        float* scores)
{
    __shared__ double part[kWarps];
    __shared__ double cosLoss;
    const int j = int(blockIdx.x), tid = int(threadIdx.x);
    double cs = 0.0;
    for (int64_t t = tid; t < T; t += kThreads)
        cs += dot[int64_t(j) * T + t] / sqrt(fmax(nx[t] * nh[int64_t(j) * T + t], 1e-16));
    cs = warpSum(cs);
    if ((tid & 31) == 0)
        part[tid >> 5] = cs;
    __syncthreads();
    if (tid == 0) {
        double s = 0.0;
        for (int w = 0; w < kWarps; ++w)
            s += part[w];
        cosLoss = 1.0 - s / double(T > 1 ? T : 1);
    }
    __syncthreads();
    const double tDiv = double(T > 1 ? T : 1), cl = cosLoss;
    for (int64_t c = tid; c < K; c += kThreads)
        scores[int64_t(j) * K + c] = float(err[int64_t(j) * K + c] / tDiv + lambdaCos * cl);
}

} // namespace

size_t gridScoresWorkspaceBytes(int64_t T, int64_t K, int n)
{
    return sizeof(double) * size_t(int64_t(n) * K + 2 * int64_t(n) * T + T);
}

void gridScores(const float* x, int64_t T, int64_t K, const float* alpha0, const float* mask, const double* hostRatios,
                int n, const GridParams& prm, float* scores, void* workspace, void* stream)
{
    if (prm.abits < 2 || prm.abits > 8)
        throw Error("gridScores: " + std::to_string(prm.abits) + " activation bits (2..8)");
    if (n <= 0 || K <= 0)
        return;
    if (T <= 0)
        throw Error("gridScores: no rows");
    const cudaStream_t s = streamOf(stream);
    check(cudaMemsetAsync(workspace, 0, gridScoresWorkspaceBytes(T, K, n), s), "gridScores (workspace)");
    double* err = static_cast<double*>(workspace);
    double* dot = err + int64_t(n) * K;
    double* nh = dot + int64_t(n) * T;
    double* nx = nh + int64_t(n) * T;
    const double p = prm.p;
    const int form = p == 2.0 ? kP2 : p == 1.0 ? kP1 : p == 3.0 ? kP3 : p == 4.0 ? kP4 : p == 0.5 ? kPHalf : kGeneral;
    const float qmax = float((1 << (prm.abits - 1)) - 1);
    const int64_t tiles = (K + kThreads - 1) / kThreads, chunks = (T + kRows - 1) / kRows;
    if (chunks > 65535)
        throw Error("gridScores: " + std::to_string(T) + " rows in one call (at most " + std::to_string(65535 * kRows) + ")");
    for (int j0 = 0; j0 < n; j0 += kMaxRatiosPerLaunch) {
        const int nj = std::min(kMaxRatiosPerLaunch, n - j0);
        Ratios r{};
        for (int j = 0; j < nj; ++j)
            r.r[j] = hostRatios[j0 + j];
        const dim3 grid{unsigned(tiles), unsigned(chunks), unsigned(nj)};
        gridKernel<<<grid, kThreads, 0, s>>>(x, T, K, alpha0, mask, r, j0, qmax, prm.rho, form, float(p), err, dot, nh, nx);
        checkLaunch("gridScores");
    }
    gridFinalize<<<unsigned(n), kThreads, 0, s>>>(T, K, prm.lambdaCos, err, dot, nh, nx, scores);
    checkLaunch("gridScores (finalize)");
}

} // namespace mq::cuda
