using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// The exact likelihood and reference posterior of the two moons task (Lueckmann et al. 2021, sbibm;
/// docs/algorithms.md#two-moons), against which trained two-moons models are scored.
/// </summary>
/// <remarks>
/// The simulator maps θ to x = (−|θ1+θ2|/√2 + r·cos α + 0.25, (−θ1+θ2)/√2 + r·sin α) with
/// α ~ U(−π/2, π/2), r ~ N(0.1, 0.01²). With u = x1 − 0.25 + |θ1+θ2|/√2, v = x2 − (−θ1+θ2)/√2 and
/// ρ = √(u² + v²), (u, v) is (r, α) in polar form, so by the change of variables (Jacobian ρ)
/// p(x | θ) = N(ρ; 0.1, 0.01) / (π·ρ) for u &gt; 0 and 0 otherwise (negative r, probability &lt; 1e-20, ignored).
/// </remarks>
public static class TwoMoonsPosterior
{
    private const double RadiusMean = 0.1;
    private const double RadiusSd = 0.01;
    private static readonly double InvSqrt2 = 1.0 / Math.Sqrt(2.0);
    private static readonly double LogNormalizer = Math.Log(RadiusSd * Math.Sqrt(2 * Math.PI) * Math.PI);

    // Proposals per chunk: each chunk has its own generator stream, so the draws do not depend on how
    // chunks are spread over threads.
    private const int ChunkProposals = 1 << 16;
    private const long MaxProposals = 1L << 31;

    /// <summary>
    /// The radius ρ* where N(ρ; μ, σ)/(π·ρ) peaks: setting d/dρ [−(ρ−μ)²/(2σ²) − ln ρ] = 0 gives
    /// ρ² − μρ + σ² = 0, so ρ* = (μ + √(μ² − 4σ²))/2 ≈ 0.09899.
    /// </summary>
    internal static readonly double PeakRadius = (RadiusMean + Math.Sqrt(RadiusMean * RadiusMean - 4 * RadiusSd * RadiusSd)) / 2;

    private static readonly double PeakZ = (PeakRadius - RadiusMean) / RadiusSd;

    /// <summary>
    /// log p(x | θ) of the two moons simulator; −∞ where x cannot be produced from θ (u ≤ 0). The prior
    /// U(−1, 1)² is not included.
    /// </summary>
    public static double LogLikelihood(double theta1, double theta2, double x1, double x2)
    {
        double u = x1 - 0.25 + Math.Abs(theta1 + theta2) * InvSqrt2;
        if (!(u > 0)) return double.NegativeInfinity;
        double v = x2 - (theta2 - theta1) * InvSqrt2;
        double rho = Math.Sqrt(u * u + v * v);
        double z = (rho - RadiusMean) / RadiusSd;
        return -0.5 * z * z - LogNormalizer - Math.Log(rho);
    }

    /// <summary>
    /// Draws <paramref name="n"/> exact posterior samples p(θ | x) ∝ p(x | θ)·1[θ ∈ [−1, 1]²] by rejection
    /// from the prior, returned row-major as n rows of (θ1, θ2). Deterministic for a seed, whatever the
    /// number of threads used.
    /// </summary>
    /// <exception cref="InvalidRequestException">n is negative, x is not finite, or x has so little posterior
    /// mass inside the prior that 2^31 proposals do not yield n draws.</exception>
    public static double[] SampleExact(double x1, double x2, int n, ulong seed)
        => SampleExact(x1, x2, n, seed, Environment.ProcessorCount);

    internal static double[] SampleExact(double x1, double x2, int n, ulong seed, int maxDegreeOfParallelism)
    {
        if (n < 0)
            throw new InvalidRequestException($"Argument 'n' (number of posterior draws) must be >= 0; received {n}.");
        if (!double.IsFinite(x1) || !double.IsFinite(x2))
            throw new InvalidRequestException($"Observation 'x' must be finite; received ({x1}, {x2}).");

        var result = new double[2 * n];
        int filled = 0;
        long chunk = 0;
        long accepted = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism) };
        while (filled < n)
        {
            // Size the next batch of chunks from the acceptance rate so far; it only affects speed:
            // chunks are consumed in order and draws past n are discarded.
            long proposals = chunk * ChunkProposals;
            if (proposals >= MaxProposals)
            {
                throw new InvalidRequestException(
                    $"Observation x=({x1}, {x2}) has too little posterior mass inside the prior [-1, 1]^2 for rejection sampling: " +
                    $"{accepted} of {proposals} proposals accepted, {n} draws requested.");
            }
            double rate = proposals == 0 ? 0 : (double)accepted / proposals;
            long wanted = rate > 0 ? (long)Math.Ceiling(1.2 * (n - filled) / (rate * ChunkProposals)) : 2L * parallel.MaxDegreeOfParallelism;
            int batch = (int)Math.Clamp(wanted, parallel.MaxDegreeOfParallelism, 256);
            var draws = new List<double>[batch];
            long first = chunk;
            Parallel.For(0, batch, parallel, i => draws[i] = RunChunk(x1, x2, seed, first + i));
            foreach (var d in draws)
            {
                accepted += d.Count / 2;
                int take = Math.Min(d.Count, 2 * (n - filled));
                d.CopyTo(0, result, 2 * filled, take);
                filled += take / 2;
                if (filled == n) break;
            }
            chunk += batch;
        }
        return result;
    }

    private static List<double> RunChunk(double x1, double x2, ulong seed, long chunk)
    {
        var rng = Xoshiro256.Create(seed, (ulong)chunk);
        var accepted = new List<double>();
        for (int i = 0; i < ChunkProposals; i++)
        {
            double t1 = 2 * rng.NextDouble() - 1;
            double t2 = 2 * rng.NextDouble() - 1;
            double w = rng.NextDouble();
            if (Accept(t1, t2, x1, x2, w))
            {
                accepted.Add(t1);
                accepted.Add(t2);
            }
        }
        return accepted;
    }

    /// <summary>
    /// Accepts θ with probability p(x|θ)/M, M = N(ρ*)/(πρ*), i.e. when w &lt; exp(−(z² − z*²)/2)·ρ*/ρ.
    /// </summary>
    private static bool Accept(double t1, double t2, double x1, double x2, double w)
    {
        double u = x1 - 0.25 + Math.Abs(t1 + t2) * InvSqrt2;
        if (!(u > 0)) return false;
        double v = x2 - (t2 - t1) * InvSqrt2;
        double rho = Math.Sqrt(u * u + v * v);
        double z = (rho - RadiusMean) / RadiusSd;
        // Most proposals lie far off the ring. There, with ρ > 1e-3 and |z| > 10, the ratio is below
        // e^{−50 + z*²/2}·ρ*/1e-3 < 2e-20, so any w above that rejects without the exponential; this is
        // exact, not an approximation.
        if (rho > 1e-3 && Math.Abs(z) > 10 && w >= 2e-20) return false;
        // The ratio exceeds 1 only for ρ < 2e-23 (N(ρ)/(πρ) grows again as ρ → 0), a set of prior mass
        // ~1e-45; accepting there outright is the best a bounded-M rejection sampler can do.
        double ratio = Math.Exp(-0.5 * (z * z - PeakZ * PeakZ)) * (PeakRadius / rho);
        return w < ratio;
    }
}
