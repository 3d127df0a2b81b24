#!/usr/bin/env bash
# Builds (if needed) and runs every test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || bash scripts/build.sh
cmake --build build -j "$(nproc)"
cd build && QT_QPA_PLATFORM=offscreen ctest --output-on-failure
