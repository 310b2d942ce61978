#!/usr/bin/env bash
# Builds Release and runs the runtime benchmark and its peers in one go, then prints the comparison.
#   bench/run_all.sh [SEED_DIR] [OUT_DIR]
# SEED_DIR holds the bundles (flow_matching, consistency_model, affine_coupling_flow,
# spline_coupling_flow .onnxsbi; missing ones are skipped). Environment: REPEATS (7), LARGE (1000
# conditions for the coupling flows and the consistency model; flow matching uses LARGE_FM, 20),
# SWEEP=1 to add the chunk × threads × spinning sweep, THREADS ("1 2": every runner, ONNX Runtime
# and the peers, runs once per thread count, side by side), PRECISIONS ("fp32 int8": ONNX Runtime and
# the PyTorch peer run both; the libtorch peer has no int8 path and runs fp32 only). A last round runs
# ONNX Runtime on its defaults (no --threads: one thread per block, a block per core in parallel),
# plus the coupling flows through their whole inverse graph (--coupling-inverse graph) for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${1:-/tmp/seed}
OUT=${2:-bench/results}
REPEATS=${REPEATS:-7}
LARGE=${LARGE:-1000}
LARGE_FM=${LARGE_FM:-20}
THREADS=${THREADS:-"1 2"}
PRECISIONS=${PRECISIONS:-"fp32 int8"}
PY=${PYTHON:-/usr/bin/python3}  # Debian python3-torch lives in the system interpreter
mkdir -p "$OUT"

dotnet build -c Release bench/OnnxSbi.Bench/OnnxSbi.Bench.csproj -nologo -v q
BENCH=bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench
. bench/peers.sh

echo "load average before: $(cat /proc/loadavg)" | tee "$OUT/load.txt"
FM="$SEED/flow_matching.onnxsbi"
others=()
for name in consistency_model affine_coupling_flow spline_coupling_flow; do
  [ -f "$SEED/$name.onnxsbi" ] && others+=(--model "$SEED/$name.onnxsbi")
done
sweep=()
[ "${SWEEP:-0}" = 1 ] && sweep=(--sweep)
# Only the results of the bundles that run now are replaced: a SEED_DIR without flow matching keeps its results and peers.
if [ -f "$FM" ]; then
  : > "$OUT/peers.jsonl"
  rm -f "$OUT"/ort_fm_*_t*.json "$OUT"/ort_fm_*_defaults.json
fi
if [ ${#others[@]} -gt 0 ]; then
  rm -f "$OUT"/ort_others_*_t*.json "$OUT"/ort_others_*_defaults.json "$OUT"/ort_coupling_graph_*.json
fi
# One round per thread count: ONNX Runtime and both peers with the same number of threads, back to back.
for t in $THREADS; do
  if [ -f "$FM" ]; then
    for p in $PRECISIONS; do
      "$BENCH" runtime --model "$FM" --threads "$t" --precision "$p" --repeats "$REPEATS" --large-conditions "$LARGE_FM" "${sweep[@]}" --out "$OUT/ort_fm_${p}_t$t.json"
    done
    libtorch_peer "$FM" "$REPEATS" "$t" >> "$OUT/peers.jsonl"
    if pytorch_available; then
      for p in $PRECISIONS; do
        int8=(); [ "$p" = int8 ] && int8=(--int8)
        pytorch_peer "$FM" "$REPEATS" "$t" "${int8[@]}" >> "$OUT/peers.jsonl"
      done
    else
      echo "python3 torch not installed: PyTorch peer skipped" >&2
    fi
  fi
  if [ ${#others[@]} -gt 0 ]; then
    for p in $PRECISIONS; do
      "$BENCH" runtime "${others[@]}" --threads "$t" --precision "$p" --repeats "$REPEATS" --large-conditions "$LARGE" --out "$OUT/ort_others_${p}_t$t.json"
    done
  fi
done
# The runtime's own defaults (one single-threaded block per core), and the coupling flows once
# more through their whole inverse graph (--coupling-inverse graph), side by side.
couplings=()
for name in affine_coupling_flow spline_coupling_flow; do
  [ -f "$SEED/$name.onnxsbi" ] && couplings+=(--model "$SEED/$name.onnxsbi")
done
if [ -f "$FM" ]; then
  for p in $PRECISIONS; do
    "$BENCH" runtime --model "$FM" --precision "$p" --repeats "$REPEATS" --large-conditions "$LARGE_FM" --out "$OUT/ort_fm_${p}_defaults.json"
  done
fi
if [ ${#others[@]} -gt 0 ]; then
  for p in $PRECISIONS; do
    "$BENCH" runtime "${others[@]}" --precision "$p" --repeats "$REPEATS" --large-conditions "$LARGE" --out "$OUT/ort_others_${p}_defaults.json"
    if [ ${#couplings[@]} -gt 0 ]; then
      "$BENCH" runtime "${couplings[@]}" --coupling-inverse graph --precision "$p" --repeats "$REPEATS" --large-conditions "$LARGE" --out "$OUT/ort_coupling_graph_${p}_defaults.json"
    fi
  done
fi
echo "load average after: $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"
python3 bench/summarize.py "$OUT"
