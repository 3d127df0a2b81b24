#pragma once
// Process-wide set-up for the engine's front ends (CLI, GUI, benchmarks).
#include "common/blas_threads.h"

#include <cstddef>
#include <functional>

namespace mq::core {

// libtorch starts single-threaded on Debian: use `threads` intra-op threads (<= 0: every core),
// and as many in OpenBLAS's own pool (openblas_set_num_threads, where OpenBLAS is loaded).
// Also keeps glibc from serving each mid-sized tensor with a fresh mmap (measured: ~40% of the
// stories260K forward went to page faults and munmap). Returns the thread count in use.
int initRuntime(int threads);

// `--device cuda`: the GPU kernels of core/cuda take over the statistics pass (StatsCollector),
// MDQFO's grid scoring and NVFP4 / MXFP4 fake quantization (fakeQuantBlockFormat) (the rest of the engine stays on LibTorch's device; with Debian's
// CPU LibTorch the kernels' inputs are copied to the GPU). enableCudaKernels(true) throws
// InputError saying why where this build or machine cannot (no kernels built, no usable GPU).
void enableCudaKernels(bool on);
bool cudaKernelsEnabled();

// Runs fn(0) .. fn(n - 1) on `workers` threads at once, each with one intra-op thread (its own
// OpenMP team of one and, for the duration, an OpenBLAS pool of one), and the caller's
// InferenceMode. For work items too small for intra-op threads to pay: at a hidden size of
// 64 a GEMM or an attention block is over before a team of two is busy, while independent
// batches keep both cores working. workers <= 1 or n < 2: in order, on this thread. Items are
// taken in order; after a throw no new item starts, and once every worker has stopped the
// exception of the lowest item is rethrown.
void forEachParallel(size_t n, int workers, const std::function<void(size_t)>& fn);

// The workers forEachParallel should get for batches of a model with this hidden size: the
// intra-op thread count (at::get_num_threads()) at hidden sizes up to kInterBatchMaxHidden, else
// 1 (the intra-op threads pay there).
constexpr int kInterBatchMaxHidden = 256;
int interBatchWorkers(int hiddenSize, size_t items);

} // namespace mq::core
