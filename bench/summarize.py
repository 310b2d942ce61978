#!/usr/bin/env python3
"""Prints the comparison tables of one bench/run_all.sh run: ORT per thread count, ORT vs the eager
peers at the same thread count, and the targets."""
import glob
import json
import os
import re
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
models = []  # (threads label, model json); "2" = 2 intra-op threads, "1x2" = 1 thread x 2 parallel blocks
for path in sorted(glob.glob(os.path.join(out, "ort_*.json"))):
    if not re.search(r"ort_(fm|others|coupling_graph)_(fp32|int8)_(t\d+|defaults)\.json$", path):
        continue
    with open(path) as f:
        for m in json.load(f)["models"]:
            blocks = m.get("parallel_blocks", 1)
            t = str(m["intra_op_threads"]) if blocks <= 1 else f"{m['intra_op_threads']}x{blocks}"
            models.append((t, m))
peers = []
path = os.path.join(out, "peers.jsonl")
if os.path.exists(path):
    with open(path) as f:
        peers = [json.loads(line) for line in f if line.strip().startswith("{")]
nan = float("nan")

print("\nONNX Runtime (onnxsbi-bench runtime)")
print(f"{'model':<28} {'prec':<4} {'thr':>3} {'chunk':>5} {'sampling':<22} {'1x1000 ms':>10} {'1x3000 ms':>10} {'GFLOP/s':>8} {'ceiling':>8} {'%':>6} {'%best':>6} {'large':>6} {'draws/s':>10} {'peak MB':>8}")
for t, m in models:
    print(f"{os.path.basename(m['model']):<28} {m.get('precision', 'fp32'):<4} {t:>3} {m['chunk_size']:>5} {m['sampling']:<22} {m['latency_1x1000_ms']:>10.2f} {m['latency_1x3000_ms']:>10.2f} "
          f"{m['network_gflops']:>8.1f} {m['ceiling_gflops']:>8.1f} {m['percent_of_ceiling']:>6.1f} {m.get('percent_of_ceiling_best', nan):>6.1f} {m['throughput_conditions']:>6} "
          f"{m['throughput_draws_per_second']:>10.0f} {m.get('memory_peak_mb', nan):>8.0f}")

fms = [(t, m) for t, m in models if m["family"] == "FlowMatching"]
if fms and peers:
    # Peers run T threads; ONNX Runtime with T intra-op threads ("T") or T single-threaded blocks ("1xT") uses as many cores.
    def cores(t):
        a, _, b = t.partition("x")
        return int(a) * int(b or 1)
    print("\nFlow matching, 1 condition x 3,000 draws, RK4 25 steps (medians); ratios against ONNX Runtime on the same number of cores")
    print(f"{'runner':<40} {'prec':<4} {'threads':>7} {'wall ms':>10} {'peer/ORT':>9} {'cpu ms':>10} {'peer/ORT':>9}")
    for t, fm in fms:
        ort, ocpu = fm["latency_1x3000_ms"], fm.get("cpu_1x3000_ms", nan)
        print(f"{'ONNX Runtime (onnxsbi)':<40} {fm.get('precision', 'fp32'):<4} {t:>7} {ort:>10.1f} {1.0:>9.2f} {ocpu:>10.1f} {1.0:>9.2f}")
        for p in (p for p in peers if p["threads"] == cores(t)):
            pc = p.get("cpu_ms", nan)
            print(f"{p['peer']:<40} {p.get('precision', 'fp32'):<4} {t:>7} {p['median_ms']:>10.1f} {p['median_ms'] / ort:>9.2f} {pc:>10.1f} {pc / ocpu:>9.2f}")

print("\nTargets (each at every thread count and precision measured; fp32 peers against ORT int8 compare different arithmetic)")
for t, m in models:
    fam, ms = m["family"], m["latency_1x3000_ms"]
    label = f"{t} thr, {m.get('precision', 'fp32')}"
    if fam == "FlowMatching":
        for p in (p for p in peers if p["threads"] == cores(t)):
            r = p["median_ms"] / ms
            print(f"  [{label}] FM 3,000 draws >= 5x faster than {p['peer']} ({p.get('precision', 'fp32')}): {r:.2f}x -> {'met' if r >= 5 else 'NOT met'}")
        pct, best = m["percent_of_ceiling"], m.get("percent_of_ceiling_best", nan)
        print(f"  [{label}] FM network FLOP rate >= 70% of the Gemm ceiling: median {pct:.1f}%, best-of-R {best:.1f}% -> {'met' if min(pct, best) >= 70 else 'NOT met'}")
    elif fam == "ConsistencyModel":
        print(f"  [{label}] consistency 10 steps, 3,000 draws < 15 ms: {ms:.2f} ms -> {'met' if ms < 15 else 'NOT met'}")
    elif fam == "CouplingFlow":
        print(f"  [{label}] {os.path.basename(m['model'])} ({m['sampling']}) 3,000 draws < 5 ms: {ms:.2f} ms -> {'met' if ms < 5 else 'NOT met'}")
