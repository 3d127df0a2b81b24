#!/usr/bin/env bash
# Wall time and peak RSS (/usr/bin/time -v) of every stage on a synthetic Qwen2.5-7B-shaped
# checkpoint, for the layer counts given: eval, calibrate, quantize rtn, quantize morphoquant
# with session and export. Writes the models under $WORK (default /tmp/mq-scale).
# usage: bench/scale_7b.sh [LAYERS...]   (default 1 2 4); THREADS=2 by default
# SHAPE=qwen2.5-omni-7b measures the whole Qwen2.5-Omni-7B layout instead, calibrating on the
# mixed manifest make-synthetic writes beside it (text, images, audio, video frames).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=build/bin/morphoquant-cli
WORK="${WORK:-/tmp/mq-scale}"
THREADS="${THREADS:-2}"
SHAPE="${SHAPE:-qwen2.5-7b}"
mkdir -p "$WORK"
measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -v "$@" > "$WORK/out.txt" 2> "$WORK/time.txt" || { cat "$WORK/time.txt"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
  printf "%-8s %-44s %10s %8.2f GiB\n" "$L" "$label" "$wall" "$(echo "$rss/1048576" | bc -l)"
}
printf "%-8s %-44s %10s %12s\n" layers stage wall "peak RSS"
for L in "${@:-1 2 4}"; do
  if [ "$SHAPE" = qwen2.5-7b ]; then M="$WORK/q7b-$L"; else M="$WORK/$SHAPE-$L"; fi
  [ -f "$M/config.json" ] || $CLI make-synthetic "$M" --shape "$SHAPE" --layers "$L" --quiet > /dev/null
  common=(--model "$M" --threads "$THREADS" --quiet)
  calib=(--calib "$M/calibration.jsonl")
  [ -f "$M/manifest.jsonl" ] && calib=(--manifest "$M/manifest.jsonl")
  measure "eval (8 x 256 tokens)" $CLI eval "${common[@]}" --data "$M/evaluation.jsonl"
  measure "calibrate (${calib[0]#--})" $CLI calibrate "${common[@]}" "${calib[@]}" --session "$WORK/c.mqs"
  measure "quantize rtn W4A4" $CLI quantize "${common[@]}" "${calib[@]}" --method rtn --wbits 4 --abits 4
  measure "quantize morphoquant W4A4 + session + export" $CLI quantize "${common[@]}" "${calib[@]}" \
    --method morphoquant --wbits 4 --abits 4 --session "$WORK/m.mqs" --export "$WORK/export-$L" --overwrite
  rm -rf "$WORK/export-$L" "$WORK"/*.mqs
done
