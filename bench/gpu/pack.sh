#!/usr/bin/env bash
# Packs what a GPU machine with neither the .NET SDK nor a network needs to run the CUDA facts and the
# CUDA benchmarks (bench/gpu/README.md), in two parts of under 64 MiB each:
#   bench/gpu/pack.sh [OUT_DIR=.gpu] [ARCH=90]
#   OUT_DIR/a/cuda.so.xz  ONNX Runtime's CUDA provider with only sm_ARCH device code (prune_fatbin.py)
#   OUT_DIR/b/dotnet.tar.xz, ort.tar.xz, apps.tar.xz
#             the .NET runtime (no SDK), libonnxruntime.so and its provider bridge, and the Release
#             builds of onnxsbi-bench and of the runtime tests (run by their own Main, DeviceRunner)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-.gpu}
ARCH=${2:-90}
rm -rf "$OUT" && mkdir -p "$OUT/a" "$OUT/b"
dotnet build -c Release bench/OnnxSbi.Bench/OnnxSbi.Bench.csproj -nologo -v q
dotnet build -c Release tests/OnnxSbi.Runtime.Tests/OnnxSbi.Runtime.Tests.csproj -nologo -v q
CLI=bench/OnnxSbi.Bench/bin/Release/net10.0
TESTS=tests/OnnxSbi.Runtime.Tests/bin/Release/net10.0
NATIVE=$CLI/runtimes/linux-x64/native
python3 bench/gpu/prune_fatbin.py "$NATIVE/libonnxruntime_providers_cuda.so" "$OUT/a/cuda.so" "$ARCH"
xz -T0 -6 "$OUT/a/cuda.so"
tar -C "$NATIVE" -cJf "$OUT/b/ort.tar.xz" libonnxruntime.so libonnxruntime_providers_shared.so
# The .NET runtime the builds target (the version in their runtimeconfig), with its host.
DOTNET_ROOT=$(dirname "$(readlink -f "$(command -v dotnet)")")
VERSION=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
tar -C "$DOTNET_ROOT" -cJf "$OUT/b/dotnet.tar.xz" dotnet host/fxr "shared/Microsoft.NETCore.App/$VERSION"
# Both builds without other platforms' native libraries, without ONNX Runtime's (symlinked there) and without
# libtorch's (only the torch peer and training load it; the GPU run uses neither).
tar -cJf "$OUT/b/apps.tar.xz" \
  --exclude="$CLI/runtimes/win-*" --exclude="$CLI/runtimes/osx*" --exclude="$CLI/runtimes/linux-arm*" \
  --exclude="$CLI/runtimes/linux-musl-*" --exclude="$CLI/runtimes/linux-x86" --exclude="$CLI/runtimes/linux-riscv64" \
  --exclude="$CLI/runtimes/linux-loongarch64" \
  --exclude="$TESTS/runtimes/win-*" --exclude='*/runtimes/linux-x64/native/libonnxruntime*' \
  --exclude='*/native/libtorch*' --exclude='*/native/libc10.so' --exclude='*/native/libLibTorchSharp.so' --exclude='*/native/libgomp*' \
  --exclude='*/native/libaoti_custom_ops.so' --exclude='*/native/libbackend_with_compiler.so' --exclude='*/native/libjitbackend_test.so' \
  --exclude='*/native/libnnapi_backend.so' --exclude='*/native/libshm.so' \
  "$CLI" "$TESTS"
du -b "$OUT"/a/* "$OUT"/b/*
