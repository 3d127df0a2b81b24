#!/usr/bin/env bash
# The GPU checks of issue 12 in one go, for a lent device machine (the `device` tool's run):
# core/cuda built on its own (CUDA alone: the device machine has none of the project's Debian
# libraries), then cuda_selftest (each kernel against its CPU reference) and bench_cuda.
#   run: bash scripts/device_cuda.sh   (about 60 s on the H200 machine, the sanitizers included;
#        timeout_s 300 leaves room; MQ_SANITIZER=0 skips compute-sanitizer,
#        MQ_SANITIZER_CUT=S cuts each of its tools at S seconds, 100 by default)
# A failing selftest skips the bench and runs memcheck only.
# Logs go to $OUT (or ./device-out) so that they come back.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-device-out}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv 2>&1 | tee "$out/gpu.txt"
arch="${MQ_CUDA_ARCH:-90}"  # H100/H200; 80 for an A100
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
SECONDS=0
{ cmake -S core/cuda -B build-cuda "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$arch" \
    && cmake --build build-cuda -j "$(nproc)"; } > "$out/build.log" 2>&1
rc=$?
tail -n 30 "$out/build.log"
echo "build: exit $rc after ${SECONDS} s"
[ $rc -eq 0 ] || { echo "build failed ($rc)"; exit $rc; }
SECONDS=0
build-cuda/bin/cuda_selftest 2>&1 | tee "$out/selftest.log"
st=${PIPESTATUS[0]}
echo "cuda_selftest: exit $st after ${SECONDS} s"
san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
cut="${MQ_SANITIZER_CUT:-100}"
# Out-of-bounds accesses and shared-memory races of the kernels, where the toolkit has
# compute-sanitizer (the selftest's checks run again under it; the log keeps the findings).
sanitize() {
  [ -n "$san" ] && [ "${MQ_SANITIZER:-1}" = 1 ] || return 0
  local tool
  for tool in "$@"; do
    timeout "$cut" "$san" --tool "$tool" --error-exitcode 9 build-cuda/bin/cuda_selftest > "$out/$tool.log" 2>&1
    echo "compute-sanitizer $tool: exit $? (124: cut at $cut s; log: $tool.log)"; grep -m 5 -E "Invalid|Race|ERROR SUMMARY|Hazard" "$out/$tool.log"; tail -n 2 "$out/$tool.log"
  done
}
[ $st -eq 77 ] && exit 77  # no usable GPU: nothing ran
if [ $st -ne 0 ]; then
  # A failing kernel: the memory checker's view of it, and no bench (device time is short).
  sanitize memcheck
  echo "cuda_selftest exit $st: bench_cuda not run"
  exit 1
fi
bt=127
if [ -x build-cuda/bin/bench_cuda ]; then
  SECONDS=0
  build-cuda/bin/bench_cuda ${MQ_BENCH_ARGS:-} 2>&1 | tee "$out/bench.log"
  bt=${PIPESTATUS[0]}
  echo "bench_cuda: exit $bt after ${SECONDS} s"
else
  echo "bench_cuda was not built (no cuBLAS: see build.log)"
fi
sanitize memcheck racecheck
echo "cuda_selftest exit $st, bench_cuda exit $bt"
[ $st -eq 0 ] && [ $bt -eq 0 ]
