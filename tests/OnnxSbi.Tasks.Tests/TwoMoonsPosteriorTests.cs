using System.Diagnostics;
using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks;
using Xunit.Abstractions;

namespace OnnxSbi.Tasks.Tests;

public class TwoMoonsPosteriorTests(ITestOutputHelper output)
{
    [Fact]
    public void LogLikelihood_IntegratedOverObservations_IsOne()
    {
        // For fixed θ, p(x|θ) is a density in x: a half-ring of radius 0.1 and width 0.01 around
        // (0.25 − |θ1+θ2|/√2, (θ2−θ1)/√2). Midpoint rule on a 0.0005 grid over that neighbourhood.
        double t1 = 0.3, t2 = -0.7;
        double c1 = 0.25 - Math.Abs(t1 + t2) / Math.Sqrt(2), c2 = (t2 - t1) / Math.Sqrt(2);
        const double h = 0.0005;
        double total = 0;
        for (double a = c1 - 0.2; a < c1 + 0.2; a += h)
            for (double b = c2 - 0.2; b < c2 + 0.2; b += h)
                total += Math.Exp(TwoMoonsPosterior.LogLikelihood(t1, t2, a + h / 2, b + h / 2)) * h * h;
        // Tolerance 2e-3: the density jumps to 0 at u = 0 (the ring's cut), where the midpoint rule errs by
        // O(h) per crossed cell; the Gaussian part is resolved with 20 points per standard deviation.
        Assert.Equal(1.0, total, 2e-3);
    }

    [Fact]
    public void LogLikelihood_ObservationOnTheWrongSide_IsNegativeInfinity()
    {
        // u = x1 − 0.25 + |θ1+θ2|/√2 ≤ 0 cannot be reached with r > 0 and cos α > 0.
        Assert.Equal(double.NegativeInfinity, TwoMoonsPosterior.LogLikelihood(0, 0, 0.2, 0));
        Assert.True(double.IsFinite(TwoMoonsPosterior.LogLikelihood(0, 0, 0.35, 0)));
    }

