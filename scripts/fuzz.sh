#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, build-fuzz/) and runs one of them.
#   scripts/fuzz.sh TARGET MINUTES     TARGET: safetensors config tokenizer token_jsonl manifest
#                                      session audio image video (or "all": each for MINUTES)
#   scripts/fuzz.sh --build            build only
# Seeds: tests/fuzz/TARGET/ (read only); the growing corpus goes to build-fuzz/corpus/TARGET and
# findings (crash-*, leak-*, timeout-*) to build-fuzz/findings/TARGET (MQ_FUZZ_TIMEOUT: seconds one
# input may take before it counts as a hang, default 20; raise it on a loaded machine). Exit status 1 when the
# fuzzer found something. Prints libFuzzer's final stats (executions per second, coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${MQ_FUZZ_BUILD:-$ROOT/build-fuzz}
TARGETS=(safetensors config tokenizer token_jsonl manifest session audio image video)

build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DMQ_FUZZ=ON -DMQ_WITH_GUI=OFF -DMQ_WITH_MPI=OFF \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD" --target "${@/#/fuzz_}"
}

run() { # TARGET SECONDS
  local t=$1 secs=$2
  mkdir -p "$BUILD/corpus/$t" "$BUILD/findings/$t"
  # libtorch, OpenBLAS and libhdf5 are not instrumented; their own allocations are not ours.
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=4096 -timeout="${MQ_FUZZ_TIMEOUT:-20}" -print_final_stats=1 \
    -artifact_prefix="$BUILD/findings/$t/" "$BUILD/corpus/$t" "$ROOT/tests/fuzz/$t"
}

if [ "${1:-}" = "--build" ]; then
  build "${TARGETS[@]}"
  exit 0
fi
[ $# -eq 2 ] || { echo "usage: scripts/fuzz.sh TARGET MINUTES | --build" >&2; exit 2; }
target=$1
secs=$(python3 -c "print(max(1, int(float('$2') * 60)))")
if [ "$target" = all ]; then
  build "${TARGETS[@]}"
  status=0
  for t in "${TARGETS[@]}"; do run "$t" "$secs" || status=1; done
  exit $status
fi
case " ${TARGETS[*]} " in *" $target "*) ;; *) echo "unknown target '$target' (${TARGETS[*]})" >&2; exit 2;; esac
build "$target"
run "$target" "$secs"
