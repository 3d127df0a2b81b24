// cuda_selftest: every kernel of kernels.h against its CPU reference on the GPU present.
// Exit 0: every check passed; 1: a check failed or a call threw; 77: no GPU (CTest: skipped).
#include "cuda/kernels.h"
#include "cuda/selftest.h"

#include <cstdio>
#include <exception>

int main()
{
    using namespace mq::cuda;
    const DeviceInfo d = probe();
    if (!d.available) {
        std::printf("cuda_selftest: skipped: %s; the kernels were not run\n", d.reason.c_str());
        return 77;
    }
    std::printf("cuda_selftest on %s (sm_%d, %d SMs, %.1f GiB)\n", d.name.c_str(), d.sm, d.multiprocessors, d.memoryGiB);
    selftest::Report r;
    const struct {
        const char* name;
        void (*run)(selftest::Report&);
    } parts[] = {{"statistics", selftest::testStats}, {"grid scores", selftest::testGrid},
                 {"NVFP4/MXFP4", selftest::testFp4}, {"W4A4 + DABC", selftest::testW4a4}};
    for (const auto& p : parts) {
        try {
            p.run(r);
        } catch (const std::exception& e) {
            r.check(false, std::string(p.name) + ": threw: " + e.what());
        }
    }
    std::printf("cuda_selftest: %d checks, %d failed\n", r.checks, r.failures);
    return r.failures == 0 && r.checks > 0 ? 0 : 1;
}
