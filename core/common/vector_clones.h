#pragma once
// MQ_VECTOR_CLONES before a hot loop's function: GCC on x86-64 builds it for AVX-512, AVX2 and
// the baseline, and the loader picks the widest one the CPU has (the package runs on any x86-64,
// whose baseline has 4-lane float vectors). Elsewhere (Clang, the sanitizer build) one version.
// Fine for arithmetic whose result does not depend on the vector width or on fused multiply-add
// contraction, or where the caller allows for float rounding.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MQ_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MQ_VECTOR_CLONES
#endif
