#pragma once
// Process-wide set-up for the engine's front ends (CLI, GUI, benchmarks).

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

} // namespace mq::core