    [Fact]
    public void LogLikelihood_ReflectionAcrossAntiDiagonal_IsInvariant()
    {
        // (θ1, θ2) → (−θ2, −θ1) keeps |θ1+θ2| and θ2−θ1, hence u and v: the two crescents mirror each other.
        var rng = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            double t1 = 2 * rng.NextDouble() - 1, t2 = 2 * rng.NextDouble() - 1, x1 = rng.NextDouble() - 0.5, x2 = rng.NextDouble() - 0.5;
            Assert.Equal(TwoMoonsPosterior.LogLikelihood(t1, t2, x1, x2), TwoMoonsPosterior.LogLikelihood(-t2, -t1, x1, x2), 12);
        }
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.1, -0.3)]
    [InlineData(-0.3, 0.75)] // the crescents cross the prior's edge θ = ±1: exercises the truncation
    public void SampleExact_Histogram_MatchesNormalizedLikelihoodOnGrid(double x1, double x2)
    {
        const int n = 20_000;
        double[] draws = TwoMoonsPosterior.SampleExact(x1, x2, n, seed: 17);
        // 40 × 40 bins over the prior box; expected mass per bin from the likelihood integrated with a
        // 50 × 50 midpoint sub-grid (spacing 0.001, a tenth of the ring's width) and normalized.
        const int bins = 40, sub = 50;
        var mass = new double[bins * bins];
        double h = 2.0 / (bins * sub);
        for (int i = 0; i < bins * sub; i++)
        {
            double t1 = -1 + (i + 0.5) * h;
            for (int j = 0; j < bins * sub; j++)
            {
                double t2 = -1 + (j + 0.5) * h;
                double l = TwoMoonsPosterior.LogLikelihood(t1, t2, x1, x2);
                if (l > -700) mass[i / sub * bins + j / sub] += Math.Exp(l);
            }
        }
        double total = mass.Sum();
        var counts = new int[bins * bins];
        for (int k = 0; k < n; k++)
        {
            int i = Math.Min(bins - 1, (int)((draws[2 * k] + 1) / 2 * bins));
            int j = Math.Min(bins - 1, (int)((draws[2 * k + 1] + 1) / 2 * bins));
            counts[i * bins + j]++;
        }
        // Pearson χ² over bins expecting ≥ 5 draws, the rest pooled into one cell.
        double chi2 = 0, pooledExpected = 0, pooledObserved = 0;
        int cells = 0;
        for (int b = 0; b < mass.Length; b++)
        {
            double expected = n * mass[b] / total;
            if (expected >= 5)
            {
                chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
                cells++;
            }
            else
            {
                pooledExpected += expected;
                pooledObserved += counts[b];
            }
        }
        if (pooledExpected >= 5)
        {
            chi2 += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
            cells++;
        }
        else
        {
            // Too little pooled mass to test; it must then hold almost no draws either.
            Assert.True(pooledObserved <= 5 + 5 * Math.Sqrt(pooledExpected + 1), $"{pooledObserved} draws where {pooledExpected:F1} expected");
        }
        int df = cells - 1;
        double critical = ChiSquareQuantile999(df);
        output.WriteLine($"x=({x1}, {x2}): χ² = {chi2:F1} on {df} df, 0.999 quantile {critical:F1}");
        Assert.True(df >= 10, $"only {df} degrees of freedom");
        Assert.True(chi2 < critical, $"χ² = {chi2:F1} on {df} df exceeds {critical:F1}");
    }

    /// <summary>Wilson–Hilferty approximation of the 0.999 quantile of χ²(k) (z_0.999 = 3.0902).</summary>
    private static double ChiSquareQuantile999(int k)
    {
        double a = 2.0 / (9.0 * k);
        return k * Math.Pow(1 - a + 3.0902 * Math.Sqrt(a), 3);
    }

    [Fact]
    public void SampleExact_AtOrigin_CrescentsMirrorAcrossAntiDiagonal()
    {
        const int n = 20_000;
        double[] d = TwoMoonsPosterior.SampleExact(0, 0, n, seed: 5);
        var upper = new List<double>();    // θ1 of the crescent with θ1 + θ2 > 0
        var reflected = new List<double>(); // −θ2 of the other one, i.e. θ1 after reflecting it
        for (int k = 0; k < n; k++)
        {
            if (d[2 * k] + d[2 * k + 1] > 0) upper.Add(d[2 * k]);
            else reflected.Add(-d[2 * k + 1]);
        }
        // Each crescent carries half the mass: binomial count within 5 standard errors √(n/4).
        Assert.InRange(upper.Count, n / 2 - 5 * Math.Sqrt(n / 4.0), n / 2 + 5 * Math.Sqrt(n / 4.0));
        // The reflected crescent has the same θ1 distribution: two-sample KS at α = 0.001,
        // critical value 1.9495·√((n+m)/(n·m)).
        double ks = TwoSampleKs(upper, reflected);
        double critical = 1.9495 * Math.Sqrt((upper.Count + reflected.Count) / ((double)upper.Count * reflected.Count));
        Assert.True(ks < critical, $"KS {ks:E3} >= {critical:E3}");
    }

    [Fact]
    public void SampleExact_AtOrigin_ComponentStandardDeviationsNear023()
    {
        // docs/algorithms.md#two-moons: "each parameter component, θ1 and θ2, has a posterior standard
        // deviation of about 0.23". Component means parameter component: at x = 0 the posterior is ρ ~ N(0.1, 0.01²) and α ~ U(−π/2, π/2) on either
        // crescent s = ±(0.25 + ρ cos α), d = −ρ sin α, with θ1 = (s − d)/√2, θ2 = (s + d)/√2. Hence
        // Var θ1 = Var θ2 = (E s² + E d²)/2 with E s² = 1/16 + 0.5·E ρ·E cos α + E ρ²·E cos² α and
        // E d² = E ρ²·E sin² α, where E cos α = 2/π, E cos² α = E sin² α = 1/2, E ρ² = 0.1² + 0.01².
        double eRho2 = 0.1 * 0.1 + 0.01 * 0.01;
        double es2 = 1.0 / 16 + 0.5 * 0.1 * (2 / Math.PI) + eRho2 / 2;
        double ed2 = eRho2 / 2;
        double sd = Math.Sqrt((es2 + ed2) / 2); // 0.2285
        double correlation = (es2 - ed2) / (es2 + ed2); // 0.903: the crescents lie along θ1 = θ2
        Assert.Equal(0.23, sd, 0.005);

        const int n = 10_000;
        double[] d = TwoMoonsPosterior.SampleExact(0, 0, n, seed: 11);
        for (int c = 0; c < 2; c++)
        {
            double[] x = Enumerable.Range(0, n).Select(k => d[2 * k + c]).ToArray();
            double mean = x.Average();
            double variance = x.Sum(v => (v - mean) * (v - mean)) / n;
            double m4 = x.Sum(v => Math.Pow(v - mean, 4)) / n;
            // Standard errors from the sample itself: SE(mean) = sd/√n, SE(sd) ≈ √(m4 − σ⁴)/(2σ√n) (delta method).
            double seMean = Math.Sqrt(variance / n);
            double seSd = Math.Sqrt(m4 - variance * variance) / (2 * Math.Sqrt(variance) * Math.Sqrt(n));
            output.WriteLine($"θ{c + 1}: mean {mean:F4} (±{seMean:F4}), sd {Math.Sqrt(variance):F4} (±{seSd:F4}), exact sd {sd:F4}");
            Assert.InRange(mean, -5 * seMean, 5 * seMean);
            Assert.InRange(Math.Sqrt(variance), sd - 5 * seSd, sd + 5 * seSd);
        }
        double r = Enumerable.Range(0, n).Sum(k => d[2 * k] * d[2 * k + 1]) / n / (sd * sd);
        // Tolerance 0.01: the sample correlation near 0.9 has standard error (1 − r²)/√n ≈ 0.002.
        Assert.Equal(correlation, r, 0.01);
    }

    [Fact]
    public void SampleExact_SameSeed_SameDrawsForAnyThreadCount()
    {
        double[] a = TwoMoonsPosterior.SampleExact(0.05, -0.1, 3000, seed: 9, maxDegreeOfParallelism: 1);
        double[] b = TwoMoonsPosterior.SampleExact(0.05, -0.1, 3000, seed: 9, maxDegreeOfParallelism: 4);
        double[] c = TwoMoonsPosterior.SampleExact(0.05, -0.1, 3000, seed: 10);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.InRange(v, -1.0, 1.0));
    }

    [Fact]
    public void SampleExact_NegativeCount_ThrowsNamingArgument()
    {
        var ex = Assert.Throws<InvalidRequestException>(() => TwoMoonsPosterior.SampleExact(0, 0, -1, 1));
        Assert.Contains("'n'", ex.Message);
        Assert.Empty(TwoMoonsPosterior.SampleExact(0, 0, 0, 1));
    }

    [Fact]
    public void ScoringObservations_OriginThenTheFirstTestObservations_RefusesMoreThanTen()
    {
        var task = new TwoMoonsTask();
        double[] xs = task.ScoringObservations(2);
        Assert.Equal(6, xs.Length);
        Assert.Equal([0.0, 0.0], xs[..2]);
        Assert.Equal(TwoMoons.TestObservations()[..4], xs[2..]);
        Assert.Throws<InvalidRequestException>(() => task.ScoringObservations(11));
    }

    [Fact]
    public void SampleReferencePosterior_IsSampleExactAtTheObservation()
    {
        var task = TaskCatalog.Get("two_moons");
        Assert.Equal(TwoMoonsPosterior.SampleExact(0.05, -0.1, 500, seed: 3), task.SampleReferencePosterior([0.05, -0.1], 500, seed: 3));
        var e = Assert.Throws<InvalidRequestException>(() => task.SampleReferencePosterior([0.0, 0.0, 0.0], 10, seed: 1));
        Assert.Contains("[2]", e.Message);
    }

    private static double TwoSampleKs(List<double> a, List<double> b)
    {
        double[] x = a.Order().ToArray(), y = b.Order().ToArray();
        int i = 0, j = 0;
        double d = 0;
        while (i < x.Length && j < y.Length)
        {
            double v = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] <= v) i++;
            while (j < y.Length && y[j] <= v) j++;
            d = Math.Max(d, Math.Abs((double)i / x.Length - (double)j / y.Length));
        }
        return d;
    }
}
