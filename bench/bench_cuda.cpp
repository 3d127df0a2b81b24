// bench_cuda: the GPU kernels at Qwen2.5-7B shapes (issue 12). Prints, per kernel and shape, the
// median time over repeated launches and what it means: the statistics kernel's achieved
// memory bandwidth against the GPU's peak, the grid scorer's time per input group, the FP4
// quantizers' bandwidth, and (bench_cuda_w4a4.cpp) the fused W4A4 + DABC linear against cuBLAS
// BF16. Usage: bench_cuda [--quick] [--repeats N] [--w4a4] [--shape 0|1|2] [--t T[,T...]]
// [--tile auto|small|mid|large|wide|tall|large16|wide16|widek] (--w4a4: the fused linear alone; --shape:
// up/gate, down or attn alone; --t: these token counts; --tile: one forced tiling).
// Needs a GPU; says so and exits 77 without one.
#include "bench_cuda.h"

#include "cuda/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace mq::cuda;

namespace {

double medianMs(const bench::Options& o, const std::function<void()>& launch)
{
    for (int i = 0; i < o.warmup; ++i)
        launch();
    synchronize();
    Timer t;
    std::vector<double> ms;
    for (int i = 0; i < o.repeats; ++i) {
        t.start();
        launch();
        ms.push_back(t.stopMs());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

std::vector<float> randomActivations(int64_t n, int64_t K)
{
    std::mt19937 g(1234);
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        x[size_t(i)] = d(g) * ((i % K) % 97 == 5 ? 50.f : 1.f);
    return x;
}

void benchStats(const bench::Options& o, const DeviceInfo& dev)
{
    std::printf("\n== per-channel statistics (one pass: min, max, sum|x|, sum x^2, 40-bin histogram; 4 modalities in runs of 256 rows)\n");
    std::printf("%-8s %-7s %10s %10s %12s\n", "K", "rows", "us", "GB/s", "% of peak");
    const int64_t Ks[] = {3584, 18944};
    for (const int64_t K : Ks) {
        for (const int64_t rows : {int64_t(2048), int64_t(16384)}) {
            if (o.quick && rows > 2048)
                continue;
            const std::vector<float> x = randomActivations(rows * K, K);
            std::vector<uint8_t> mod(static_cast<size_t>(rows));
            for (int64_t r = 0; r < rows; ++r)
                mod[size_t(r)] = uint8_t((r / 256) % 4);
            Buffer bx(x.size() * 4), bm(mod.size());
            bx.upload(x.data(), x.size() * 4);
            bm.upload(mod.data(), mod.size());
            const size_t n = size_t(4 * K);
            Buffer bmin(n * 4), bmax(n * 4), bsa(n * 8), bss(n * 8), bh(n * kHistBins * 4), bc(32), bb(8);
            StatsOut s{bmin.as<float>(), bmax.as<float>(), bsa.as<double>(), bss.as<double>(), bh.as<uint32_t>(),
                       bc.as<unsigned long long>(), bb.as<unsigned long long>()};
            statsReset(s, K, 4);
            const double ms = medianMs(o, [&] { channelStats(bx.as<float>(), bm.as<uint8_t>(), rows, K, 4, s); });
            const double gbs = double(x.size()) * 4.0 / (ms * 1e-3) / 1e9;
            std::printf("%-8lld %-7lld %10.1f %10.1f %11.1f%%\n", (long long)K, (long long)rows, ms * 1e3, gbs,
                        dev.peakBandwidthGBs > 0 ? 100.0 * gbs / dev.peakBandwidthGBs : 0.0);
        }
    }
}

void benchGrid(const bench::Options& o)
{
    std::printf("\n== MDQFO grid scoring (15 ratios, p = 2, lambda_cos = 1; one search batch)\n");
    std::printf("%-8s %-7s %10s %14s\n", "K", "rows", "us", "Gelem*ratio/s");
    for (const int64_t K : {int64_t(3584), int64_t(18944)}) {
        for (const int64_t T : {int64_t(256), int64_t(512)}) {
            if (o.quick && T > 256)
                continue;
            const std::vector<float> x = randomActivations(T * K, K);
            std::vector<float> a0(size_t(K), 0.f), mask(size_t(K), 0.f);
            for (int64_t i = 0; i < T * K; ++i)
                a0[size_t(i % K)] = std::max(a0[size_t(i % K)], std::fabs(x[size_t(i)]));
            for (int64_t c = 0; c < K; c += 100)
                mask[size_t(c)] = 1.f;
            std::vector<double> ratios(15);
            for (int j = 0; j < 15; ++j)
                ratios[size_t(j)] = std::exp(std::log(0.6) + (std::log(1.0) - std::log(0.6)) * j / 14.0);
            Buffer bx(x.size() * 4), ba(a0.size() * 4), bm(mask.size() * 4), bs(size_t(15 * K) * 4),
                bw(gridScoresWorkspaceBytes(T, K, 15));
            bx.upload(x.data(), x.size() * 4);
            ba.upload(a0.data(), a0.size() * 4);
            bm.upload(mask.data(), mask.size() * 4);
            GridParams p;
            p.lambdaCos = 1.0;
            const double ms = medianMs(o, [&] {
                gridScores(bx.as<float>(), T, K, ba.as<float>(), bm.as<float>(), ratios.data(), 15, p, bs.as<float>(), bw.get());
            });
            std::printf("%-8lld %-7lld %10.1f %14.2f\n", (long long)K, (long long)T, ms * 1e3,
                        double(T * K * 15) / (ms * 1e-3) / 1e9);
        }
    }
}

void benchFp4(const bench::Options& o)
{
    std::printf("\n== NVFP4 / MXFP4 fake quantization (read + write float32)\n");
    std::printf("%-14s %-7s %10s %10s\n", "format", "rows", "us", "GB/s");
    const int64_t K = 3584;
    for (const int64_t rows : {int64_t(2048), int64_t(18944)}) {
        if (o.quick && rows > 2048)
            continue;
        const std::vector<float> x = randomActivations(rows * K, K);
        Buffer bx(x.size() * 4), bo(x.size() * 4);
        bx.upload(x.data(), x.size() * 4);
        const double bytes = double(x.size()) * 8.0;
        const double msNv = medianMs(o, [&] { nvfp4FakeQuant(bx.as<float>(), rows, K, 10.f, bo.as<float>()); });
        const double msMx = medianMs(o, [&] { mxfp4FakeQuant(bx.as<float>(), rows, K, false, bo.as<float>()); });
        std::printf("%-14s %-7lld %10.1f %10.1f\n", "NVFP4", (long long)rows, msNv * 1e3, bytes / (msNv * 1e-3) / 1e9);
        std::printf("%-14s %-7lld %10.1f %10.1f\n", "MXFP4", (long long)rows, msMx * 1e3, bytes / (msMx * 1e-3) / 1e9);
    }
}

} // namespace

int main(int argc, char** argv)
{
    bench::Options o;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) {
            o.quick = true;
            o.repeats = 5;
        } else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) {
            o.repeats = std::max(1, std::atoi(argv[++i]));
        } else if (!std::strcmp(argv[i], "--w4a4")) {
            o.w4a4Only = true;
        } else if (!std::strcmp(argv[i], "--tile") && i + 1 < argc) {
            const char* want = argv[++i];
            o.tile = -1;
            std::string all;
            for (int t = 0; t < bench::kTileCount; ++t) {
                if (!std::strcmp(want, bench::kTileNames[t]))
                    o.tile = t;
                all += (t ? ", " : "") + std::string(bench::kTileNames[t]);
            }
            if (o.tile < 0) {
                std::fprintf(stderr, "bench_cuda: --tile is one of %s\n", all.c_str());
                return 2;
            }
        } else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc) {
            o.shape = std::atoi(argv[++i]);
        } else if (!std::strcmp(argv[i], "--t") && i + 1 < argc) {
            for (const char* p = argv[++i]; *p;) {
                char* end = nullptr;
                const long long t = std::strtoll(p, &end, 10);
                if (end == p || t < 1) {
                    std::fprintf(stderr, "bench_cuda: --t wants positive token counts separated by commas\n");
                    return 2;
                }
                o.ts.push_back(t);
                p = *end == ',' ? end + 1 : end;
            }
        } else {
            std::fprintf(stderr, "usage: bench_cuda [--quick] [--repeats N] [--w4a4] [--shape 0|1|2] [--t T[,T...]] [--tile NAME]\n");
            return 2;
        }
    }
    const DeviceInfo d = probe();
    if (!d.available) {
        std::printf("bench_cuda: %s; nothing measured\n", d.reason.c_str());
        return 77;
    }
    std::printf("bench_cuda on %s (sm_%d, %d SMs, %.1f GiB, peak %.0f GB/s%s); median of %d launches after %d\n",
                d.name.c_str(), d.sm, d.multiprocessors, d.memoryGiB, d.peakBandwidthGBs,
                d.peakBandwidthGBs > 0 ? "" : " unknown", o.repeats, o.warmup);
    try {
        if (!o.w4a4Only) {
            benchStats(o, d);
            benchGrid(o);
            benchFp4(o);
        }
        bench::benchMmaPeak(o, d.multiprocessors);
        bench::benchW4a4(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_cuda: %s\n", e.what());
        return 1;
    }
    return 0;
}
