#include "common/blas_threads.h"

#include <dlfcn.h>

namespace mq::core {

int blasThreads()
{
    using GetThreads = int (*)();
    const auto fn = reinterpret_cast<GetThreads>(::dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return fn ? fn() : 0;
}

void setBlasThreads(int threads)
{
    using SetThreads = void (*)(int);
    if (auto fn = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        fn(threads);
}

} // namespace mq::core
