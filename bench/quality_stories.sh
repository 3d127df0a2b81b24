#!/usr/bin/env bash
# The stories260K quality table of bench/README.md: every recipe quantized on the calibration set
# and evaluated on all 64 evaluation sequences, with what it costs (effective activation bits per
# element and per multiply-add, DABC's extra multiply-adds, effective weight bits; quant/cost.h)
# and the mean per-token KL divergence from the full-precision model.
# Prints one markdown row per recipe with its command line. usage: bench/quality_stories.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=build/bin/morphoquant-cli
M=${M:-../shared/models/stories260K}
THREADS=${THREADS:-2}
row() { # label, quantize options...
  local label="$1"; shift
  local out
  out=$($CLI quantize --model "$M" --calib "$M/calibration.jsonl" --eval "$M/evaluation.jsonl" \
          --threads "$THREADS" --quiet --json "$@" | tail -1)
  python3 - "$label" "$out" "$*" <<'PY'
import json, sys
label, j, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
ub = " (at most)" if j.get("act_bits_upper_bound") else ""
print(f"| {label} | {j['ppl']:.4f} | {j['kl']:.4f} | {j['act_bits_effective']:.2f}{ub} | {j['act_bits_effective_mac']:.2f} "
      f"| {100*j['dabc_extra_macs']:.1f}% | {j['weight_bits_effective']:.2f} | `{args}` |")
PY
}
echo "| recipe | PPL | KL (nats/token) | act bits/element | act bits/MAC | DABC extra MACs | weight bits | options |"
echo "|---|---|---|---|---|---|---|---|"
row "RTN W8A8" --method rtn --wbits 8 --abits 8
row "RTN W4A16" --method rtn --wbits 4 --abits 16
row "RTN W4A4 (per-token)" --method rtn --wbits 4 --abits 4
row "Hadamard + RTN W4A4" --method rtn --wbits 4 --abits 4 --rotate hadamard
row "MorphoQuant W4A4, default (budget: at most 1/24 of each group compensated)" --method morphoquant --wbits 4 --abits 4
row "MorphoQuant W4A4, pure Eq. 6 mask, no cap" --method morphoquant --wbits 4 --abits 4 --dabc-max-share 1
row "MorphoQuant W4A4, no DABC" --method morphoquant --wbits 4 --abits 4 --no-dabc
row "Hadamard + MorphoQuant W4A4 (budget)" --method morphoquant --wbits 4 --abits 4 --rotate hadamard
row "MorphoQuant W4A4, \`--preset authors\` (down_proj inputs kept 16-bit)" --method morphoquant --wbits 4 --abits 4 --preset authors
row "MorphoQuant W8A8 (budget)" --method morphoquant --wbits 8 --abits 8
# GPTQ and the true 4-bit recipes (README "Recipes at equal budgets").
G="--gptq --gptq-clip 20 --gptq-fp-target --gptq-damp 0.001"
row "GPTQ W4A16" --method rtn --wbits 4 --abits 16 --gptq
row "Hadamard (heads) + GPTQ clip W4A16" --method rtn --wbits 4 --abits 16 --rotate hadamard-heads --gptq --gptq-clip 20
row "Hadamard + GPTQ W4A4" --method rtn --wbits 4 --abits 4 --rotate hadamard --gptq
row "Hadamard (heads) + GPTQ W4A4" --method rtn --wbits 4 --abits 4 --rotate hadamard-heads --gptq
row "Hadamard (heads) + GPTAQ-style GPTQ + clip search, per-token" --method rtn --wbits 4 --abits 4 --rotate hadamard-heads $G
row "the same, asymmetric per-token" --method rtn --wbits 4 --abits 4 --rotate hadamard-heads $G --aasym
row "the same, asymmetric, per-group clip search" --method rtn --wbits 4 --abits 4 --rotate hadamard-heads $G --aasym --aclip-search 12
row "\`--preset w4a4-int-best\` (the same, clip 0.9)" --preset w4a4-int-best
row "w4a4-int-best, rotation seed 1" --preset w4a4-int-best --rotate-seed 1
row "w4a4-int-best, rotation seed 2" --preset w4a4-int-best --rotate-seed 2
row "Hadamard (heads) + GPTQ + MorphoQuant (DABC budget + MDQFO)" --method morphoquant --wbits 4 --abits 4 --rotate hadamard-heads $G
row "the same, no DABC (static per-channel, exactly 4 bits)" --method morphoquant --wbits 4 --abits 4 --rotate hadamard-heads $G --no-dabc
row "the same, no MDQFO (alpha = max)" --method morphoquant --wbits 4 --abits 4 --rotate hadamard-heads $G --no-mdqfo
# Micro-scaled formats (FORMATS.md), weights and activations; simulated.
row "NVFP4 W4A4, round to nearest" --method rtn --wbits 4 --abits 4 --wformat nvfp4 --aformat nvfp4
row "MXFP4 W4A4, round to nearest" --method rtn --wbits 4 --abits 4 --wformat mxfp4 --aformat mxfp4
row "HiF4 W4A4, round to nearest" --method rtn --wbits 4 --abits 4 --wformat hif4 --aformat hif4
row "HiF4 weights, HiF8 activations (W4A8)" --method rtn --wbits 4 --abits 8 --wformat hif4 --aformat hif8
row "MXFP4 W4A4, Hadamard (heads) + GPTAQ-style GPTQ" --method rtn --wbits 4 --abits 4 --wformat mxfp4 --aformat mxfp4 --rotate hadamard-heads --gptq --gptq-fp-target --gptq-damp 0.001
row "HiF4 W4A4 + GPTQ" --method rtn --wbits 4 --abits 4 --wformat hif4 --aformat hif4 --gptq
row "**\`--preset w4a4-nvfp4\`** (NVFP4 + GPTAQ-style GPTQ)" --preset w4a4-nvfp4
row "**\`--preset w4a4-best\`** (HiF4 + GPTAQ-style GPTQ)" --preset w4a4-best
row "HiF4 W4A16 + GPTQ (reference)" --method rtn --wbits 4 --abits 16 --wformat hif4 --gptq
# SmoothQuant (per-token activations).
row "SmoothQuant 0.5, RTN W8A8" --method rtn --wbits 8 --abits 8 --smooth 0.5
row "SmoothQuant 0.5, RTN W4A4" --method rtn --wbits 4 --abits 4 --smooth 0.5
# One weight scale per tensor.
row "RTN W8A8, per-tensor weights" --method rtn --wbits 8 --abits 8 --per-tensor
row "RTN W4A16, per-tensor weights" --method rtn --wbits 4 --abits 16 --per-tensor
row "RTN W4A16, per-tensor asymmetric weights" --method rtn --wbits 4 --abits 16 --per-tensor --asym
# Per-group clip search: output error against MDQFO's morphology loss.
row "Hadamard + RTN W4A4, clip search by output error" --method rtn --wbits 4 --abits 4 --rotate hadamard --aclip-search 20
row "the same, clip search by morphology loss" --method rtn --wbits 4 --abits 4 --rotate hadamard --aclip-search 20 --aclip-objective morphology
row "w4a4-int-best, clip search by output error" --preset w4a4-int-best --aclip-search 20
row "the same, clip search by morphology loss" --preset w4a4-int-best --aclip-search 20 --aclip-objective morphology
# NF4 with and without double quantization of its absmax values.
row "NF4 W4A16 (block 64, fp32 absmax)" --method rtn --wbits 4 --abits 16 --wformat nf4
row "NF4 W4A16 with double quantization" --method rtn --wbits 4 --abits 16 --wformat nf4-dq
