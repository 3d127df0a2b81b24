#!/usr/bin/env bash
# Data parallelism over MPI on this machine: wall time of calibrate, quantize (morphoquant W4A4,
# MDQFO) and eval with one process (all cores) and with mpirun -n 2 (one core each), on
# stories260K and on a Qwen2.5-7B-shaped checkpoint of LAYERS decoder layers (default 1; written
# under $WORK, default /tmp/mq-mpi), and the bytes rank 0 exchanged in collectives (the "mpi"
# line each parallel command prints): the communication volume bench/README.md scales from.
# Batches of one sequence (--batch 1), so that 8 sequences make 8 batches to share out (the
# ranks split batches, not sequences within one). Each process's peak RSS is taken by
# /usr/bin/time (the largest of the ranks). GPTQ factorizes each Linear on one rank (round robin),
# so a 7B down_proj's 12.5 GB are held once, not once per rank.
# usage: bench/mpi_scaling.sh [LAYERS]
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=$PWD/build/bin/morphoquant-cli
WORK="${WORK:-/tmp/mq-mpi}"
LAYERS="${1:-1}"
STORIES="${MQ_SHARED_DIR:-$PWD/../shared}/models/stories260K"
mkdir -p "$WORK"
MPIRUN=(mpirun --oversubscribe -n 2)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
export OMPI_MCA_btl_vader_single_copy_mechanism=none
measure() { # model-label, ranks, stage-label, cli args...
  local model="$1" ranks="$2" label="$3"; shift 3
  local start end mb rss
  local timed=(/usr/bin/time -f "maxrss_kb %M" "$CLI")
  start=$(date +%s.%N)
  if [ "$ranks" = 1 ]; then
    "${timed[@]}" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
  else
    "${MPIRUN[@]}" "${timed[@]}" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
  fi
  end=$(date +%s.%N)
  mb=$(grep -o "exchanged [0-9.]* MB" "$WORK/err.txt" | awk '{print $2}' || true)
  rss=$(grep -o "maxrss_kb [0-9]*" "$WORK/err.txt" | awk '{if ($2 > m) m = $2} END {printf "%.2f", m / 1048576}')
  printf "%-14s %-6s %-34s %8.1f s %12s %10s GiB\n" "$model" "$ranks" "$label" "$(echo "$end - $start" | bc -l)" \
    "${mb:--}" "$rss"
}
printf "%-14s %-6s %-34s %10s %12s %14s\n" model ranks stage wall "MB (rank 0)" "peak RSS/rank"
M7="$WORK/q7b-$LAYERS"
[ -f "$M7/config.json" ] || "$CLI" make-synthetic "$M7" --shape qwen2.5-7b --layers "$LAYERS" --quiet > /dev/null
for spec in "stories260K:$STORIES:calibration.jsonl:evaluation.jsonl" "7B-${LAYERS}L:$M7:calibration.jsonl:evaluation.jsonl"; do
  IFS=: read -r name dir calib evalf <<< "$spec"
  for ranks in 1 2; do
    measure "$name" "$ranks" "calibrate" calibrate --model "$dir" --calib "$dir/$calib" \
      --session "$WORK/s.mqs" --overwrite --quiet --batch 1
    measure "$name" "$ranks" "quantize morphoquant W4A4" quantize --model "$dir" --calib "$dir/$calib" \
      --method morphoquant --wbits 4 --abits 4 --quiet --batch 1
    measure "$name" "$ranks" "quantize rtn W4A8 + GPTQ" quantize --model "$dir" --calib "$dir/$calib" \
      --method rtn --wbits 4 --abits 8 --gptq --quiet --batch 1
    measure "$name" "$ranks" "eval" eval --model "$dir" --data "$dir/$evalf" --quiet --batch 1
  done
done
