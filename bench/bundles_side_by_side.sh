#!/usr/bin/env bash
# Two or more bundles benched side by side with the same build of the CLI, interleaved in ROUNDS rounds, fp32
# and int8, runtime defaults otherwise. A bundle is LABEL=PATH, or LABEL=REV:PATH for a bundle as committed at a
# git revision (extracted with git show), e.g. the spline flow before and after a recipe change:
#   bench/bundles_side_by_side.sh OUT_DIR old=f901187:models/two_moons/spline_coupling_flow.onnxsbi \
#                                         new=models/two_moons/spline_coupling_flow.onnxsbi
# Environment: ROUNDS (3), REPEATS (21), LARGE (100 conditions × 1,000 draws), PRECISIONS ("fp32 int8").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bundles_side_by_side.sh OUT_DIR LABEL=[REV:]PATH LABEL=[REV:]PATH ...}
shift
[ $# -ge 2 ] || { echo "need at least two LABEL=[REV:]PATH bundles" >&2; exit 2; }
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-21}
mkdir -p "$OUT"
declare -A bundle
labels=()
extracted=$(mktemp -d)
trap 'rm -rf "$extracted"' EXIT
for spec in "$@"; do
  label=${spec%%=*}
  src=${spec#*=}
  [ "$label" != "$spec" ] && [ -n "$label" ] || { echo "'$spec' is not LABEL=[REV:]PATH" >&2; exit 2; }
  if [[ "$src" == *:* ]]; then
    git show "$src" > "$extracted/$label.onnxsbi"   # REV:PATH as committed
    bundle[$label]="$extracted/$label.onnxsbi"
  else
    [ -f "$src" ] || { echo "bundle '$src' not found" >&2; exit 2; }
    bundle[$label]="$src"
  fi
  labels+=("$label")
done
dotnet build -c Release bench/OnnxSbi.Bench/OnnxSbi.Bench.csproj -nologo -v q
BENCH=bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench
echo "load average before: $(cat /proc/loadavg)" | tee "$OUT/load.txt"
for r in $(seq 1 "$ROUNDS"); do
  for p in ${PRECISIONS:-fp32 int8}; do
    for label in "${labels[@]}"; do
      "$BENCH" runtime --model "${bundle[$label]}" --precision "$p" --repeats "$REPEATS" --large-conditions "${LARGE:-100}" \
        --no-memory --out "$OUT/${label}_${p}_r$r.json" > /dev/null
    done
  done
done
echo "load average after: $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"
python3 - "$OUT" "${labels[@]}" <<'PY'
import glob, json, statistics, sys
out, labels = sys.argv[1], sys.argv[2:]
print("| bundle | precision | 1x3000 ms per round | median | throughput draws/s (median) | GFLOP per 3,000 draws | % of ceiling (median) |")
print("|---|---|---|---|---|---|---|")
for precision in ("fp32", "int8"):
    for label in labels:
        runs = [json.load(open(p))["models"][0] for p in sorted(glob.glob(f"{out}/{label}_{precision}_r*.json"))]
        if not runs:
            continue
        ms = [m["latency_1x3000_ms"] for m in runs]
        gflop = runs[0]["flops_per_row"] * runs[0]["evaluations_per_draw"] * 3000 / 1e9
        print(f"| {label} | {precision} | {' / '.join(f'{v:.2f}' for v in ms)} | {statistics.median(ms):.2f} | "
              f"{statistics.median(m['throughput_draws_per_second'] for m in runs):,.0f} | {gflop:.3f} | "
              f"{statistics.median(m['percent_of_ceiling'] for m in runs):.0f}% |")
PY
