#pragma once
// Error checks shared by the .cu files (CUDA headers: only core/cuda sees this).
#include <cuda_runtime.h>

namespace mq::cuda {
void check(cudaError_t e, const char* what);  // throws Error naming `what`
void checkLaunch(const char* kernel);         // cudaGetLastError after a launch
inline cudaStream_t streamOf(void* s) { return static_cast<cudaStream_t>(s); }
} // namespace mq::cuda
