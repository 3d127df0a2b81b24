#pragma once
// Environment variables that the OpenMP and OpenBLAS runtimes read once, when they load (before
// main), so that a program can only set them for a process it starts (the CLI's launcher) or by
// starting itself again (the workbench). No libtorch here: the launcher uses this.

namespace mq::core {

// The OpenBLAS core type (OPENBLAS_CORETYPE) that fits this CPU's vector instructions:
// "SkylakeX" with AVX-512 (F, BW, VL, DQ), "Haswell" with AVX2 and FMA; nullptr otherwise
// (OpenBLAS's own choice then stands). Newer AVX-512 core types (Cooperlake, SapphireRapids) add
// bf16 GEMMs only; the float GEMMs the engine runs are SkylakeX's.
// Debian 12's OpenBLAS 0.3.21 does not know newer CPUs (Intel model 207, Emerald Rapids) and
// falls back to its Prescott (SSE3) kernels there: float GEMMs 6.6-8.7 times slower
// for a 7B layer (bench/README.md).
const char* openblasCoreTypeForCpu();

// Sets, unless the user already did: OMP_WAIT_POLICY=PASSIVE (GNU OpenMP's threads then sleep
// between parallel regions instead of spinning on the cores OpenBLAS's own threads need) and
// OPENBLAS_CORETYPE=openblasCoreTypeForCpu(). For the processes this one starts.
void setComputeEnvironment();

// For a program already linked with OpenBLAS: when OpenBLAS picked a core type without AVX2
// kernels on a CPU that has them (and OPENBLAS_CORETYPE is unset), sets the environment above and
// starts this program again with the same arguments (execv of /proc/self/exe; returns only when
// nothing needed doing or the exec failed).
void restartIfBlasMisdetected(char** argv);

} // namespace mq::core
