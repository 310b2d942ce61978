#!/usr/bin/env bash
# Two builds of the runtime benchmark side by side, interleaved: OLD (a git revision, built in a temporary worktree)
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
# The runtime benchmark of a tree: `onnxsbi-bench runtime` where the tree has bench/OnnxSbi.Bench, else the
# `onnxsbi bench` verb that revisions before it shipped.
bench_command() {
  local tree=$1
  if [ -d "$tree/bench/OnnxSbi.Bench" ]; then
    dotnet build -c Release "$tree/bench/OnnxSbi.Bench" >/dev/null
    echo "$tree/bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench runtime"
  else
    dotnet build -c Release "$tree/runtime/OnnxSbi.Runtime.Cli" >/dev/null
    echo "$tree/runtime/OnnxSbi.Runtime.Cli/bin/Release/net10.0/onnxsbi bench"
  fi
}
declare -A cli=([old]="$(bench_command "$old_tree")" [new]="$(bench_command .)")
# Each build reads its own tree's bundles: a newer manifest may carry fields an older reader refuses.
declare -A models=([old]="$old_tree/models/two_moons" [new]="models/two_moons")
for r in $(seq 1 "$rounds"); do
  for p in fp32 int8; do
    for m in ${MODELS:-consistency_model flow_matching}; do
      large=100; [ "$m" = flow_matching ] && large=5
      for v in old new; do
        echo "round $r $p $m $v  load $(cut -d' ' -f1-3 /proc/loadavg)"
        ${cli[$v]} --model "${models[$v]}/$m.onnxsbi" --repeats "${REPEATS:-5}" --large-conditions "$large" --no-memory \
          --precision "$p" --out "$out/r${r}_${p}_${m}_${v}.json" | tail -n 2
      done
    done
  done
done
