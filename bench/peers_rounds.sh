#!/usr/bin/env bash
# Flow matching against its eager peers in interleaved rounds, to see how much of a ratio is noise.
#   bash bench/peers_rounds.sh OUT_DIR [ROUNDS] [REPEATS]
# Each round runs, back to back: ONNX Runtime on one thread and on its defaults (fp32), then the
# libtorch peer and the PyTorch peer (when Debian's python3-torch is installed) on 1 and on 2 threads,
# all on 1 condition × 3,000 draws of models/two_moons/flow_matching.onnxsbi, medians of REPEATS.
# Writes OUT_DIR/rR_ort_t1.json, rR_ort_defaults.json and OUT_DIR/peers.jsonl (one line per peer run,
# tagged with its round), then prints the per-round ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/peers_rounds.sh OUT_DIR [ROUNDS] [REPEATS]}
ROUNDS=${2:-3}
REPEATS=${3:-5}
PY=${PYTHON:-/usr/bin/python3}
FM=models/two_moons/flow_matching.onnxsbi
mkdir -p "$OUT"
: > "$OUT/load.txt"
dotnet build -c Release bench/OnnxSbi.Bench/OnnxSbi.Bench.csproj -nologo -v q
BENCH=bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench
. bench/peers.sh
: > "$OUT/peers.jsonl"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r: load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
  "$BENCH" runtime --model "$FM" --threads 1 --repeats "$REPEATS" --large-conditions 1 --no-memory --out "$OUT/r${r}_ort_t1.json" > /dev/null
  "$BENCH" runtime --model "$FM" --repeats "$REPEATS" --large-conditions 1 --no-memory --out "$OUT/r${r}_ort_defaults.json" > /dev/null
  for t in 1 2; do
    libtorch_peer "$FM" "$REPEATS" "$t" | sed "s/^{/{\"round\": $r, /" >> "$OUT/peers.jsonl"
    if pytorch_available; then
      pytorch_peer "$FM" "$REPEATS" "$t" | sed "s/^{/{\"round\": $r, /" >> "$OUT/peers.jsonl"
    fi
  done
done
"$PY" - "$OUT" "$ROUNDS" <<'EOF'
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def ort(r, name):
    return json.load(open(f"{out}/r{r}_ort_{name}.json"))["models"][0]["latency_1x3000_ms"]
peers = [json.loads(l) for l in open(f"{out}/peers.jsonl")]
print("round  ORT 1 thr  ORT defaults  peer                      thr   peer ms   peer/ORT(same cores)")
for r in range(1, rounds + 1):
    t1, d = ort(r, "t1"), ort(r, "defaults")
    for p in (p for p in peers if p["round"] == r):
        base = t1 if p["threads"] == 1 else d
        print(f"{r:5d}  {t1:9.1f}  {d:12.1f}  {p['peer']:24s}  {p['threads']:3d}  {p['median_ms']:8.1f}  {p['median_ms'] / base:6.2f}")
EOF
