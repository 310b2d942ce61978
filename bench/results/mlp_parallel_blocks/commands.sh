#!/bin/bash
# The loop that produced this folder (2026-11-26, before the residual block rewrite, at commit 1965551):
# A = the defaults then (one 1,024-row block on 2 intra-op threads), B = 1 thread × 2 blocks of 512 rows,
# C = 1 thread × 2 blocks of 256 rows; 2 interleaved rounds, medians of 5.
cd "$(dirname "$0")/../../.."
B=runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi
OUT=bench/results/mlp_parallel_blocks
for r in 1 2; do
 for p in fp32 int8; do
  for m in consistency_model flow_matching; do
   L=10; [ $m = flow_matching ] && L=2
   for cfg in "A|" "B|--threads 1 --parallel-blocks 2 --chunk-size 512" "C|--threads 1 --parallel-blocks 2 --chunk-size 256"; do
    name=${cfg%%|*}; flags=${cfg#*|}
    echo "r$r $p $m $name $(uptime | sed 's/.*average: //')"
    $B bench --model models/two_moons/$m.onnxsbi --repeats 5 --large-conditions $L --no-memory --precision $p $flags --out $OUT/r${r}_${p}_${m}_${name}.json 2>&1 | grep "steps"
   done
  done
 done
done
