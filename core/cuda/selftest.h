#pragma once
// cuda_selftest: each kernel of kernels.h against its CPU reference (reference.h) on the GPU.
// Plain C++ (no Qt, no libtorch) so that it builds on the device machine with CUDA alone.
#include <cstdio>
#include <string>

namespace mq::cuda::selftest {

struct Report {
    int checks = 0;
    int failures = 0;
    // Records one check; prints FAIL lines always and PASS lines too (short, one per check).
    void check(bool ok, const std::string& what)
    {
        ++checks;
        if (!ok)
            ++failures;
        std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
        std::fflush(stdout);
    }
};

// One function per kernel family (selftest_*.cpp).
void testStats(Report& r);
void testGrid(Report& r);
void testFp4(Report& r);
void testW4a4(Report& r);

} // namespace mq::cuda::selftest
