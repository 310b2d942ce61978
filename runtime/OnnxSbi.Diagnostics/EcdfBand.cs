using System.Collections.Concurrent;
using OnnxSbi.Runtime.Noise;

namespace OnnxSbi.Diagnostics;

/// <summary>
/// The simultaneous confidence band for the ECDF of SBC ranks (Säilynoja, Bürkner &amp; Vehtari 2022,
/// "Graphical test for discrete uniformity and its applications in goodness-of-fit evaluation and
/// multiple sample comparison", Statistics and Computing 32:32): under calibration, the whole ECDF
/// difference curve of N rank statistics lies inside the band with probability <see cref="Confidence"/>.
/// </summary>
/// <remarks>
/// <para>
/// The ranks take the S + 1 values 0…S. The ECDF is evaluated at K points z_k = i_k/(S+1) for integers
/// 1 ≤ i_1 &lt; … &lt; i_K ≤ S, where F̂(z_k) = #{ranks &lt; i_k}/N. For uniform ranks N·F̂(z_k) is exactly
/// Binomial(N, z_k), and the counts at all K points have the same joint distribution as for N continuous
/// uniforms, so a band calibrated by simulating uniforms is exact for discrete ranks too (the paper, §2.3).
/// </para>
/// <para>
/// Pointwise binomial intervals at level 1 − γ would be violated somewhere far more often than α = 1 −
/// confidence. The adjusted γ is found by Monte Carlo (the paper's simulation method, §2.2): for each of
/// M = 10,000 simulated uniform samples, γ_m = 2·min_k min(P(X_k ≤ N·F̂_m(z_k)), P(X_k ≥ N·F̂_m(z_k))) with
/// X_k ~ Binomial(N, z_k), the smallest two-sided pointwise level that still contains the whole curve;
/// the adjusted γ is the α-quantile of the γ_m. The band is then
/// [Binom⁻¹(γ/2; N, z_k), Binom⁻¹(1 − γ/2; N, z_k)] / N. Bands are cached per (N, S, confidence) and use a
/// fixed generator seed, so they are reproducible.
/// </para>
/// </remarks>
public sealed class EcdfBand
{
    /// <summary>Monte Carlo replications used to find the adjusted γ.</summary>
    public const int Simulations = 10_000;

    /// <summary>The most evaluation points K; fewer when there are fewer draws (K ≤ S).</summary>
    public const int MaxPoints = 100;

    /// <summary>
    /// The most datasets a band is computed for: its binomial tables hold K·(N + 1) doubles (80 MB at
    /// N = 100,000) and each of the 10,000 replications draws N ranks.
    /// </summary>
    public const int MaxDatasets = 100_000;

    private const ulong BandSeed = 0x5BB2022;
    private const int SimulationsPerChunk = 1_000;

    private static readonly ConcurrentDictionary<(int, int, double), Lazy<EcdfBand>> Cache = new();

    private readonly int[] thresholds;
    private readonly int[] lowerCounts;
    private readonly int[] upperCounts;

    private EcdfBand(int numDatasets, int numDraws, double confidence, int[] thresholds, double adjustedGamma, int[] lowerCounts, int[] upperCounts)
    {
        NumDatasets = numDatasets;
        NumDraws = numDraws;
        Confidence = confidence;
        this.thresholds = thresholds;
        AdjustedGamma = adjustedGamma;
        this.lowerCounts = lowerCounts;
        this.upperCounts = upperCounts;
        int k = thresholds.Length;
        var points = new double[k];
        var lower = new double[k];
        var upper = new double[k];
        for (int i = 0; i < k; i++)
        {
            points[i] = (double)thresholds[i] / (numDraws + 1);
            lower[i] = (double)lowerCounts[i] / numDatasets;
            upper[i] = (double)upperCounts[i] / numDatasets;
        }
        Points = points;
        Lower = lower;
        Upper = upper;
    }

    /// <summary>Number of rank statistics N (datasets) the band is for.</summary>
    public int NumDatasets { get; }

