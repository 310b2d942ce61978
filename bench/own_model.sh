#!/usr/bin/env bash
# "Your own model" benchmarks: two moons trained from a data file and from an external simulator against the
# built-in task at the same budget; sbibm's gaussian_linear trained from files only; streaming a 2 GB Parquet set.
#
# usage: bash bench/own_model.sh OUT_DIR [twomoons|gaussian|stream]...   (default: all three)
# Needs python3 with numpy (apt install python3-numpy) for the data files and the sample simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench/own_model.sh OUT_DIR [twomoons|gaussian|stream]...}
shift || true
PARTS=${*:-twomoons gaussian stream}
mkdir -p "$OUT"
dotnet build OnnxSbi.sln -c Release -v quiet -nologo
TRAIN=trainer/OnnxSbi.Trainer.Host/bin/Release/net10.0/onnxsbi-train
BENCH="dotnet bench/OnnxSbi.Bench/bin/Release/net10.0/onnxsbi-bench.dll"

for part in $PARTS; do case $part in
twomoons)
  # The same budget as the built-in task (512 batches of 64, 300 validation sets, the recipe's epochs, seed 1).
  python3 bench/tasks/two_moons.py "$OUT/two_moons_data"
  for net in affine_coupling_flow flow_matching; do
    $TRAIN train --task two_moons --network $net --seed 1 --out "$OUT/task_$net.onnxsbi"
    $TRAIN train --data "$OUT/two_moons_data/train.npz" --validation-data "$OUT/two_moons_data/validation.npz" \
      --inference-variables theta --inference-conditions x --network $net --seed 1 --out "$OUT/files_$net.onnxsbi"
    $TRAIN train --simulator-command "python3 samples/simulators/two_moons.py" --simulator-workers 2 \
      --inference-variables theta --inference-conditions x --network $net --seed 1 --out "$OUT/ext_$net.onnxsbi"
    for source in task files ext; do
      $BENCH c2st --model "$OUT/${source}_$net.onnxsbi" --out "$OUT/two_moons_${source}_$net.c2st.csv"
    done
  done ;;
gaussian)
  # 10,000 simulations in one NPZ, a tenth held out, early stopping as sbi's NPE; 10 observations with exact posteriors.
  python3 bench/tasks/gaussian_linear.py --out "$OUT/gaussian_linear_data"
  REFS=$(for k in $(seq 1 10); do echo --reference "$OUT/gaussian_linear_data/reference_$k.npz"; done)
  for net in flow_matching affine_coupling_flow spline_coupling_flow; do
    $TRAIN train --data "$OUT/gaussian_linear_data/train.npz" --validation-fraction 0.1 --early-stopping 20 --epochs 500 \
      --inference-variables theta --inference-conditions x --network $net --seed 1 --out "$OUT/gaussian_linear_$net.onnxsbi"
    $BENCH c2st --model "$OUT/gaussian_linear_$net.onnxsbi" $REFS --out "$OUT/gaussian_linear_$net.c2st.csv"
  done ;;
stream)
  # 12.5 M rows, 2.0 GB of Parquet shards; peak RSS over a full pass, training rows/s from disk and from memory.
  $BENCH files make --out-dir "$OUT/shards" --rows 12500000 --shards 25
  $BENCH files throughput --data "$OUT/shards" --batches 3000 --rounds 5 --scan-batch 0 | tee "$OUT/throughput.txt"
  $BENCH files throughput --data "$OUT/shards" --rounds 0 | tee "$OUT/full_pass.txt" ;;
*) echo "unknown part '$part'"; exit 2 ;;
esac; done
