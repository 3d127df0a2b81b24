#!/usr/bin/env bash
# The main job on the bundled example: install, build, then quantize stories260K with
# MorphoQuant W4A4 (beside RTN W4A4 with and without rotation, rotation + GPTQ, the best true
# 4-bit preset, MorphoQuant W4A16 and the authors' preset), evaluate with what each costs, save the session, export, and check that the
# export reloads as the same model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
MODEL="${MQ_MODEL:-../shared/models/stories260K}"
OUT="${MQ_OUT:-example-out}"
CLI=build/bin/morphoquant-cli
mkdir -p "$OUT"
common=(--model "$MODEL" --calib "$MODEL/calibration.jsonl" --eval "$MODEL/evaluation.jsonl" --json)
fp=$($CLI eval --model "$MODEL" --data "$MODEL/evaluation.jsonl" --json | tail -n1)
rtn=$($CLI quantize "${common[@]}" --method rtn --wbits 4 --abits 4 | tail -n1)
rot=$($CLI quantize "${common[@]}" --method rtn --wbits 4 --abits 4 --rotate hadamard | tail -n1)
gptq=$($CLI quantize "${common[@]}" --method rtn --wbits 4 --abits 4 --rotate hadamard --gptq | tail -n1)
best=$($CLI quantize "${common[@]}" --preset w4a4-best | tail -n1)
w4a16=$($CLI quantize "${common[@]}" --method morphoquant --wbits 4 --abits 16 | tail -n1)
mq=$($CLI quantize "${common[@]}" --method morphoquant --wbits 4 --abits 4 \
      --session "$OUT/stories260K-w4a4.mqs" --export "$OUT/stories260K-w4a4" --overwrite | tail -n1)
authors=$($CLI quantize "${common[@]}" --method morphoquant --wbits 4 --abits 4 --preset authors | tail -n1)
reload=$($CLI eval --model "$OUT/stories260K-w4a4" --data "$MODEL/evaluation.jsonl" --json --quiet | tail -n1)
python3 - "$fp" "$rtn" "$rot" "$gptq" "$best" "$w4a16" "$mq" "$authors" "$reload" <<'PY'
import json, sys
fp, rtn, rot, gptq, best, w4a16, mq, authors, reload = (json.loads(a) for a in sys.argv[1:])
print()
print("stories260K, evaluation.jsonl (%d predicted tokens); bits: effective activation bits per" % fp["tokens"])
print("element (a DABC-compensated element counts 16) and weight bits with scales")
print("%-48s %10s %10s %8s %8s" % ("configuration", "NLL", "PPL", "A bits", "W bits"))
for name, r in [("full precision", fp), ("RTN W4A4 (per-token A4)", rtn),
                ("Hadamard rotation + RTN W4A4", rot), ("Hadamard rotation + GPTQ W4A4", gptq),
                ("--preset w4a4-best (every activation 4-bit)", best),
                ("MorphoQuant W4A16 (int4 weights)", w4a16),
                ("MorphoQuant W4A4 (default: at most 4.5 A bits)", mq),
                ("MorphoQuant W4A4 --preset authors", authors),
                ("MorphoQuant W4A4, reloaded from the export", reload)]:
    bits = ("%8.2f %8.2f" % (r["act_bits_effective"], r["weight_bits_effective"])) if "act_bits_effective" in r else ""
    print("%-48s %10.6f %10.4f %s" % (name, r["nll"], r["ppl"], bits))
print("DABC compensated %d of %d input channels; MDQFO loss %.4f -> %.4f" % (
    mq["dabc_masked_channels"], mq["dabc_total_channels"], mq["mdqfo_loss_initial"], mq["mdqfo_loss_final"]))
print("session: %s   export: %s" % (mq["session"], mq["export"]))
# The checks: the export reloads as the same model; the default stays within its budget; the
# rotation helps per-token RTN and GPTQ helps rotation; the best preset stays within 4.5 bits
# (bench/README.md has every figure).
ok = (abs(reload["ppl"] - mq["ppl"]) <= 1e-3 * mq["ppl"] and mq["act_bits_effective"] <= 4.5 + 1e-9
      and rot["ppl"] < rtn["ppl"] and gptq["ppl"] < rot["ppl"] and best["act_bits_effective"] <= 4.5 + 1e-9
      and best["ppl"] < gptq["ppl"])
sys.exit(0 if ok else 1)
PY
