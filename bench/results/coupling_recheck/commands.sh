#!/bin/bash
# Coupling flows, native inverse, runtime defaults: the commit before the residual block rewrite (OLD, built in a
# worktree at $1, e.g. `git worktree add --detach /tmp/oldw 1965551 && dotnet build -c Release
# /tmp/oldw/runtime/OnnxSbi.Runtime.Cli`) against this tree, 4 rounds, order alternating, 21 repeats each.
cd "$(dirname "$0")/../../.."
O=$1/runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi
N=runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi
OUT=bench/results/coupling_recheck
S=models/two_moons
for r in 1 2 3 4; do
  if [ $((r % 2)) = 1 ]; then order="new old"; else order="old new"; fi
  for v in $order; do
    [ $v = old ] && cli=$O || cli=$N
    for p in int8 fp32; do
      "$cli" bench --model $S/affine_coupling_flow.onnxsbi --model $S/spline_coupling_flow.onnxsbi --repeats 21 --large-conditions 100 \
        --no-memory --precision $p --out $OUT/r${r}_${p}_${v}.json | grep pass | sed "s/^/r$r $v $p /"
    done
  done
done
