#pragma once
// The benchmarks' choice of kernel, from the environment (default: the fastest the CPU runs):
// MQ_STATS_KERNEL=scalar|avx2|avx512|avx512-vbmi for the statistics pass, MQ_ATTENTION_LANES=16|8|4
// for the attention kernel. With OPENBLAS_CORETYPE=Haswell, avx2 and 8 time an AVX2 machine's code
// on an AVX-512 one.
#include "calib/channel_stats.h"
#include "model/attention_kernel.h"

#include <cstdio>
#include <cstdlib>

namespace mq::bench {

// false, after saying why on stderr, when a variable names a kernel this CPU cannot run.
inline bool applyKernelEnvironment()
{
    using namespace mq::core;
    if (const char* name = std::getenv("MQ_STATS_KERNEL")) {
        StatsKernel kernel;
        if (!parseStatsKernel(name, &kernel) || !setStatsKernel(kernel)) {
            std::fprintf(stderr, "MQ_STATS_KERNEL=%s: not a statistics kernel this CPU runs\n", name);
            return false;
        }
    }
    if (const char* lanes = std::getenv("MQ_ATTENTION_LANES"); lanes && !setAttentionLanes(std::atoi(lanes))) {
        std::fprintf(stderr, "MQ_ATTENTION_LANES=%s: not a width this CPU runs (16, 8 or 4)\n", lanes);
        return false;
    }
    return true;
}

} // namespace mq::bench
