#!/usr/bin/env python3
"""Old against new from one bench/old_vs_new_side_by_side.sh run: per model and precision, the median over rounds
of each build's 1x3000 latency and throughput, and new/old ratios (below 1 for latency is faster)."""
import glob
import json
import os
import re
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench/results/restructure"
runs = {}
for path in glob.glob(os.path.join(out, "r*_*_*.json")):
    m = re.search(r"r(\d+)_(fp32|int8)_(.+)_(old|new)\.json$", os.path.basename(path))
    if not m:
        continue
    with open(path) as f:
        model = json.load(f)["models"][0]
    runs.setdefault((m.group(3), m.group(2)), {}).setdefault(m.group(4), []).append(model)

print(f"{'model':<22} {'prec':<5} {'rounds':>6} {'old 1x3000 ms':>14} {'new 1x3000 ms':>14} {'new/old':>8} {'old draws/s':>12} {'new draws/s':>12} {'new/old':>8}")
for (name, precision), builds in sorted(runs.items()):
    old, new = builds.get("old", []), builds.get("new", [])
    if not old or not new:
        continue
    lo = statistics.median(r["latency_1x3000_ms"] for r in old)
    ln = statistics.median(r["latency_1x3000_ms"] for r in new)
    to = statistics.median(r["throughput_draws_per_second"] for r in old)
    tn = statistics.median(r["throughput_draws_per_second"] for r in new)
    print(f"{name:<22} {precision:<5} {min(len(old), len(new)):>6} {lo:>14.2f} {ln:>14.2f} {ln / lo:>8.3f} {to:>12.0f} {tn:>12.0f} {tn / to:>8.3f}")
