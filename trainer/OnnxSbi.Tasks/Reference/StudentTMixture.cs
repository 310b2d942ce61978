using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// A mixture of multivariate Student-t densities, the heavy-tailed part of the rejection proposal: a Gaussian
/// mixture is fitted to MCMC draws by expectation–maximisation (Dempster, Laird &amp; Rubin 1977) with the number
/// of components chosen by BIC, and each component then becomes a Student-t with ν = 5 whose scale matrix is the
/// fitted covariance. The t tails keep the density ratio posterior/proposal bounded where the Gaussian fit would
/// fall off too fast; the scale, wider than the t's covariance-matching one, errs on the safe side as well.
/// </summary>
internal sealed class StudentTMixture
{
    /// <summary>Degrees of freedom of every component.</summary>
    public const int DegreesOfFreedom = 5;

    // Most draws the fit uses.
    private const int MaxFitRows = 2000;

    private readonly int _d;
    private readonly double[] _logWeights;
    private readonly double[] _cumulativeWeights;
    private readonly double[][] _means;
    private readonly double[][] _choleskies;
    private readonly double[] _logNormalizers;

    private StudentTMixture(int d, double[] weights, double[][] means, double[][] choleskies)
    {
        _d = d;
        _means = means;
        _choleskies = choleskies;
        _logWeights = weights.Select(w => Math.Log(w)).ToArray();
        _cumulativeWeights = new double[weights.Length];
        double cumulative = 0;
        for (int j = 0; j < weights.Length; j++) _cumulativeWeights[j] = cumulative += weights[j];
        double nu = DegreesOfFreedom;
        double constant = ReferenceMath.LogGamma((nu + d) / 2) - ReferenceMath.LogGamma(nu / 2) - d / 2.0 * Math.Log(nu * Math.PI);
        _logNormalizers = choleskies.Select(l =>
        {
            double logDet = 0;
            for (int k = 0; k < d; k++) logDet += Math.Log(l[k * d + k]);
            return constant - logDet;
        }).ToArray();
    }

    /// <summary>The number of components.</summary>
    public int Components => _means.Length;

    /// <summary>
    /// Fits the mixture to <paramref name="rows"/> (row-major, width <paramref name="d"/>), trying 1 to
    /// <paramref name="maxComponents"/> components (stopping after two sizes that do not lower the BIC) and keeping the lowest BIC; deterministic for a seed.
    /// </summary>
    public static StudentTMixture Fit(double[] rows, int d, int maxComponents, ulong seed)
    {
        int n = rows.Length / d;
        if (n > MaxFitRows)
        {
            // An evenly spaced subset: MCMC draws are autocorrelated, so the subset loses little information and
            // EM, linear in the rows, becomes proportionally cheaper.
            var subset = new double[MaxFitRows * d];
            for (int i = 0; i < MaxFitRows; i++) rows.AsSpan((int)((long)i * n / MaxFitRows) * d, d).CopyTo(subset.AsSpan(i * d, d));
            rows = subset;
            n = MaxFitRows;
        }
        if (n < 2 * d + 2) throw new ArgumentException($"Fitting a proposal in {d} dimensions needs at least {2 * d + 2} draws; received {n}.", nameof(rows));
        StudentTMixture? best = null;
        double bestBic = double.PositiveInfinity;
        int worse = 0;
        for (int k = 1; k <= maxComponents && worse < 2; k++)
        {
            // Each component needs enough draws for a full covariance.
            if (n < k * (d + 1) * 4) break;
            var (weights, means, covariances, logLikelihood) = FitGaussianMixture(rows, d, k, ReferenceMath.Stream(seed, ReferenceMath.Stage.Mixture, (ulong)k));
            double parameters = k - 1 + k * (d + d * (d + 1) / 2.0);
            double bic = -2 * logLikelihood + parameters * Math.Log(n);
            if (!(bic < bestBic))
            {
                // Two sizes in a row without improvement: larger ones would only overfit.
                worse++;
                continue;
            }
            worse = 0;
            var choleskies = covariances.Select(c => ReferenceMath.Cholesky(c, d)).ToArray();
            if (choleskies.Any(c => c is null)) continue;
            bestBic = bic;
            best = new StudentTMixture(d, weights, means, choleskies!);
        }
        return best ?? throw new ArgumentException("The proposal fit failed: every covariance of the draws is singular.", nameof(rows));
    }

    /// <summary>log of the mixture density at u.</summary>
    public double LogDensity(ReadOnlySpan<double> u)
    {
        Span<double> z = stackalloc double[_d];
        double result = double.NegativeInfinity;
        for (int j = 0; j < _means.Length; j++)
        {
            double q = Mahalanobis(u, j, z);
            double logT = _logNormalizers[j] - (DegreesOfFreedom + _d) / 2.0 * Math.Log(1 + q / DegreesOfFreedom);
            result = ReferenceMath.LogAddExp(result, _logWeights[j] + logT);
        }
        return result;
    }

    /// <summary>Writes one draw into <paramref name="u"/>: a component by weight, then μ + L·z·√(ν/χ²_ν).</summary>
    public void Sample(SimulationRandom random, Span<double> u)
    {
        double pick = random.NextDouble() * _cumulativeWeights[^1];
        int j = 0;
        while (j < _means.Length - 1 && pick >= _cumulativeWeights[j]) j++;
        Span<double> z = stackalloc double[_d];
        for (int k = 0; k < _d; k++) z[k] = random.NextNormal();
        double chi2 = 0;
        for (int i = 0; i < DegreesOfFreedom; i++)
        {
            double g = random.NextNormal();
            chi2 += g * g;
        }
        double scale = Math.Sqrt(DegreesOfFreedom / chi2);
        var l = _choleskies[j];
        for (int r = 0; r < _d; r++)
        {
            double s = 0;
            for (int k = 0; k <= r; k++) s += l[r * _d + k] * z[k];
            u[r] = _means[j][r] + scale * s;
        }
    }

