#pragma once
// bench_cuda's parts (one file per kernel family); main in bench_cuda.cpp.
#include <cstdint>
#include <string>
#include <vector>

namespace mq::cuda::bench {

struct Options {
    int warmup = 3;   // untimed launches before each measurement
    int repeats = 20; // timed launches; the median is printed
    bool quick = false; // fewer shapes and repeats (a smoke run)
    bool w4a4Only = false; // --w4a4: the fused linear alone
    std::vector<int64_t> ts; // --t T[,T...]: these token counts instead of the default ones
    int shape = -1;          // --shape 0|1|2: up/gate, down or attn alone
    int tile = 0;            // --tile NAME: a forced w4a4 tiling (mq::cuda::W4a4Tile; 0 = Auto)
};

// --tile's names, in the order of mq::cuda::W4a4Tile.
inline constexpr const char* kTileNames[] = {"auto", "small", "mid", "large", "wide", "tall", "large16", "wide16", "widek"};
inline constexpr int kTileCount = int(sizeof(kTileNames) / sizeof(kTileNames[0]));

// The fused W4A4 + DABC linear against cuBLAS BF16 at Qwen2.5-7B shapes (bench_cuda_w4a4.cpp).
void benchW4a4(const Options& o);
// The throughput of the mma.sync instructions the fused linear uses (bench_cuda_peak.cu).
void benchMmaPeak(const Options& o, int multiprocessors);

} // namespace mq::cuda::bench
