namespace OnnxSbi.Tasks.Reference;

/// <summary>
/// Split-R̂ and bulk effective sample size with rank normalisation (Vehtari, Gelman, Simpson, Carpenter &amp;
/// Bürkner 2021, "Rank-normalization, folding, and localization: an improved R̂ for assessing convergence of
/// MCMC", Bayesian Analysis 16(2)), per parameter dimension.
/// </summary>
/// <remarks>
/// Each chain is split into halves, so that a chain still drifting disagrees with itself. The draws of all halves
/// are replaced by the normal scores of their pooled ranks, Φ⁻¹((r − 3/8)/(S + 1/4)), which makes both
/// statistics invariant to monotone transforms and finite for heavy tails. R̂ is the larger of the R̂ of those
/// scores (bulk) and of the scores of |θ − median| (folded, which catches chains that differ in spread only).
/// </remarks>
internal static class ConvergenceDiagnostics
{
    /// <summary>Rank-normalised split-R̂ per dimension of <paramref name="chains"/> (each row-major [n × dim], equal n ≥ 4).</summary>
    public static double[] SplitRHat(IReadOnlyList<double[]> chains, int dim)
    {
        var result = new double[dim];
        for (int k = 0; k < dim; k++)
        {
            double[][] halves = SplitHalves(chains, dim, k);
            double bulk = RHat(RankNormalize(halves));
            double median = Median(halves.SelectMany(h => h));
            double folded = RHat(RankNormalize(halves.Select(h => h.Select(v => Math.Abs(v - median)).ToArray()).ToArray()));
            result[k] = Math.Max(bulk, folded);
        }
        return result;
    }

    /// <summary>Bulk effective sample size per dimension: the ESS of the rank-normalised split chains.</summary>
    public static double[] BulkEss(IReadOnlyList<double[]> chains, int dim)
    {
        var result = new double[dim];
        for (int k = 0; k < dim; k++) result[k] = Ess(RankNormalize(SplitHalves(chains, dim, k)));
        return result;
    }

    private static double[][] SplitHalves(IReadOnlyList<double[]> chains, int dim, int k)
    {
        ArgumentNullException.ThrowIfNull(chains);
        if (chains.Count == 0) throw new ArgumentException("Diagnostics need at least one chain.", nameof(chains));
        int n = chains[0].Length / dim;
        if (n < 4 || chains.Any(c => c.Length != n * dim))
            throw new ArgumentException($"Diagnostics need chains of equal length, at least 4 draws of {dim} values; received lengths {string.Join(", ", chains.Select(c => c.Length))}.", nameof(chains));
        int half = n / 2;
        var halves = new double[2 * chains.Count][];
        for (int c = 0; c < chains.Count; c++)
        {
            // With odd n the middle draw is dropped, so that both halves have the same length.
            halves[2 * c] = Enumerable.Range(0, half).Select(i => chains[c][i * dim + k]).ToArray();
            halves[2 * c + 1] = Enumerable.Range(n - half, half).Select(i => chains[c][i * dim + k]).ToArray();
        }
        return halves;
    }

    /// <summary>Normal scores of the pooled ranks (ties share their average rank).</summary>
    internal static double[][] RankNormalize(double[][] chains)
    {
        int n = chains[0].Length, total = chains.Length * n;
        var order = new int[total];
        var values = new double[total];
        for (int c = 0; c < chains.Length; c++) chains[c].CopyTo(values, c * n);
        for (int i = 0; i < total; i++) order[i] = i;
        Array.Sort((double[])values.Clone(), order);
        var z = new double[total];
        for (int i = 0; i < total;)
        {
            int j = i;
            while (j + 1 < total && values[order[j + 1]] == values[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            double score = ReferenceMath.NormalQuantile((rank - 0.375) / (total + 0.25));
            for (int m = i; m <= j; m++) z[order[m]] = score;
            i = j + 1;
        }
        return Enumerable.Range(0, chains.Length).Select(c => z.AsSpan(c * n, n).ToArray()).ToArray();
    }

    /// <summary>Gelman–Rubin R̂ = √(var⁺/W) with var⁺ = (n − 1)/n·W + B/n (Vehtari et al. 2021, eqs. 1–3).</summary>
    internal static double RHat(double[][] chains)
    {
        int m = chains.Length, n = chains[0].Length;
        var means = chains.Select(c => c.Average()).ToArray();
        double grand = means.Average();
        double between = m > 1 ? n * means.Sum(x => (x - grand) * (x - grand)) / (m - 1) : 0;
        double within = chains.Select((c, i) => c.Sum(x => (x - means[i]) * (x - means[i])) / (n - 1)).Average();
        if (!(within > 0)) return between > 0 ? double.PositiveInfinity : 1;
        double varPlus = (n - 1.0) / n * within + between / n;
        return Math.Sqrt(varPlus / within);
    }

    /// <summary>
    /// ESS = m·n/τ with τ = −1 + 2·Σ P_t, P_t = ρ̂_{2t} + ρ̂_{2t+1} truncated at the first negative pair and made
    /// monotone (Geyer's initial monotone sequence), ρ̂_t = 1 − (W − mean of the chains' autocovariances at t)/var⁺
    /// (Vehtari et al. 2021, eqs. 10–11). Capped at m·n·log10(m·n), as Stan does for antithetic chains.
    /// </summary>
    internal static double Ess(double[][] chains)
    {
        int m = chains.Length, n = chains[0].Length;
        var means = chains.Select(c => c.Average()).ToArray();
        var centered = chains.Select((c, i) => c.Select(x => x - means[i]).ToArray()).ToArray();
        double Autocovariance(int c, int lag)
        {
            double s = 0;
            var x = centered[c];
            for (int i = 0; i + lag < n; i++) s += x[i] * x[i + lag];
            return s / n;
        }
        double grand = means.Average();
        double between = m > 1 ? n * means.Sum(x => (x - grand) * (x - grand)) / (m - 1) : 0;
        var gamma0 = Enumerable.Range(0, m).Select(c => Autocovariance(c, 0)).ToArray();
        double within = gamma0.Average() * n / (n - 1.0);
        double varPlus = (n - 1.0) / n * within + (m > 1 ? between / n : 0);
        if (!(varPlus > 0)) return m * n;
        double Rho(int lag) => lag == 0 ? 1 : 1 - (within - Enumerable.Range(0, m).Average(c => Autocovariance(c, lag))) / varPlus;

        double sum = 0, previous = double.PositiveInfinity;
        for (int t = 0; 2 * t + 1 < n; t++)
        {
            double pair = Rho(2 * t) + Rho(2 * t + 1);
            if (pair < 0) break;
            pair = Math.Min(pair, previous);
            sum += pair;
            previous = pair;
        }
        double tau = Math.Max(-1 + 2 * sum, 1.0 / Math.Log10(m * (double)n));
        return m * n / tau;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
