# How the two eager peers of flow matching are run; sourced by bench/run_all.sh and bench/peers_rounds.sh,
# which set BENCH (the onnxsbi-bench binary) and PY (the Python with Debian's python3-torch).
# Each function prints the peer's one JSON line (1 condition × 3,000 draws, RK4 25 steps).

# libtorch_peer BUNDLE REPEATS THREADS
libtorch_peer() {
  "$BENCH" torch --model "$1" --draws 3000 --repeats "$2" --threads "$3" | tail -n 1
}

# pytorch_available: whether the PyTorch peer can run here.
pytorch_available() {
  "$PY" -c "import torch" 2>/dev/null
}

# pytorch_peer BUNDLE REPEATS THREADS [--int8]
# docs/BENCHMARKS.md#eager-peers: OpenBLAS with its AVX-512 kernels (no CORETYPE/L2 overrides), as many BLAS threads as torch threads.
pytorch_peer() {
  local bundle=$1 repeats=$2 threads=$3
  shift 3
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" \
    "$PY" bench/pytorch_peer.py --model "$bundle" --draws 3000 --repeats "$repeats" --threads "$threads" "$@"
}
