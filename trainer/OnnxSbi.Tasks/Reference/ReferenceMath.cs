using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Reference;

/// <summary>Seeding, special functions and small dense linear algebra shared by the reference sampler.</summary>
internal static class ReferenceMath
{
    /// <summary>The stages of a reference run, each with its own family of random streams.</summary>
    internal enum Stage : ulong { Chain = 1, Mixture = 2, Bound = 3, Rejection = 4, Symmetry = 5 }

    /// <summary>
    /// The generator of stream <paramref name="index"/> of <paramref name="stage"/> under <paramref name="seed"/>:
    /// the seed, stage and index pass through SplitMix64's mixer, so nearby seeds and indices give unrelated streams
    /// and every chain or chunk is reproducible on its own, whatever thread runs it.
    /// </summary>
    public static SimulationRandom Stream(ulong seed, Stage stage, ulong index)
        => new(Xoshiro256.Mix(Xoshiro256.Mix(seed) ^ Xoshiro256.Mix(((ulong)stage << 48) + index + 0x632BE59BD9B4E019UL)));

    /// <summary>An Exp(1) draw, −log U with U in (0, 1].</summary>
    public static double NextExponential(this SimulationRandom random) => -Math.Log(1 - random.NextDouble());

    /// <summary>log(eᵃ + eᵇ) without overflow.</summary>
    public static double LogAddExp(double a, double b)
    {
        if (a == double.NegativeInfinity) return b;
        if (b == double.NegativeInfinity) return a;
        double max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>log Γ(x) for x &gt; 0 by the Lanczos approximation (g = 7, nine terms; relative error about 1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>
    /// Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error below 1.2e-9),
    /// ample for rank normalisation.
    /// </summary>
    public static double NormalQuantile(double p)
    {
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The normal quantile needs 0 < p < 1.");
        const double low = 0.02425;
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        if (p < low || p > 1 - low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p < low ? p : 1 - p));
            double tail = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
            return p < low ? tail : -tail;
        }
        double r0 = p - 0.5, r = r0 * r0;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * r0 / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }

    /// <summary>
    /// The lower Cholesky factor of the symmetric positive-definite d × d <paramref name="matrix"/> (row-major),
    /// or null when a pivot is not positive.
    /// </summary>
    public static double[]? Cholesky(ReadOnlySpan<double> matrix, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = matrix[i * d + j];
                for (int k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
                if (i == j)
                {
                    if (!(s > 0) || !double.IsFinite(s)) return null;
                    l[i * d + i] = Math.Sqrt(s);
                }
                else l[i * d + j] = s / l[j * d + j];
            }
        }
        return l;
    }

    /// <summary>
    /// The mean and covariance (n − 1 denominator) of <paramref name="rows"/> rows of width d, row-major, with
    /// <paramref name="ridge"/> times each variance added to the diagonal so that the factor exists for
    /// degenerate samples.
    /// </summary>
    public static (double[] Mean, double[] Covariance) MeanCovariance(ReadOnlySpan<double> rows, int d, double ridge)
    {
        int n = rows.Length / d;
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) mean[k] += rows[i * d + k];
        for (int k = 0; k < d; k++) mean[k] /= n;
        var cov = new double[d * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double dj = rows[i * d + j] - mean[j];
                for (int k = 0; k <= j; k++) cov[j * d + k] += dj * (rows[i * d + k] - mean[k]);
            }
        for (int j = 0; j < d; j++)
            for (int k = 0; k <= j; k++) cov[k * d + j] = cov[j * d + k] /= Math.Max(1, n - 1);
        for (int k = 0; k < d; k++) cov[k * d + k] *= 1 + ridge;
        return (mean, cov);
    }
}
