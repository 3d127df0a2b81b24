#pragma once
// OpenBLAS's own thread pool, found by name in the process (so that any other BLAS still works),
// without LibTorch: the engine (common/runtime.h) and the launcher's evaluation
// (eval/plain_eval.h) size it alike.

namespace mq::core {

// Its size; 0 where OpenBLAS is not loaded.
int blasThreads();
// Sets it; nothing where OpenBLAS is not loaded.
void setBlasThreads(int threads);

} // namespace mq::core
