using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks.Tests;

/// <summary>Posterior targets with known normalised densities and moments, for the reference sampler's tests.</summary>
internal static class ReferenceTargets
{
    /// <summary>
    /// A correlated 3-D Gaussian N(μ, Σ) posterior: prior N(0, 10²·I), likelihood N(μ, Σ)(θ)/prior(θ), so that the
    /// posterior is N(μ, Σ) exactly.
    /// </summary>
    public sealed class CorrelatedGaussian() : PosteriorTarget([ParameterSupport.Real, ParameterSupport.Real, ParameterSupport.Real])
    {
        public static readonly double[] Mean = [1.0, -2.0, 0.5];

        // Σ = diag(sd)·R·diag(sd) with correlations 0.9 (θ1, θ2) and −0.3 (θ2, θ3) (det R = 0.1), scales 1, 3, 0.2.
        public static readonly double[] Sd = [1.0, 3.0, 0.2];
        public static readonly double[] Correlation = [1, 0.9, 0, 0.9, 1, -0.3, 0, -0.3, 1];
        private const double PriorSd = 10;

        private static readonly double[] Precision = Invert3(Enumerable.Range(0, 9).Select(i => Correlation[i] * Sd[i / 3] * Sd[i % 3]).ToArray());

        public override double LogPrior(ReadOnlySpan<double> theta)
        {
            double s = 0;
            foreach (double t in theta) s += t * t;
            return -1.5 * Math.Log(2 * Math.PI * PriorSd * PriorSd) - 0.5 * s / (PriorSd * PriorSd);
        }

        public override void SamplePrior(SimulationRandom random, Span<double> theta)
        {
            for (int k = 0; k < 3; k++) theta[k] = random.NextNormal(0, PriorSd);
        }

        public override double LogLikelihood(ReadOnlySpan<double> theta)
        {
            double q = 0;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) q += (theta[i] - Mean[i]) * Precision[i * 3 + j] * (theta[j] - Mean[j]);
            return -0.5 * q - LogPrior(theta);
        }

        private static double[] Invert3(double[] m)
        {
            double a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], k = m[8];
            double det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
            return [(e * k - f * h) / det, (c * h - b * k) / det, (b * f - c * e) / det,
                    (f * g - d * k) / det, (a * k - c * g) / det, (c * d - a * f) / det,
                    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det];
        }
    }

    /// <summary>
    /// The 1-D mixture 0.3·N(−1.5, 0.6²) + 0.7·N(1.5, 0.6²) as a posterior (prior N(0, 5²)): two modes 5 standard
    /// deviations apart, with density 4% of the peaks' between them; mean 0.6, variance 0.36 + 2.25 − 0.36 = 2.25.
    /// </summary>
    public sealed class Bimodal() : PosteriorTarget([ParameterSupport.Real])
    {
        public const double Mean = 0.6;
        public const double Variance = 2.25;
        public const double RightWeight = 0.7;
        private const double Centre = 1.5, Sd = 0.6;

        /// <summary>P(θ &gt; 0) = 0.7·Φ(2.5) + 0.3·(1 − Φ(2.5)), Φ(2.5) = 0.9937903347.</summary>
        public const double PositiveShare = 0.7 * 0.9937903347 + 0.3 * (1 - 0.9937903347);

        public override double LogPrior(ReadOnlySpan<double> theta) => -0.5 * Math.Log(2 * Math.PI * 25) - theta[0] * theta[0] / 50;

        public override void SamplePrior(SimulationRandom random, Span<double> theta) => theta[0] = random.NextNormal(0, 5);

        public override double LogLikelihood(ReadOnlySpan<double> theta)
        {
            double t = theta[0];
            double Normal(double mean) => Math.Exp(-0.5 * Math.Pow((t - mean) / Sd, 2)) / (Sd * Math.Sqrt(2 * Math.PI));
            return Math.Log((1 - RightWeight) * Normal(-Centre) + RightWeight * Normal(Centre)) - LogPrior(theta);
        }
    }

    /// <summary>
    /// A constrained 2-D posterior: θ1 &gt; 0 with prior Exp(1) and likelihood θ1²·e^(−θ1), posterior Gamma(3, rate 2)
    /// (mean 1.5, variance 0.75); θ2 in (0, 1) with a uniform prior and likelihood θ2³(1 − θ2)⁵, posterior Beta(4, 6)
    /// (mean 0.4, variance 24/1100). Exercises both bijections and their Jacobians.
    /// </summary>
    public sealed class GammaBeta() : PosteriorTarget([ParameterSupport.Positive, ParameterSupport.Interval(0, 1)])
    {
        public static readonly double[] Mean = [1.5, 0.4];
        public static readonly double[] Variance = [0.75, 24.0 / 1100];

        public override double LogPrior(ReadOnlySpan<double> theta)
            => theta[0] > 0 && theta[1] >= 0 && theta[1] <= 1 ? -theta[0] : double.NegativeInfinity;

        public override void SamplePrior(SimulationRandom random, Span<double> theta)
        {
            theta[0] = random.NextExponential();
            theta[1] = random.NextDouble();
        }

        public override double LogLikelihood(ReadOnlySpan<double> theta)
            => 2 * Math.Log(theta[0]) - theta[0] + 3 * Math.Log(theta[1]) + 5 * Math.Log(1 - theta[1]);
    }

    /// <summary>
    /// Reference settings for tests: shorter chains (4 × 500 draws after 200 warm-up sweeps), at most three proposal
    /// components and a lighter bound search. The draws stay exact, since the rejection step corrects the proposal; only the acceptance rate and
    /// the diagnostics' precision suffer.
    /// </summary>
    public static readonly ReferenceOptions Quick = new(
        new SliceOptions(Chains: 4, WarmupSweeps: 200, DrawsPerChain: 500, MaxDegreeOfParallelism: 2),
        new RejectionOptions(MaxComponents: 3, PriorCandidates: 2000, Starts: 4, MaxDegreeOfParallelism: 2));

    /// <summary>Column <paramref name="k"/> of row-major draws with <paramref name="d"/> values per row.</summary>
    public static double[] Column(double[] draws, int d, int k) => Enumerable.Range(0, draws.Length / d).Select(i => draws[i * d + k]).ToArray();

    public static double Mean(double[] x) => x.Average();

    public static double Variance(double[] x)
    {
        double m = x.Average();
        return x.Sum(v => (v - m) * (v - m)) / (x.Length - 1);
    }

    /// <summary>The fourth central moment, for the standard error of a variance estimate: √((m4 − σ⁴)/n).</summary>
    public static double FourthMoment(double[] x)
    {
        double m = x.Average();
        return x.Sum(v => Math.Pow(v - m, 4)) / x.Length;
    }
}
