#include "common/runtime.h"

#include "common/dist.h"
#include "common/error.h"
#include "cuda/kernels.h"

#include <ATen/Parallel.h>

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <sched.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mq::core {

int initRuntime(int threads)
{
#if defined(__GLIBC__)
    // 32 MB is the largest threshold glibc accepts on 64-bit (a larger value is refused and the
    // dynamic 128 KB..32 MB threshold stays): tensors up to it reuse heap pages instead of
    // fresh zeroed mmap pages (measured on a 7B-shaped layer: 6% faster, same peak memory).
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    if (threads <= 0) {
        // The cores this process may run on (a launcher or taskset may have bound it to fewer),
        // shared with the other MPI ranks on this machine where the launcher did not bind them.
        const int all = int(std::max(1u, std::thread::hardware_concurrency()));
        threads = all;
#if defined(__linux__)
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            threads = std::max(1, CPU_COUNT(&set));
#endif
        if (threads == all && dist::localSize() > 1)
            threads = std::max(1, all / dist::localSize());
    }
    at::set_num_threads(threads);
    // libtorch's BLAS is OpenBLAS here (Debian's libblas.so.3 alternative), with a thread pool
    // of its own that at::set_num_threads does not size.
    setBlasThreads(threads);
    return at::get_num_threads();
}

namespace {
std::atomic<bool> g_cudaKernels{false};
} // namespace

void enableCudaKernels(bool on)
{
    if (on) {
        const cuda::DeviceInfo d = cuda::probe();
        if (!d.available)
            throw InputError("the GPU kernels cannot run here: " + d.reason);
    }
    g_cudaKernels = on;
}

bool cudaKernelsEnabled()
{
    return g_cudaKernels;
}

int interBatchWorkers(int hiddenSize, size_t items)
{
    if (hiddenSize <= 0 || hiddenSize > kInterBatchMaxHidden || items < 2)
        return 1;
    return int(std::min<size_t>(size_t(std::max(1, at::get_num_threads())), items));
}

void forEachParallel(size_t n, int workers, const std::function<void(size_t)>& fn)
{
    if (workers <= 1 || n < 2) {
        for (size_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    workers = int(std::min<size_t>(size_t(workers), n));
    // OpenBLAS's pool is process-wide: one thread while the workers run, restored after.
    const int blasBefore = blasThreads();
    if (blasBefore > 1)
        setBlasThreads(1);
    const bool inference = c10::InferenceMode::is_enabled();
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex errorMutex;
    size_t errorItem = n;
    std::exception_ptr error;
    auto work = [&] {
        (void)at::get_num_threads(); // ATen's per-thread set-up first, which sizes the team ...
#if defined(_OPENMP)
        omp_set_num_threads(1); // ... then this thread's team: one (this thread's setting only)
#endif
        c10::InferenceMode guard(inference);
        while (!failed) {
            const size_t i = next++;
            if (i >= n)
                break;
            try {
                fn(i);
            } catch (...) {
                const std::lock_guard<std::mutex> lock(errorMutex);
                if (i < errorItem) {
                    errorItem = i;
                    error = std::current_exception();
                }
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    std::exception_ptr startError;
    try {
        pool.reserve(size_t(workers));
        for (int w = 0; w < workers; ++w)
            pool.emplace_back(work);
    } catch (...) { // no thread to be had: the started ones stop, then the error goes on
        failed = true;
        startError = std::current_exception();
    }
    for (auto& t : pool)
        t.join();
    if (blasBefore > 1)
        setBlasThreads(blasBefore);
    if (error)
        std::rethrow_exception(error);
    if (startError)
        std::rethrow_exception(startError);
}

} // namespace mq::core
