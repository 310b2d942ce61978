using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// The time discretizations of consistency training and multistep sampling (Song &amp; Dhariwal 2023,
/// "Improved Techniques for Training Consistency Models", §2 and §3.4–3.5; docs/algorithms.md#consistency-models).
/// Pure functions of the options, computed in double precision, so that the trainer, the manifest
/// and (for <see cref="SamplingTimes"/>) the runtime agree on the same numbers.
/// </summary>
internal static class ConsistencySchedule
{
    /// <summary>
    /// K = ⌊K_total / (log2⌊s1/s0⌋ + 1)⌋: the number of steps each discretization stage lasts
    /// (Song &amp; Dhariwal 2023, eq. 6, their K′).
    /// </summary>
    public static long StageLength(long totalSteps, double s0, double s1)
        => (long)Math.Floor(totalSteps / (Math.Log2(Math.Floor(s1 / s0)) + 1.0));

    /// <summary>
    /// N(k) = min(s0·2^⌊k/K⌋, s1) + 1: the number of grid points at global optimizer step
    /// <paramref name="step"/> (0-based). The discretization doubles every K steps until it reaches s1.
    /// </summary>
    public static int Discretization(long step, long totalSteps, double s0, double s1)
    {
        long stage = StageLength(totalSteps, s0, s1);
        if (stage <= 0)
            throw new ArgumentException($"TotalSteps {totalSteps} is too small for s0 = {s0}, s1 = {s1}: each discretization stage would last {stage} steps.");
        long doublings = Math.Max(0, step) / stage;
        // Math.Pow saturates at +∞ for huge exponents, and the minimum with s1 absorbs it.
        return (int)Math.Min(s0 * Math.Pow(2.0, doublings), s1) + 1;
    }

    /// <summary>The distinct N(k) reached over k = 0 … <paramref name="totalSteps"/> − 1, ascending.</summary>
    public static int[] TrainedDiscretizations(long totalSteps, double s0, double s1)
    {
        long stage = StageLength(totalSteps, s0, s1);
        if (stage <= 0)
            throw new ArgumentException($"TotalSteps {totalSteps} is too small for s0 = {s0}, s1 = {s1}: each discretization stage would last {stage} steps.");
        // N(k) is constant on each stage [j·K, (j+1)·K), so the first step of each stage suffices.
        var values = new SortedSet<int>();
        for (long k = 0; k < totalSteps; k += stage) values.Add(Discretization(k, totalSteps, s0, s1));
        return values.ToArray();
    }

    /// <summary>
    /// The increasing Karras grid of <paramref name="n"/> points,
    /// t_i = (ε^(1/ρ) + (i−1)/(N−1)·(T^(1/ρ) − ε^(1/ρ)))^ρ for i = 1 … N (Karras et al. 2022, eq. 5).
    /// The endpoints are set to ε and T exactly: the pow round trip would miss them by an ulp, and
    /// f(θ, ε) = θ holds only at t = ε exactly.
    /// </summary>
    public static double[] TimeGrid(int n, double eps, double maxTime, double rho)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "A time grid needs at least 2 points.");
        double lo = Math.Pow(eps, 1.0 / rho), hi = Math.Pow(maxTime, 1.0 / rho);
        var grid = new double[n];
        for (int i = 0; i < n; i++) grid[i] = Math.Pow(lo + (double)i / (n - 1) * (hi - lo), rho);
        grid[0] = eps;
        grid[^1] = maxTime;
        return grid;
    }

    /// <summary>
    /// The probability of training on interval [t_i, t_{i+1}]: proportional to
    /// erf((ln t_{i+1} − P_mean)/(√2·P_std)) − erf((ln t_i − P_mean)/(√2·P_std)), i.e. the mass a
    /// lognormal(P_mean, P_std) noise level puts on the interval (Song &amp; Dhariwal 2023, §3.5).
    /// Returns N − 1 weights that sum to 1.
    /// </summary>
    public static double[] IndexWeights(double[] grid, double pMean, double pStd)
    {
        if (grid.Length < 2) throw new ArgumentException($"The time grid needs at least 2 points; got {grid.Length}.");
        // .NET has no erf; libtorch's double-precision erf is exact to an ulp.
        var z = grid.Select(t => (Math.Log(t) - pMean) / (Math.Sqrt(2.0) * pStd)).ToArray();
        double[] e;
        using (var zt = tensor(z, dtype: ScalarType.Float64))
        using (var et = zt.erf())
            e = et.data<double>().ToArray();
        var w = new double[grid.Length - 1];
        double sum = 0;
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = e[i + 1] - e[i];
            sum += w[i];
        }
        if (!(sum > 0))
            throw new ArgumentException($"The lognormal time weights (P_mean {pMean}, P_std {pStd}) put no mass on [{grid[0]}, {grid[^1]}].");
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
        return w;
    }

    /// <summary>
    /// The decreasing times of multistep sampling with <paramref name="steps"/> network evaluations:
    /// τ_n = (T^(1/ρ) + n/steps·(ε^(1/ρ) − T^(1/ρ)))^ρ for n = 0 … steps − 1. This is the
    /// (steps + 1)-point training grid <see cref="TimeGrid"/> read from T downwards without its last
    /// point ε (a step to ε adds no noise and f(θ, ε) = θ, so it would be a wasted evaluation; BayesFlow's
    /// sampler walks the same ρ-spaced grid). With steps + 1 among the trained discretizations, the
    /// sampler visits exactly the times the network was trained on. τ_0 = T; the sampler starts at
    /// θ = T·z, sets θ ← f(θ, T), then for n ≥ 1 sets θ ← f(θ + √(τ_n² − ε²)·ξ, τ_n) with fresh ξ
    /// (Song et al. 2023, Algorithm 1).
    /// </summary>
    public static double[] SamplingTimes(int steps, double eps, double maxTime, double rho)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Sampling needs at least 1 step.");
        var grid = TimeGrid(steps + 1, eps, maxTime, rho);
        var times = new double[steps];
        for (int n = 0; n < steps; n++) times[n] = grid[steps - n];
        return times;
    }
}
