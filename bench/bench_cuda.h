#pragma once
// bench_cuda's parts (one file per kernel family); main in bench_cuda.cpp.
#include <string>

namespace mq::cuda::bench {

struct Options {
    int warmup = 3;   // untimed launches before each measurement
    int repeats = 20; // timed launches; the median is printed
    bool quick = false; // fewer shapes and repeats (a smoke run)
};

// The fused W4A4 + DABC linear against cuBLAS BF16 at Qwen2.5-7B shapes (bench_cuda_w4a4.cpp).
void benchW4a4(const Options& o);

} // namespace mq::cuda::bench
