#!/usr/bin/env python3
"""Training data and reference posteriors for sbibm's gaussian_linear task, as NumPy .npz files.

The task (Lueckmann et al. 2021, sbibm; ../shared/reference/SBIBM_TASKS.md, "gaussian_linear"):

    prior       theta ~ N(0, S0),  S0 = 0.1 * I_10   (0.1 is the covariance diagonal, not the sd)
    simulator   x | theta ~ N(theta, S),  S = 0.1 * I_10

The posterior is Gaussian (conjugate normal prior and likelihood):

    Sigma_post = (S0^-1 + S^-1)^-1 = (10 I + 10 I)^-1 = 0.05 * I_10
    mu_post    = Sigma_post (S^-1 x + S0^-1 * 0) = 0.05 * 10 x = x / 2

so theta | x ~ N(x / 2, 0.05 * I_10), and the reference draws are exact iid draws from it.

Writes, into --out:
    train.npz        theta [N, 10], x [N, 10]               (N = --simulations, seed --seed)
    reference_K.npz  x [1, 10], theta [D, 10] for K = 1..--observations
                     x is simulated from theta* ~ prior with seed --seed + K; D = --draws.

Train a bundle on train.npz with inference variable "theta" and condition "x", then score it:
    onnxsbi-bench c2st --model gaussian_linear.onnxsbi --reference out/reference_1.npz --reference out/reference_2.npz ...

NumPy only. This is a benchmark tool; no test depends on it.
"""

import argparse
import os

import numpy as np

DIM = 10
PRIOR_VARIANCE = 0.1
NOISE_VARIANCE = 0.1


def simulate(rng, n):
    theta = rng.normal(0.0, np.sqrt(PRIOR_VARIANCE), size=(n, DIM))
    x = theta + rng.normal(0.0, np.sqrt(NOISE_VARIANCE), size=(n, DIM))
    return theta, x


def posterior(x):
    """Mean and variance (per coordinate) of theta | x; see the module docstring."""
    precision = 1.0 / PRIOR_VARIANCE + 1.0 / NOISE_VARIANCE
    variance = 1.0 / precision
    mean = variance * (x / NOISE_VARIANCE)
    return mean, variance


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="gaussian_linear", help="output directory (created)")
    parser.add_argument("--simulations", type=int, default=10_000, help="training rows N")
    parser.add_argument("--observations", type=int, default=10, help="reference observations K")
    parser.add_argument("--draws", type=int, default=10_000, help="reference posterior draws per observation")
    parser.add_argument("--seed", type=int, default=1, help="seed of the training data; observation K uses seed + K")
    args = parser.parse_args()
    if args.simulations < 1 or args.observations < 0 or args.draws < 1:
        parser.error("--simulations and --draws must be positive and --observations non-negative")

    os.makedirs(args.out, exist_ok=True)
    theta, x = simulate(np.random.default_rng(args.seed), args.simulations)
    np.savez(os.path.join(args.out, "train.npz"), theta=theta, x=x)
    print(f"{args.out}/train.npz: theta {theta.shape}, x {x.shape}")

    for k in range(1, args.observations + 1):
        rng = np.random.default_rng(args.seed + k)
        _, x_obs = simulate(rng, 1)
        mean, variance = posterior(x_obs)
        draws = mean + np.sqrt(variance) * rng.standard_normal((args.draws, DIM))
        path = os.path.join(args.out, f"reference_{k}.npz")
        np.savez(path, x=x_obs, theta=draws)
        print(f"{path}: x {x_obs.shape}, theta {draws.shape}")


if __name__ == "__main__":
    main()
