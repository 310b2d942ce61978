#!/usr/bin/env bash
# Flow matching (rk4, 25 steps) and the consistency model (10 steps) with the solver loop stepped from the
# host and run as one ONNX Loop graph per block (--solver-loop host|graph), interleaved in ROUNDS rounds on
# the CPU provider, runtime defaults otherwise.
#   bench/solver_loop_side_by_side.sh [MODELS_DIR] [OUT_DIR]
# Environment: ROUNDS (2), REPEATS (5), LARGE_FM (5 conditions × 1,000 draws), LARGE_CM (100), PRECISION (fp32).
set -euo pipefail
cd "$(dirname "$0")/.."
MODELS=${1:-models/two_moons}
OUT=${2:-bench/results/solver_loop}
ROUNDS=${ROUNDS:-2}
REPEATS=${REPEATS:-5}
PRECISION=${PRECISION:-fp32}
mkdir -p "$OUT"
dotnet build -c Release bench/OnnxSbi.Bench/OnnxSbi.Bench.csproj -nologo -v q
BENCH=bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench
echo "load average before: $(cat /proc/loadavg)" | tee "$OUT/load_$PRECISION.txt"
for r in $(seq 1 "$ROUNDS"); do
  for mode in host graph; do
    "$BENCH" runtime --model "$MODELS/flow_matching.onnxsbi" --solver-loop "$mode" --precision "$PRECISION" --repeats "$REPEATS" \
      --large-conditions "${LARGE_FM:-5}" --no-memory --out "$OUT/fm_${PRECISION}_${mode}_r$r.json" > /dev/null
    "$BENCH" runtime --model "$MODELS/consistency_model.onnxsbi" --solver-loop "$mode" --precision "$PRECISION" --repeats "$REPEATS" \
      --large-conditions "${LARGE_CM:-100}" --no-memory --out "$OUT/cm_${PRECISION}_${mode}_r$r.json" > /dev/null
  done
done
echo "load average after: $(cat /proc/loadavg)" | tee -a "$OUT/load_$PRECISION.txt"
python3 - "$OUT" "$PRECISION" <<'PY'
import glob, json, sys
out, precision = sys.argv[1], sys.argv[2]
print(f"| model | precision | round | loop | 1x1000 ms | 1x3000 ms | throughput draws/s | % of ceiling |")
print("|---|---|---|---|---|---|---|---|")
for model in ("fm", "cm"):
    for path in sorted(glob.glob(f"{out}/{model}_{precision}_*_r*.json"), key=lambda p: (p.split("_r")[-1], p)):
        m = json.load(open(path))["models"][0]
        mode = path.split("_")[-2]
        rnd = path.split("_r")[-1].split(".")[0]
        print(f"| {m['family']} | {precision} | {rnd} | {mode} | {m['latency_1x1000_ms']:.1f} | {m['latency_1x3000_ms']:.1f} | {m['throughput_draws_per_second']:,.0f} | {m['percent_of_ceiling']:.0f}% |")
PY
