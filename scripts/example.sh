#!/usr/bin/env bash
# The main job on the bundled example: install, build, then quantize stories260K with
# MorphoQuant W4A4 (beside RTN W4A4 and MorphoQuant W4A16), evaluate, save the session, export,
# and check that the export reloads as the same model.
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
w4a16=$($CLI quantize "${common[@]}" --method morphoquant --wbits 4 --abits 16 | tail -n1)
mq=$($CLI quantize "${common[@]}" --method morphoquant --wbits 4 --abits 4 \
      --session "$OUT/stories260K-w4a4.mqs" --export "$OUT/stories260K-w4a4" --overwrite | tail -n1)
reload=$($CLI eval --model "$OUT/stories260K-w4a4" --data "$MODEL/evaluation.jsonl" --json --quiet | tail -n1)
python3 - "$fp" "$rtn" "$w4a16" "$mq" "$reload" <<'PY'
import json, sys
fp, rtn, w4a16, mq, reload = (json.loads(a) for a in sys.argv[1:])
print()
print("stories260K, evaluation.jsonl (%d predicted tokens)" % fp["tokens"])
print("%-44s %10s %10s" % ("configuration", "NLL", "PPL"))
for name, r in [("full precision", fp), ("RTN W4A4 (int4 per-channel, per-token A4)", rtn),
                ("MorphoQuant W4A16 (int4 weights)", w4a16), ("MorphoQuant W4A4", mq),
                ("MorphoQuant W4A4, reloaded from the export", reload)]:
    print("%-44s %10.6f %10.4f" % (name, r["nll"], r["ppl"]))
print("DABC compensated %d of %d input channels; MDQFO loss %.4f -> %.4f" % (
    mq["dabc_masked_channels"], mq["dabc_total_channels"], mq["mdqfo_loss_initial"], mq["mdqfo_loss_final"]))
print("session: %s   export: %s" % (mq["session"], mq["export"]))
ok = mq["ppl"] < rtn["ppl"] and abs(reload["ppl"] - mq["ppl"]) <= 1e-3 * mq["ppl"]
sys.exit(0 if ok else 1)
PY
