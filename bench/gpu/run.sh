#!/usr/bin/env bash
# On a GPU machine, from the repository root, after bench/gpu/pack.sh's parts arrived (README.md here):
#   bash bench/gpu/run.sh RESULTS_DIR [PROVIDER_XZ] [facts]     (facts: stop after the CUDA facts)
# Unpacks the .NET runtime, ONNX Runtime and the Release builds, then, each stage with a time limit and
# its output in RESULTS_DIR (8 files at most, what the lent machine sends back):
#   run.log                  everything printed: GPU, driver, CUDA libraries found, each stage's table,
#                            and last the C2ST of every shipped bundle sampled on CUDA (onnxsbi-bench c2st)
#   facts.log                the CUDA facts (CudaProviderTests) and PosteriorModelTests, by DeviceRunner
#   cuda_defaults_fm.json, cuda_defaults_others.json
#                            onnxsbi-bench runtime --provider cuda, every shipped bundle, runtime defaults
#                            (flow matching's throughput on 100 conditions × 1,000 draws, the others' on 1,000)
#   cuda_sweep.json          the CUDA sweep: chunk size × solver loop × parallel blocks
#   peers.jsonl              the PyTorch peer on the same GPU (fp32 and TF32) and on the same CPU cores
#   cpu_fm_defaults.json, cpu_fm_all_cores.json
#                            flow matching on this machine's CPU: defaults, and one block per core
set -uo pipefail
OUT=${1:?results directory}
PROVIDER_XZ=${2:-.gpu/a/cuda.so.xz}
ROOT=$(pwd)
STAGE=/tmp/onnxsbi-gpu
mkdir -p "$OUT" "$STAGE/dotnet" "$STAGE/ort"
exec > >(tee -a "$OUT/run.log") 2>&1
tar -C "$STAGE/dotnet" -xJf .gpu/b/dotnet.tar.xz
tar -C "$STAGE/ort" -xJf .gpu/b/ort.tar.xz
xz -dc "$PROVIDER_XZ" > "$STAGE/ort/libonnxruntime_providers_cuda.so"
tar -xJf .gpu/b/apps.tar.xz
CLI=bench/OnnxSbi.Bench/bin/Release/net10.0
TESTS=tests/OnnxSbi.Runtime.Tests/bin/Release/net10.0
for app in "$CLI" "$TESTS"; do
  mkdir -p "$app/runtimes/linux-x64/native"
  for f in "$STAGE"/ort/*.so; do ln -sf "$f" "$app/runtimes/linux-x64/native/"; done
done
# The CUDA 13 libraries the provider links (cuBLAS, cuBLASLt, cuRAND, cudart) and cuDNN, wherever the
# image keeps them (the CUDA toolkit or PyTorch's nvidia wheels).
libs=""
for name in libcublasLt.so.13 libcublas.so.13 libcurand.so.10 libcudart.so.13 'libcudnn.so.9'; do
  f=$(find /usr/local/cuda/ /usr/local/cuda*/ /opt /usr/lib/x86_64-linux-gnu -name "$name" 2>/dev/null | head -n 1)
  [ -n "$f" ] && libs="$libs:$(dirname "$f")"
done
export LD_LIBRARY_PATH="$STAGE/ort${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DOTNET_ROOT="$STAGE/dotnet" PATH="$STAGE/dotnet:$PATH" DOTNET_CLI_TELEMETRY_OPTOUT=1
{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nproc; grep -m1 'model name' /proc/cpuinfo; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; dotnet --list-runtimes
  python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
} 2>&1
M=models/two_moons
stage() { local limit=$1; shift; echo "=== $(date -u +%T) $*" >&2; timeout "$limit" "$@"; echo "=== exit $?" >&2; }
stage 150 dotnet "$TESTS/OnnxSbi.Runtime.Tests.dll" CudaProviderTests PosteriorModelTests > "$OUT/facts.log" 2>&1
grep -E "^(FAIL|SKIP)|passed" -A2 "$OUT/facts.log"
[ "${3:-}" = facts ] && exit 0
stage 90 "$CLI/onnxsbi-bench" runtime --provider cuda --model $M/flow_matching.onnxsbi --repeats 7 --large-conditions 100 --out "$OUT/cuda_defaults_fm.json"
stage 90 "$CLI/onnxsbi-bench" runtime --provider cuda --model $M/consistency_model.onnxsbi --model $M/affine_coupling_flow.onnxsbi \
  --model $M/spline_coupling_flow.onnxsbi --repeats 7 --large-conditions 1000 --out "$OUT/cuda_defaults_others.json"
stage 180 "$CLI/onnxsbi-bench" runtime --provider cuda --model $M/flow_matching.onnxsbi --model $M/consistency_model.onnxsbi \
  --model $M/affine_coupling_flow.onnxsbi --model $M/spline_coupling_flow.onnxsbi --repeats 3 --large-conditions 100 --no-memory \
  --sweep --sweep-chunks 512,4096,16384,65536 --sweep-conditions 100 --out "$OUT/cuda_sweep.json"
for flags in "" "--tf32"; do
  stage 40 python3 bench/pytorch_peer.py --model $M/flow_matching.onnxsbi --device cuda $flags --draws 3000 --repeats 7 >> "$OUT/peers.jsonl"
  stage 60 python3 bench/pytorch_peer.py --model $M/flow_matching.onnxsbi --device cuda $flags --draws 1000000 --repeats 3 >> "$OUT/peers.jsonl"
done
CORES=$(nproc)
stage 60 "$CLI/onnxsbi-bench" runtime --model $M/flow_matching.onnxsbi --repeats 5 --large-conditions 20 --no-memory --out "$OUT/cpu_fm_defaults.json"
stage 60 "$CLI/onnxsbi-bench" runtime --model $M/flow_matching.onnxsbi --threads 1 --parallel-blocks "$CORES" --repeats 5 --large-conditions 20 --no-memory --out "$OUT/cpu_fm_all_cores.json"
stage 60 python3 bench/pytorch_peer.py --model $M/flow_matching.onnxsbi --threads "$CORES" --draws 3000 --repeats 5 >> "$OUT/peers.jsonl"
for name in flow_matching consistency_model affine_coupling_flow spline_coupling_flow; do
  stage 60 "$CLI/onnxsbi-bench" c2st --model $M/$name.onnxsbi --provider cuda --seed 1 --observations 10 2>&1 | grep -v onnxruntime
done
echo "=== $(date -u +%T) done"
