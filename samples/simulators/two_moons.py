#!/usr/bin/env python3
"""The two moons simulator (Lueckmann et al. 2021, sbibm; the BayesFlow tutorial) speaking the OnnxSbi simulator
protocol, version 1 (docs/simulator-protocol.md). Needs Python 3 and numpy only.

    onnxsbi-train ... --simulator-command "python3 samples/simulators/two_moons.py"

Each request is one JSON line on standard input, {"protocol": 1, "batch_size": N, "seed": S}; each answer is an 8-byte
little-endian length followed by an NPZ archive (numpy.savez) of theta [N, 2] and x [N, 2]. The simulator exits when
standard input closes. Anything it wants to say goes to standard error, which the trainer logs.
"""
import io
import json
import struct
import sys

import numpy as np


def simulate(batch_size, seed):
    # One generator per request, seeded by the trainer: the same request always gives the same batch.
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-1.0, 1.0, size=(batch_size, 2))
    alpha = rng.uniform(-np.pi / 2, np.pi / 2, size=batch_size)
    r = rng.normal(0.1, 0.01, size=batch_size)
    x1 = r * np.cos(alpha) + 0.25 - np.abs(theta[:, 0] + theta[:, 1]) / np.sqrt(2)
    x2 = r * np.sin(alpha) + (-theta[:, 0] + theta[:, 1]) / np.sqrt(2)
    return {"theta": theta, "x": np.stack([x1, x2], axis=1)}


def main():
    out = sys.stdout.buffer
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("protocol") != 1:
            print(f"two_moons.py: unsupported protocol in {line.strip()}", file=sys.stderr)
            return 2
        arrays = simulate(int(request["batch_size"]), int(request["seed"]))
        archive = io.BytesIO()
        np.savez(archive, **arrays)
        payload = archive.getvalue()
        out.write(struct.pack("<Q", len(payload)))
        out.write(payload)
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
