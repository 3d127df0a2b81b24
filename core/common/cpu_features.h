#pragma once
// The vector instructions of the CPU this process runs on, for the code that picks a kernel per
// instruction set at run time (calib/stats_kernels.cpp, model/attention_kernel.cpp) and for
// OpenBLAS's core type (common/process_env.cpp). All false off x86-64. Header only: the
// launcher's libraries (no libtorch) use it too.

namespace mq::core::cpu {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
inline bool avx512f()
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
// AVX-512 F, BW, DQ and VL (x86-64-v4: Skylake-SP and later, Zen 4 and later).
inline bool avx512() { return avx512f() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
                              && __builtin_cpu_supports("avx512vl"); }
// avx512() and VBMI (Ice Lake and later, Zen 4 and later).
inline bool avx512Vbmi() { return avx512() && __builtin_cpu_supports("avx512vbmi"); }
inline bool avx2Fma()
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
inline bool avx512f() { return false; }
inline bool avx512() { return false; }
inline bool avx512Vbmi() { return false; }
inline bool avx2Fma() { return false; }
#endif

} // namespace mq::core::cpu