    /// <summary>(u − μ)ᵀΣ⁻¹(u − μ) of component j by forward substitution with its Cholesky factor.</summary>
    private double Mahalanobis(ReadOnlySpan<double> u, int j, Span<double> z)
    {
        var l = _choleskies[j];
        var mean = _means[j];
        double q = 0;
        for (int r = 0; r < _d; r++)
        {
            double s = u[r] - mean[r];
            for (int k = 0; k < r; k++) s -= l[r * _d + k] * z[k];
            z[r] = s / l[r * _d + r];
            q += z[r] * z[r];
        }
        return q;
    }

    /// <summary>
    /// EM for a k-component Gaussian mixture, started from k-means++ seeding (Arthur &amp; Vassilvitskii 2007) in
    /// coordinates scaled by the pooled standard deviations. Each covariance gets a ridge of 1e-6 times the
    /// pooled variances, so that no component collapses onto a few draws.
    /// </summary>
    private static (double[] Weights, double[][] Means, double[][] Covariances, double LogLikelihood) FitGaussianMixture(double[] rows, int d, int k, SimulationRandom random)
    {
        int n = rows.Length / d;
        var (_, pooled) = ReferenceMath.MeanCovariance(rows, d, 0);
        var scale = Enumerable.Range(0, d).Select(j => pooled[j * d + j] > 0 ? 1 / Math.Sqrt(pooled[j * d + j]) : 1).ToArray();
        double ScaledDistance(int i, double[] center)
        {
            double s = 0;
            for (int j = 0; j < d; j++)
            {
                double diff = (rows[i * d + j] - center[j]) * scale[j];
                s += diff * diff;
            }
            return s;
        }

        var means = new double[k][];
        means[0] = rows.AsSpan(random.Next(n) * d, d).ToArray();
        var nearest = Enumerable.Range(0, n).Select(i => ScaledDistance(i, means[0])).ToArray();
        for (int c = 1; c < k; c++)
        {
            double pick = random.NextDouble() * nearest.Sum();
            int chosen = 0;
            for (double cumulative = 0; chosen < n - 1; chosen++)
            {
                cumulative += nearest[chosen];
                if (cumulative > pick) break;
            }
            means[c] = rows.AsSpan(chosen * d, d).ToArray();
            for (int i = 0; i < n; i++) nearest[i] = Math.Min(nearest[i], ScaledDistance(i, means[c]));
        }

        // Start: hard assignment to the nearest seed.
        var resp = new double[n * k];
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int c = 1; c < k; c++)
                if (ScaledDistance(i, means[c]) < ScaledDistance(i, means[best])) best = c;
            resp[i * k + best] = 1;
        }

        var weights = new double[k];
        var covariances = new double[k][];
        double logLikelihood = double.NegativeInfinity;
        for (int iteration = 0; iteration < 100; iteration++)
        {
            // M step.
            for (int c = 0; c < k; c++)
            {
                double total = 0;
                var mean = new double[d];
                for (int i = 0; i < n; i++)
                {
                    double r = resp[i * k + c];
                    total += r;
                    for (int j = 0; j < d; j++) mean[j] += r * rows[i * d + j];
                }
                total = Math.Max(total, 1e-12);
                for (int j = 0; j < d; j++) mean[j] /= total;
                var cov = new double[d * d];
                for (int i = 0; i < n; i++)
                {
                    double r = resp[i * k + c];
                    if (r == 0) continue;
                    for (int a = 0; a < d; a++)
                    {
                        double da = rows[i * d + a] - mean[a];
                        for (int b = 0; b <= a; b++) cov[a * d + b] += r * da * (rows[i * d + b] - mean[b]);
                    }
                }
                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b <= a; b++) cov[b * d + a] = cov[a * d + b] /= total;
                    cov[a * d + a] += 1e-6 * pooled[a * d + a];
                }
                weights[c] = total / n;
                means[c] = mean;
                covariances[c] = cov;
            }

            // E step.
            var factors = covariances.Select(c => ReferenceMath.Cholesky(c, d)).ToArray();
            if (factors.Any(f => f is null)) break;
            var logNorm = factors.Select(l =>
            {
                double logDet = 0;
                for (int j = 0; j < d; j++) logDet += Math.Log(l![j * d + j]);
                return -logDet - d / 2.0 * Math.Log(2 * Math.PI);
            }).ToArray();
            double total2 = 0;
            var z = new double[d];
            var logs = new double[k];
            for (int i = 0; i < n; i++)
            {
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    var l = factors[c]!;
                    double q = 0;
                    for (int r = 0; r < d; r++)
                    {
                        double s = rows[i * d + r] - means[c][r];
                        for (int m = 0; m < r; m++) s -= l[r * d + m] * z[m];
                        z[r] = s / l[r * d + r];
                        q += z[r] * z[r];
                    }
                    logs[c] = Math.Log(Math.Max(weights[c], 1e-300)) + logNorm[c] - q / 2;
                    max = Math.Max(max, logs[c]);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) sum += Math.Exp(logs[c] - max);
                double logSum = max + Math.Log(sum);
                total2 += logSum;
                for (int c = 0; c < k; c++) resp[i * k + c] = Math.Exp(logs[c] - logSum);
            }
            // Converged when the mean log likelihood per draw gains less than 1e-5 nats.
            bool converged = total2 - logLikelihood < 1e-5 * n;
            logLikelihood = total2;
            if (converged) break;
        }
        return (weights, means, covariances, logLikelihood);
    }
}
