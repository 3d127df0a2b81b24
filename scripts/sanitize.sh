#!/usr/bin/env bash
# CI's sanitizer step: the engine built with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (build-fuzz/, MQ_FUZZ=ON); the reader and format unit suites run under them, then each libFuzzer
# harness for SECONDS (default 20) from its seeds in tests/fuzz/. Fails on any test failure or
# any fuzzer finding. Longer campaigns: scripts/fuzz.sh TARGET MINUTES.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
bash scripts/deps.sh --sanitize
BUILD=${MQ_FUZZ_BUILD:-$PWD/build-fuzz}
if [ ! -f "$BUILD/build.ninja" ]; then
  CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DMQ_FUZZ=ON -DMQ_WITH_GUI=OFF -DMQ_WITH_MPI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD" -j "$(nproc)"
(cd "$BUILD" && ctest --output-on-failure)
for t in safetensors config tokenizer token_jsonl manifest session audio image video; do
  echo "== fuzz_$t for $SECS s"
  log="$BUILD/fuzz_$t.log"
  if ! MQ_FUZZ_BUILD=$BUILD bash scripts/fuzz.sh "$t" "$(python3 -c "print($SECS / 60)")" >"$log" 2>&1; then
    tail -60 "$log" >&2
    echo "fuzz_$t failed or found something (findings: $BUILD/findings/$t, log: $log)" >&2
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)" "$log" || true
done
