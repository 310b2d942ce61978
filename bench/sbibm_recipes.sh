#!/usr/bin/env bash
# Recipe search for the sbibm benchmark: trains each (task, network, budget) cell under each subnet variant and
# records the best held-out validation loss (a tenth of the budget). No reference posterior or C2ST is used, so
# the choice is not tuned on the scored observations. Usage:
#   bash bench/sbibm_recipes.sh OUT_DIR TASKS NETWORKS BUDGETS
# e.g. bash bench/sbibm_recipes.sh out/recipes gaussian_linear,slcp affine_coupling_flow,spline_coupling_flow 1000
# then: python3 bench/sbibm_recipes_summary.py OUT_DIR
set -euo pipefail
out=${1:?OUT_DIR}; tasks=${2:?TASKS}; networks=${3:?NETWORKS}; budgets=${4:?BUDGETS}
cd "$(dirname "$0")/.."
dotnet build -c Release bench/OnnxSbi.Bench >/dev/null
bench() { dotnet bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench.dll benchmark --train-only --task "$tasks" --network "$networks" --simulations "$budgets" "$@"; }
# Variants: the network recipe's subnet; dropout 0.1; and a smaller and a larger subnet. --widths replaces every
# hidden layer, so the flow-matching variants keep its depth of six.
bench --out-dir "$out/recipe"
bench --out-dir "$out/dropout0.1" --dropout 0.1
for n in ${networks//,/ }; do
  case $n in
    flow_matching) small=128,128,128,128,128,128; large= ;;
    consistency_model) small=32,32,32,32,32,32; large=128,128,128,128,128,128 ;;
    *) small=32,32; large=128,128 ;;
  esac
  dotnet bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench.dll benchmark --train-only --task "$tasks" --network "$n" --simulations "$budgets" --out-dir "$out/small" --widths "$small"
  if [ -n "$large" ]; then
    dotnet bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench.dll benchmark --train-only --task "$tasks" --network "$n" --simulations "$budgets" --out-dir "$out/large" --widths "$large"
  fi
done
