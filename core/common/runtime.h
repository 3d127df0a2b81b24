#pragma once
// Process-wide set-up for the engine's front ends (CLI, GUI, benchmarks).

namespace mq::core {

// libtorch starts single-threaded on Debian: use `threads` intra-op threads (<= 0: every core),
// and as many in OpenBLAS's own pool (openblas_set_num_threads, where OpenBLAS is loaded).
// Also keeps glibc from serving each mid-sized tensor with a fresh mmap (measured: ~40% of the
// stories260K forward went to page faults and munmap). Returns the thread count in use.
int initRuntime(int threads);

} // namespace mq::core