    /// <summary>Posterior draws S per dataset; ranks lie in 0…S.</summary>
    public int NumDraws { get; }

    /// <summary>Simultaneous coverage 1 − α, e.g. 0.95.</summary>
    public double Confidence { get; }

    /// <summary>The pointwise two-sided level γ that gives simultaneous coverage <see cref="Confidence"/>.</summary>
    public double AdjustedGamma { get; }

    /// <summary>The evaluation points z_k (fractional ranks), increasing, inside (0, 1).</summary>
    public IReadOnlyList<double> Points { get; }

    /// <summary>Lower band of the ECDF F̂(z_k).</summary>
    public IReadOnlyList<double> Lower { get; }

    /// <summary>Upper band of the ECDF F̂(z_k).</summary>
    public IReadOnlyList<double> Upper { get; }

    /// <summary>
    /// The band for <paramref name="numDatasets"/> rank statistics of <paramref name="numDraws"/> draws
    /// each at simultaneous level <paramref name="confidence"/>; computed once per combination and cached.
    /// </summary>
    /// <exception cref="InvalidRequestException">A count below 1, or a confidence outside (0, 1).</exception>
    public static EcdfBand For(int numDatasets, int numDraws, double confidence = 0.95)
    {
        if (numDatasets < 1 || numDatasets > MaxDatasets)
            throw new InvalidRequestException($"The ECDF band is computed for 1 to {MaxDatasets} datasets; got numDatasets = {numDatasets}.");
        if (numDraws < 1) throw new InvalidRequestException($"The ECDF band needs at least 1 posterior draw per dataset; got numDraws = {numDraws}.");
        if (!(confidence > 0 && confidence < 1)) throw new InvalidRequestException($"The band's confidence must lie in (0, 1); got {confidence}.");
        return Cache.GetOrAdd((numDatasets, numDraws, confidence),
            key => new Lazy<EcdfBand>(() => Compute(key.Item1, key.Item2, key.Item3))).Value;
    }

    /// <summary>The ECDF difference F̂(z_k) − z_k of <paramref name="ranks"/> (each in 0…S) at the band's points.</summary>
    /// <exception cref="ShapeMismatchException">Not exactly <see cref="NumDatasets"/> ranks.</exception>
    public double[] EcdfDifference(ReadOnlySpan<int> ranks)
    {
        var counts = new int[thresholds.Length];
        CountBelow(ranks, counts);
        var diff = new double[counts.Length];
        for (int k = 0; k < counts.Length; k++) diff[k] = (double)counts[k] / NumDatasets - Points[k];
        return diff;
    }

    /// <summary>True when the ECDF of <paramref name="ranks"/> stays inside the band at every point.</summary>
    /// <exception cref="ShapeMismatchException">Not exactly <see cref="NumDatasets"/> ranks.</exception>
    public bool Contains(ReadOnlySpan<int> ranks)
    {
        Span<int> counts = thresholds.Length <= 256 ? stackalloc int[thresholds.Length] : new int[thresholds.Length];
        CountBelow(ranks, counts);
        for (int k = 0; k < counts.Length; k++)
            if (counts[k] < lowerCounts[k] || counts[k] > upperCounts[k]) return false;
        return true;
    }

    // counts[k] = #{ranks < i_k}, from the cumulative histogram of the ranks.
    private void CountBelow(ReadOnlySpan<int> ranks, Span<int> counts)
    {
        if (ranks.Length != NumDatasets)
            throw new ShapeMismatchException("ranks", $"[{NumDatasets}] (the band's number of datasets)", $"[{ranks.Length}]");
        Span<int> histogram = NumDraws < 2048 ? stackalloc int[NumDraws + 1] : new int[NumDraws + 1];
        histogram.Clear();
        foreach (int r in ranks)
        {
            if ((uint)r > (uint)NumDraws)
                throw new InvalidRequestException($"Rank {r} is outside 0…{NumDraws} (the band is for {NumDraws} draws per dataset).");
            histogram[r]++;
        }
        int below = 0, next = 0;
        for (int k = 0; k < thresholds.Length; k++)
        {
            for (; next < thresholds[k]; next++) below += histogram[next];
            counts[k] = below;
        }
    }

