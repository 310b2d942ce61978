#!/usr/bin/env python3
"""Prints the comparison table of one bench/run_all.sh run: ORT vs the eager peers, and the targets."""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
models = []
for name in ("ort_fm.json", "ort_others.json"):
    path = os.path.join(out, name)
    if os.path.exists(path):
        with open(path) as f:
            models += json.load(f)["models"]
peers = []
path = os.path.join(out, "peers.jsonl")
if os.path.exists(path):
    with open(path) as f:
        peers = [json.loads(line) for line in f if line.strip().startswith("{")]

print("\nONNX Runtime (onnxsbi bench)")
print(f"{'model':<28} {'sampling':<22} {'1x1000 ms':>10} {'1x3000 ms':>10} {'GFLOP/s':>8} {'ceiling':>8} {'%':>6} {'%best':>6} {'large':>6} {'draws/s':>10} {'peak MB':>8}")
for m in models:
    print(f"{os.path.basename(m['model']):<28} {m['sampling']:<22} {m['latency_1x1000_ms']:>10.2f} {m['latency_1x3000_ms']:>10.2f} "
          f"{m['network_gflops']:>8.1f} {m['ceiling_gflops']:>8.1f} {m['percent_of_ceiling']:>6.1f} {m.get('percent_of_ceiling_best', float('nan')):>6.1f} {m['throughput_conditions']:>6} "
          f"{m['throughput_draws_per_second']:>10.0f} {m.get('memory_peak_mb', float('nan')):>8.0f}")

fm = next((m for m in models if m["family"] == "FlowMatching"), None)
if fm and peers:
    ort = fm["latency_1x3000_ms"]
    print("\nFlow matching, 1 condition x 3,000 draws, RK4 25 steps (medians)")
    ocpu = fm.get("cpu_1x3000_ms", float("nan"))
    print(f"{'runner':<34} {'threads':>7} {'wall ms':>10} {'peer/ORT':>9} {'cpu ms':>10} {'peer/ORT':>9}")
    print(f"{'ONNX Runtime (onnxsbi)':<34} {fm['intra_op_threads'] or 'default':>7} {ort:>10.1f} {1.0:>9.2f} {ocpu:>10.1f} {1.0:>9.2f}")
    for p in peers:
        pc = p.get("cpu_ms", float("nan"))
        print(f"{p['peer']:<34} {p['threads']:>7} {p['median_ms']:>10.1f} {p['median_ms'] / ort:>9.2f} {pc:>10.1f} {pc / ocpu:>9.2f}")

print("\nTargets")
for m in models:
    fam, ms = m["family"], m["latency_1x3000_ms"]
    if fam == "FlowMatching":
        best = {}
        for p in peers:
            best[p["peer"]] = min(best.get(p["peer"], float("inf")), p["median_ms"])
        for name, t in best.items():
            print(f"  FM 3,000 draws >= 5x faster than {name} (its best thread count): {t / ms:.2f}x -> {'met' if t / ms >= 5 else 'NOT met'}")
        pct, best = m["percent_of_ceiling"], m.get("percent_of_ceiling_best", float("nan"))
        print(f"  FM network FLOP rate >= 70% of the Gemm ceiling: median {pct:.1f}%, best-of-R {best:.1f}% -> {'met' if min(pct, best) >= 70 else 'NOT met'}")
    elif fam == "ConsistencyModel":
        print(f"  consistency 10 steps, 3,000 draws < 15 ms: {ms:.2f} ms -> {'met' if ms < 15 else 'NOT met'}")
    elif fam == "CouplingFlow":
        print(f"  {os.path.basename(m['model'])} 3,000 draws < 5 ms: {ms:.2f} ms -> {'met' if ms < 5 else 'NOT met'}")
