// bench_stats: ChannelStats::accumulate (the statistics pass's per-channel work: min, max, sum
// |x|, sum x^2 and the 40-bin histogram) on one batch at Qwen2.5-7B Linear widths, next to the
// GEMM that produces such an input, so its cost can be read against the forward's.
// Usage: bench_stats [ROWS [THREADS [REPEATS]]] (defaults 2048, 2, 7); prints the median.
// MQ_STATS_KERNEL chooses the statistics kernel (kernel_env.h).
#include <ATen/ATen.h>

#include "kernel_env.h"

#include "calib/channel_stats.h"
#include "common/runtime.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace mq::core;

namespace {

template <typename F> double medianSeconds(int repeats, F&& f)
{
    std::vector<double> s;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 2048;
    const int threads = initRuntime(argc > 2 ? std::atoi(argv[2]) : 2);
    const int repeats = argc > 3 ? std::max(1, std::atoi(argv[3])) : 7;
    if (!mq::bench::applyKernelEnvironment())
        return 2;
    std::printf("bench_stats: %lld rows, %d threads, median of %d, statistics kernel %s\n", (long long)rows, threads,
                repeats, statsKernelName(statsKernel()));
    std::printf("%-8s %12s %12s %16s\n", "K", "stats ms", "ns/element", "GEMM K->3584 ms");
    at::manual_seed(0);
    for (const int64_t K : {int64_t(3584), int64_t(18944)}) {
        const at::Tensor x = at::randn({rows, K});
        const at::Tensor w = at::randn({3584, K}) * 0.02;
        ChannelStats s;
        s.reset(K);
        const double st = medianSeconds(repeats, [&] { s.accumulate(x.data_ptr<float>(), rows, "x"); });
        const double mm = medianSeconds(repeats, [&] { (void)at::linear(x, w); });
        std::printf("%-8lld %12.1f %12.2f %16.1f\n", (long long)K, st * 1e3, st * 1e9 / double(rows * K), mm * 1e3);
    }
    return 0;
}
