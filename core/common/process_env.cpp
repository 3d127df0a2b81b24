#include "common/process_env.h"

#include "common/cpu_features.h"

#include <cctype>
#include <cstdlib>
#include <string>

#include <dlfcn.h>
#include <unistd.h>

namespace mq::core {

const char* openblasCoreTypeForCpu()
{
    if (cpu::avx512())
        return "SkylakeX";
    if (cpu::avx2Fma())
        return "Haswell";
    return nullptr;
}

void setComputeEnvironment()
{
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    if (const char* core = openblasCoreTypeForCpu())
        ::setenv("OPENBLAS_CORETYPE", core, 0);
}

void restartIfBlasMisdetected(char** argv)
{
    const char* want = openblasCoreTypeForCpu();
    if (!want || std::getenv("OPENBLAS_CORETYPE"))
        return;
    using CoreName = char* (*)();
    const auto coreName = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!coreName || !coreName())
        return; // not OpenBLAS
    std::string have = coreName();
    for (char& ch : have)
        ch = char(std::tolower(static_cast<unsigned char>(ch)));
    // OpenBLAS's core types with AVX2 (or better) kernels for x86-64.
    for (const char* good : {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"})
        if (have == good)
            return;
    setComputeEnvironment();
    ::execv("/proc/self/exe", argv); // returns only when it failed: carry on as we are
}

} // namespace mq::core
