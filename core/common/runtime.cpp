#include "common/runtime.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mq::core {

int initRuntime(int threads)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    if (threads <= 0)
        threads = int(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    return at::get_num_threads();
}

} // namespace mq::core
