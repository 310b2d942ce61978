#!/usr/bin/env bash
# Two builds of the CLI benched side by side, interleaved: OLD (a git revision, built in a temporary worktree)
# against the working tree, fp32 and int8, runtime defaults.
# usage: bash bench/old_vs_new_side_by_side.sh OLD_REVISION [ROUNDS] [OUT_DIR]
# Environment: MODELS (shipped bundle names, "consistency_model flow_matching"), REPEATS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: old_vs_new_side_by_side.sh OLD_REVISION [ROUNDS] [OUT_DIR]}
rounds=${2:-2}
out=${3:-bench/results/residual_rewrite}
mkdir -p "$out"
old_tree=$(mktemp -d)/old
git worktree add -f --detach "$old_tree" "$old_rev" >/dev/null
trap 'git worktree remove --force "$old_tree"' EXIT
dotnet build -c Release "$old_tree/runtime/OnnxSbi.Runtime.Cli" >/dev/null
dotnet build -c Release runtime/OnnxSbi.Runtime.Cli >/dev/null
declare -A cli=([old]="$old_tree/runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi" [new]="runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi")
for r in $(seq 1 "$rounds"); do
  for p in fp32 int8; do
    for m in ${MODELS:-consistency_model flow_matching}; do
      large=100; [ "$m" = flow_matching ] && large=5
      for v in old new; do
        echo "round $r $p $m $v  load $(cut -d' ' -f1-3 /proc/loadavg)"
        "${cli[$v]}" bench --model "models/two_moons/$m.onnxsbi" --repeats "${REPEATS:-5}" --large-conditions "$large" --no-memory \
          --precision "$p" --out "$out/r${r}_${p}_${m}_${v}.json" | grep -E "onnxsbi +[a-z]"
      done
    done
  done
done
