#!/usr/bin/env python3
"""Two moons simulations as NPZ files, written with numpy only (independent of the C# simulator).

sbibm's two_moons (Lueckmann et al. 2021): theta ~ U(-1, 1)^2, a ~ U(-pi/2, pi/2), r ~ N(0.1, 0.01^2),
p = (r cos a + 0.25, r sin a), x = p + (-|theta1 + theta2| / sqrt 2, (-theta1 + theta2) / sqrt 2).

usage: two_moons.py OUT_DIR [--train N] [--validation M] [--seed S]
writes OUT_DIR/train.npz and OUT_DIR/validation.npz, each with theta [rows, 2] and x [rows, 2] (float64).
"""
import argparse
import os

import numpy as np


def simulate(rng, n):
    theta = rng.uniform(-1.0, 1.0, size=(n, 2))
    a = rng.uniform(-np.pi / 2, np.pi / 2, size=n)
    r = rng.normal(0.1, 0.01, size=n)
    p = np.stack([r * np.cos(a) + 0.25, r * np.sin(a)], axis=1)
    shift = np.stack([-np.abs(theta[:, 0] + theta[:, 1]), -theta[:, 0] + theta[:, 1]], axis=1) / np.sqrt(2.0)
    return theta, p + shift


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=512 * 64)
    parser.add_argument("--validation", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for name, rows in (("train", args.train), ("validation", args.validation)):
        theta, x = simulate(rng, rows)
        np.savez(os.path.join(args.out_dir, f"{name}.npz"), theta=theta, x=x)
        print(f"{name}.npz: theta {theta.shape}, x {x.shape}")


if __name__ == "__main__":
    main()