    private static EcdfBand Compute(int n, int s, double confidence)
    {
        int k = Math.Min(s, MaxPoints);
        // i_k = ⌊k·(S+1)/(K+1)⌋: spaced by at least one rank because K ≤ S, so the points are distinct
        // and lie in 1…S (F̂ at i = 0 and i = S+1 is 0 and 1 by construction, nothing to test).
        var thresholds = new int[k];
        for (int i = 0; i < k; i++) thresholds[i] = (int)((long)(i + 1) * (s + 1) / (k + 1));

        // cdf[i·(N+1) + c] = P(X_i ≤ c), X_i ~ Binomial(N, z_i).
        var cdf = new double[(long)k * (n + 1)];
        for (int i = 0; i < k; i++)
            Distributions.BinomialCdf(n, (double)thresholds[i] / (s + 1), cdf.AsSpan(i * (n + 1), n + 1));

        var gammas = new double[Simulations];
        int chunks = Simulations / SimulationsPerChunk;
        Parallel.For(0, chunks, chunk => SimulateGammas(n, s, thresholds, cdf, chunk, gammas.AsSpan(chunk * SimulationsPerChunk, SimulationsPerChunk)));
        Array.Sort(gammas);
        // The α-quantile with linear interpolation between order statistics (numpy's default, which
        // BayesFlow's simultaneous_ecdf_bands uses).
        double position = (1 - confidence) * (Simulations - 1);
        int below = (int)Math.Floor(position);
        double gamma = below + 1 < Simulations
            ? gammas[below] + (position - below) * (gammas[below + 1] - gammas[below])
            : gammas[below];

        var lower = new int[k];
        var upper = new int[k];
        for (int i = 0; i < k; i++)
        {
            var table = cdf.AsSpan(i * (n + 1), n + 1);
            lower[i] = Quantile(table, gamma / 2);
            upper[i] = Quantile(table, 1 - gamma / 2);
        }
        return new EcdfBand(n, s, confidence, thresholds, gamma, lower, upper);
    }

    // Binom⁻¹(q) = min{c : P(X ≤ c) ≥ q}, as scipy's binom.ppf.
    private static int Quantile(ReadOnlySpan<double> cdf, double q)
    {
        int c = 0;
        while (c < cdf.Length - 1 && cdf[c] < q) c++;
        return c;
    }

    private static void SimulateGammas(int n, int s, int[] thresholds, double[] cdf, int chunk, Span<double> gammas)
    {
        var rng = Xoshiro256.Create(BandSeed, (ulong)chunk);
        int k = thresholds.Length;
        // cell[r] = #{i : i_k ≤ r}: a rank r counts towards F̂(z_k) exactly for the thresholds i_k > r, so
        // histogramming cells (K + 1 of them) instead of ranks (S + 1) keeps each replication O(N + K).
        var cell = new int[s + 1];
        for (int r = 0, next = 0; r <= s; r++)
        {
            while (next < k && thresholds[next] <= r) next++;
            cell[r] = next;
        }
        var histogram = new int[k + 1];
        for (int m = 0; m < gammas.Length; m++)
        {
            Array.Clear(histogram);
            // Uniform ranks in 0…S: for continuous uniforms u, #{u < i/(S+1)} has the same joint law.
            for (int j = 0; j < n; j++) histogram[cell[rng.NextInt(s + 1)]]++;
            double smallest = 1;
            int below = 0;
            for (int i = 0; i < k; i++)
            {
                below += histogram[i];
                int row = i * (n + 1);
                double lowerTail = cdf[row + below];
                double upperTail = below == 0 ? 1 : 1 - cdf[row + below - 1];
                smallest = Math.Min(smallest, Math.Min(lowerTail, upperTail));
            }
            gammas[m] = 2 * smallest;
        }
    }
}
