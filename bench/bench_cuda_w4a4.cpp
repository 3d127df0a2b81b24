// bench_cuda, the fused W4A4 + DABC linear (w4a4.cu) against cuBLAS BF16 at Qwen2.5-7B shapes.
// Per case: median microseconds of (a) w4a4Linear alone (weights pre-packed, activations
// pre-quantized), (b) quantizeActivations + w4a4Linear, (c) cuBLAS BF16 GEMM y = x W^T
// (cublasGemmEx, CUDA_R_16BF in and out, CUBLAS_COMPUTE_32F, default algorithm). The L2 cache is
// flushed (a 256 MiB memset) before every timed launch, so no variant keeps its weights in L2.
// TOPS = 2 T N K / time (the dense product; the DABC term is not counted).
#include <cublas_v2.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_cuda.h"
#include "cuda/kernels.h"

namespace mq::cuda::bench {

namespace {

void cublasCheck(cublasStatus_t s, const char* what)
{
    if (s != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string(what) + ": " + cublasGetStatusString(s) + " (" + std::to_string(static_cast<int>(s)) +
                    ")");
}

struct CublasHandle {
    cublasHandle_t h = nullptr;
    CublasHandle() { cublasCheck(cublasCreate(&h), "cublasCreate"); }
    ~CublasHandle()
    {
        if (h)
            cublasDestroy(h);
    }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
};

// A random pattern of `pattern` elements repeated to `count`: the values do not matter for
// timing, and a short pattern keeps the host side fast at 7B shapes.
template <class T, class Gen>
std::vector<T> repeated(size_t count, Gen gen, size_t pattern = size_t(1) << 20)
{
    std::vector<T> v(count);
    const size_t p = std::min(count, pattern);
    for (size_t i = 0; i < p; ++i)
        v[i] = gen();
    for (size_t i = p; i < count; ++i)
        v[i] = v[i - p];
    return v;
}

uint16_t bf16(float x) // round half to even (finite inputs)
{
    uint32_t u;
    std::memcpy(&u, &x, 4);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

template <class F>
double medianUs(const Options& o, Buffer& flush, F launch)
{
    for (int i = 0; i < o.warmup; ++i)
        launch();
    synchronize();
    Timer timer;
    std::vector<double> us;
    for (int i = 0; i < std::max(1, o.repeats); ++i) {
        flush.zero();
        synchronize();
        timer.start();
        launch();
        us.push_back(1000.0 * timer.stopMs());
    }
    std::sort(us.begin(), us.end());
    const size_t n = us.size();
    return n % 2 ? us[n / 2] : 0.5 * (us[n / 2 - 1] + us[n / 2]);
}

} // namespace

void benchW4a4(const Options& o)
{
    struct Shape {
        int64_t K, N;
        const char* name;
    };
    const std::vector<Shape> allShapes = {{3584, 18944, "up/gate 3584->18944"},
                                          {18944, 3584, "down 18944->3584"},
                                          {3584, 3584, "attn 3584->3584"}};
    std::vector<Shape> shapes = o.quick ? std::vector<Shape>{allShapes[0]} : allShapes;
    if (o.shape >= 0 && o.shape < static_cast<int>(allShapes.size()))
        shapes = {allShapes[static_cast<size_t>(o.shape)]};
    std::vector<int64_t> Ts = o.quick ? std::vector<int64_t>{16, 256} : std::vector<int64_t>{1, 16, 256, 2048};
    if (!o.ts.empty())
        Ts = o.ts;
    const double maskedPct[] = {1.0, 5.0};
    const int64_t maxT = *std::max_element(Ts.begin(), Ts.end());

    std::mt19937 rng(12345u);
    std::normal_distribution<float> gauss(0.0f, 1.0f);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> uni(0.0f, 1.0f);

    CublasHandle cublas;
    Buffer flush(size_t(256) << 20);

    std::printf("w4a4: fused W4A4 + DABC linear vs cuBLAS BF16 (median of %d, L2 flushed; us; TOPS = 2TNK/t; tile %s)\n",
                o.repeats, kTileNames[o.tile]);
    std::printf("%-22s %5s %5s %10s %12s %10s %8s %8s %8s %8s %8s\n", "shape K->N", "T", "mask", "w4a4_us",
                "quant+w4a4", "cublas_us", "x_a", "x_b", "TOPS_a", "TOPS_b", "TOPS_c");
    for (const Shape& sh : shapes) {
        const int64_t K = sh.K, N = sh.N;
        // Weights: packed int4 (random bytes), scales, bf16 copy for cuBLAS.
        const auto wPacked = repeated<uint8_t>(static_cast<size_t>(N * K / 2), [&] { return static_cast<uint8_t>(byte(rng)); });
        const auto ws = repeated<float>(static_cast<size_t>(N), [&] { return 0.002f + 0.02f * uni(rng); });
        const auto wBf = repeated<uint16_t>(static_cast<size_t>(N * K), [&] { return bf16(0.05f * gauss(rng)); });
        const auto x = repeated<uint16_t>(static_cast<size_t>(maxT * K), [&] { return bf16(gauss(rng)); });
        Buffer dwp(wPacked.size()), dws(ws.size() * 4), dwb(wBf.size() * 2), dx(x.size() * 2);
        dwp.upload(wPacked.data(), wPacked.size());
        dws.upload(ws.data(), ws.size() * 4);
        dwb.upload(wBf.data(), wBf.size() * 2);
        dx.upload(x.data(), x.size() * 2);
        Buffer da(static_cast<size_t>(maxT * K / 2)), dts(static_cast<size_t>(maxT) * 4);
        Buffer dy(static_cast<size_t>(maxT * N) * 2);

        for (double pct : maskedPct) {
            const int Mk = std::max(1, static_cast<int>(K * pct / 100.0 + 0.5));
            std::vector<int32_t> idx(static_cast<size_t>(K));
            for (int64_t k = 0; k < K; ++k)
                idx[k] = static_cast<int32_t>(k);
            std::shuffle(idx.begin(), idx.end(), rng);
            idx.resize(static_cast<size_t>(Mk));
            std::sort(idx.begin(), idx.end());
            const int ld = dabcStride(Mk); // the kernel's zero-padded rows
            std::vector<uint16_t> wm(static_cast<size_t>(N) * ld, 0);
            for (int64_t n = 0; n < N; ++n)
                for (int m = 0; m < Mk; ++m)
                    wm[n * ld + m] = bf16(0.05f * gauss(rng));
            Buffer dmi(idx.size() * 4), dwm(wm.size() * 2), dres(static_cast<size_t>(maxT) * ld * 2);
            dmi.upload(idx.data(), idx.size() * 4);
            dwm.upload(wm.data(), wm.size() * 2);

            for (int64_t T : Ts) {
                auto quant = [&] {
                    quantizeActivations(dx.as<uint16_t>(), T, K, nullptr, dmi.as<int32_t>(), Mk, 0.0f, da.as<uint8_t>(),
                                        dts.as<float>(), dres.as<uint16_t>());
                };
                auto linear = [&] {
                    w4a4Linear(da.as<uint8_t>(), dts.as<float>(), dwp.as<uint8_t>(), dws.as<float>(),
                               dres.as<uint16_t>(), dwm.as<uint16_t>(), Mk, nullptr, T, N, K, dy.as<uint16_t>(), nullptr,
                               nullptr, static_cast<W4a4Tile>(o.tile));
                };
                const float alpha = 1.0f, beta = 0.0f;
                auto gemm = [&] {
                    // Column-major view: y^T [N, T] = W [K, N]^T * x^T [K, T].
                    cublasCheck(cublasGemmEx(cublas.h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(T),
                                             static_cast<int>(K), &alpha, dwb.get(), CUDA_R_16BF, static_cast<int>(K),
                                             dx.get(), CUDA_R_16BF, static_cast<int>(K), &beta, dy.get(), CUDA_R_16BF,
                                             static_cast<int>(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                                "cublasGemmEx");
                };
                quant();
                synchronize();
                const double usA = medianUs(o, flush, linear);
                const double usB = medianUs(o, flush, [&] {
                    quant();
                    linear();
                });
                const double usC = medianUs(o, flush, gemm);
                const double ops = 2.0 * static_cast<double>(T) * static_cast<double>(N) * static_cast<double>(K);
                std::printf("%-22s %5lld %4.0f%% %10.1f %12.1f %10.1f %7.2fx %7.2fx %8.1f %8.1f %8.1f\n", sh.name,
                            static_cast<long long>(T), pct, usA, usB, usC, usC / usA, usC / usB, ops / usA * 1e-6,
                            ops / usB * 1e-6, ops / usC * 1e-6);
                std::fflush(stdout);
            }
        }
    }
}

} // namespace mq::cuda::bench
