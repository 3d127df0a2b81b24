// MDQFO at 7B size: the live preview of one Qwen2.5-7B down_proj input group (K = 18944
// channels, ROWS sampled tokens, default 256) with the GUI's default settings (grid search,
// 15 ratios, p = 2, lambda_cos = 1, DABC mask on ~1% of the channels), and the per-group cost
// in a quantize at the default sample (2^24 elements: 885 rows at K = 18944; 4681 at 3584).
// Inputs are random with a few outlier channels (what a synthetic checkpoint feeds it).
// usage: bench_mdqfo [ROWS [REPEATS [THREADS [K]]]]
#include "common/runtime.h"
#include "quant/mdqfo.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace mq::core;

namespace {

double medianMs(int repeats, const std::function<void()>& fn)
{
    fn(); // warm-up
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

void run(int64_t rows, int64_t k, int repeats, const char* what)
{
    at::manual_seed(1);
    at::Tensor x = at::randn({rows, k});
    for (int64_t c = 0; c < k; c += 97) // ~1% outlier channels, 20x larger
        x.select(1, c).mul_(20.0);
    at::Tensor mask = at::zeros({k});
    for (int64_t c = 0; c < k; c += 97)
        mask[c] = 1.0;
    const at::Tensor alpha0 = x.abs().amax(0).clamp_min(1e-8);
    DabcSettings dabc;
    MdqfoSettings st;
    const double ms = medianMs(repeats, [&] { optimizeClipping(x, alpha0, mask, 4, dabc, st); });
    std::printf("%-44s rows %6lld  K %6lld  median %8.1f ms\n", what, static_cast<long long>(rows),
                static_cast<long long>(k), ms);
}

} // namespace

int main(int argc, char** argv)
{
    const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 256;
    const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
    const int threads = initRuntime(argc > 3 ? std::atoi(argv[3]) : 0);
    const int64_t k = argc > 4 ? std::atoll(argv[4]) : 18944;
    std::printf("threads %d\n", threads);
    run(rows, k, repeats, "live preview, down_proj input");
    run((int64_t(1) << 24) / k, k, std::max(1, repeats / 2), "quantize, down_proj input (default sample)");
    run((int64_t(1) << 24) / 3584, 3584, std::max(1, repeats / 2), "quantize, q/k/v input (default sample)");
    return 0;
}
