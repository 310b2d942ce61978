#!/usr/bin/env python3
"""PyTorch eager peer for `onnxsbi-bench runtime`: the same exported weights, the same sampler.

Loads the weights of a flow matching bundle from the ONNX initializers of graphs/velocity.onnx
(a minimal protobuf reader: no `onnx` package needed), rebuilds the residual MLP in eager ops
(Linear from each Gemm, mish via torch.nn.functional.mish) and times RK4 with 25 steps on
1 condition x N draws, median of R repeats. Prints one JSON object.

--int8 is the peer of `onnxsbi-bench runtime --precision int8`: the same layers (at least 32 inputs and
outputs) run as PyTorch dynamic-quantized linears (torch.ops.quantized.linear_dynamic: uint8
activations quantized per call, int8 weights per output channel, scale = max|w| / 127), on the
quantized engine this torch build has (oneDNN on x86).

--device cuda runs the same sampler on a GPU, synchronizing before each timer stops: the peer of
`onnxsbi-bench runtime --provider cuda`. Its matrix products are full fp32 (PyTorch's default) unless --tf32
allows TF32, the mode ONNX Runtime's CUDA provider uses for its Gemms by default.

Run it as docs/BENCHMARKS.md#eager-peers says: OPENBLAS_NUM_THREADS equal to --threads, with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this command only (bench/peers.sh does that).
"""
import argparse
import json
import statistics
import struct
import sys
import time
import zipfile


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(buf):
    """Yields (field number, wire type, value) of one protobuf message; value is int or bytes."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield num, wire, v


def tensor(buf):
    """TensorProto: dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9."""
    dims, name, raw, floats = [], "", None, []
    for num, wire, v in fields(buf):
        if num == 1:
            if wire == 2:
                j = 0
                while j < len(v):
                    d, j = varint(v, j)
                    dims.append(d)
            else:
                dims.append(v)
        elif num == 8:
            name = v.decode()
        elif num == 9:
            raw = v
        elif num == 4:
            floats.extend(struct.unpack(f"<{len(v) // 4}f", v) if wire == 2 else struct.unpack("<f", v))
    if raw is not None:
        floats = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return name, dims, floats


def gemms(model_bytes):
    """(weight, bias) pairs of the Gemm nodes in graph order: ModelProto.graph = 7, GraphProto.node = 1, initializer = 5."""
    graph = next(v for num, _, v in fields(model_bytes) if num == 7)
    inits, nodes = {}, []
    for num, _, v in fields(graph):
        if num == 5:
            name, dims, data = tensor(v)
            inits[name] = (dims, data)
        elif num == 1:
            inputs, op, trans_b = [], "", 0
            for n2, _, v2 in fields(v):
                if n2 == 1:
                    inputs.append(v2.decode())
                elif n2 == 4:
                    op = v2.decode()
                elif n2 == 5:
                    attr = dict((a, b) for a, _, b in fields(v2))
                    if attr.get(1) == b"transB":
                        trans_b = attr.get(3, 0)
            if op == "Gemm":
                nodes.append((inputs, trans_b))
    result = []
    for inputs, trans_b in nodes:
        wd, w = inits[inputs[1]]
        bd, b = inits[inputs[2]]
        result.append((wd, w, b, trans_b))
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--draws", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--int8", action="store_true")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--tf32", action="store_true")
    a = p.parse_args()
    if a.int8 and a.device != "cpu":
        p.error("--int8 runs PyTorch's CPU dynamic quantization; use it with --device cpu")

    import torch
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = a.tf32

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()
    with zipfile.ZipFile(a.model) as z:
        manifest = json.loads(z.read("manifest.json"))
        graph = z.read("graphs/velocity.onnx")
    layers = []
    for dims, w, b, trans_b in gemms(graph):
        wt = torch.tensor(w, dtype=torch.float32).reshape(dims)
        if not trans_b:
            wt = wt.t().contiguous()
        layers.append((wt.to(dev), torch.tensor(b, dtype=torch.float32, device=dev)))
    blocks, (w_out, b_out) = layers[:-1], layers[-1]
    d = w_out.shape[0]
    c = blocks[0][0].shape[1] - d - 1
    F = torch.nn.functional

    def linear_fn(w, b):
        if not a.int8 or min(w.shape) < 32:
            return lambda h: F.linear(h, w, b)
        scales = (w.abs().amax(dim=1) / 127).clamp_min(1e-12).double()
        q = torch.quantize_per_channel(w, scales, torch.zeros(w.shape[0], dtype=torch.long), 0, torch.qint8)
        packed = torch.ops.quantized.linear_prepack(q, b)
        return lambda h: torch.ops.quantized.linear_dynamic(h, packed, False)

    block_fns = [(linear_fn(w, b), w.shape[0] // 2) for w, b in blocks]
    out_fn = linear_fn(w_out, b_out)

    def velocity(theta, t, cond):
        h = torch.cat([theta, t, cond], dim=1)
        for f, half in block_fns:
            dense, proj = f(h).split(half, dim=1)
            h = proj + F.mish(dense)
        return out_fn(h)

    cond = torch.zeros(a.draws, c, device=dev)
    tcol = torch.empty(a.draws, 1, device=dev)

    def sample(seed):
        g = torch.Generator(device=dev).manual_seed(seed)
        theta = torch.randn(a.draws, d, generator=g, device=dev)
        h = 1.0 / a.steps
        for k in range(a.steps):
            t0 = k * h
            k1 = velocity(theta, tcol.fill_(t0), cond)
            k2 = velocity(theta + 0.5 * h * k1, tcol.fill_(t0 + 0.5 * h), cond)
            k3 = velocity(theta + 0.5 * h * k2, tcol.fill_(t0 + 0.5 * h), cond)
            k4 = velocity(theta + h * k3, tcol.fill_(t0 + h), cond)
            theta = theta + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return theta

    sample(0)
    sync()
    times, cpu = [], []
    for r in range(a.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        theta = sample(r + 1)
        sync()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cpu_start) * 1000)
    print(json.dumps({
        "peer": "pytorch-eager-int8" if a.int8 else "pytorch-eager-cuda" if dev.type == "cuda" else "pytorch-eager",
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "tf32": bool(a.tf32 and dev.type == "cuda"),
        "precision": "int8" if a.int8 else "fp32",
        "quantized_engine": torch.backends.quantized.engine if a.int8 else None,
        "torch": torch.__version__,
        "threads": a.threads,
        "model": a.model,
        "family": manifest.get("family"),
        "draws": a.draws,
        "sampling": f"rk4, {a.steps} steps",
        "median_ms": statistics.median(times),
        "all_ms": times,
        "cpu_ms": statistics.median(cpu),
        "draw_mean": theta.mean(0).cpu().tolist(),
    }))


if __name__ == "__main__":
    sys.exit(main())
