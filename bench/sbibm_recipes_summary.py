#!/usr/bin/env python3
"""Best held-out validation loss per (task, network, budget) and recipe variant, from bench/sbibm_recipes.sh's output."""
import glob, json, os, sys

root = sys.argv[1]
rows = {}
for path in glob.glob(os.path.join(root, "*", "cells", "*", "*", "*", "result.json")):
    variant = os.path.relpath(path, root).split(os.sep)[0]
    r = json.load(open(path))
    rows.setdefault((r["task"], r["network"], r["simulations"]), {})[variant] = (r["best_validation_loss"], r["epochs_run"], r["best_epoch"], r["train_seconds"])
variants = sorted({v for d in rows.values() for v in d})
print("| task | network | simulations | " + " | ".join(variants) + " | chosen |")
print("|---|---|---|" + "---|" * (len(variants) + 1))
for key in sorted(rows):
    d = rows[key]
    best = min(d, key=lambda v: d[v][0])
    cells = [f"{d[v][0]:.4f} ({d[v][2]}/{d[v][1]} ep, {d[v][3]:.0f} s)" if v in d else "—" for v in variants]
    print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + f" | {best} |")
