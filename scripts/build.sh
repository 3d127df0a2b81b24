#!/usr/bin/env bash
# Configures and builds into build/ (Release, Ninja). CI turns warnings into errors.
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
[ "${CI:-}" = "true" ] && extra+=(-DMQ_WARNINGS_AS_ERRORS=ON)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@"
cmake --build build -j "$(nproc)"
