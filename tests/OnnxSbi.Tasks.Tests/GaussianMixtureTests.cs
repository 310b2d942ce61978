using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.Simulators;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.SampleStatistics;

namespace OnnxSbi.Tasks.Tests;

public sealed class GaussianMixtureTests(ITestOutputHelper output)
{
    private const int Dim = 2;
    private static readonly double[] Sds = [1.0, 0.1];
    private static readonly SbiTask Task = TaskCatalog.Get("gaussian_mixture");

    [Fact]
    public void Task_Declaration_TwoDimensionalThetaAndXWithTheSbibmBudget()
    {
        Assert.IsType<GaussianMixtureTask>(Task);
        Assert.Equal(("theta", Dim, "x", Dim), (Task.ParameterName, Task.ParameterDim, Task.ObservationName, Task.ObservationDim));
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), Task.SeedBudget);
        var batch = Task.CreateSimulator(seed: 1).Sample(7, seed: 2);
        Assert.Equal([Dim], batch.SampleShape("theta"));
        Assert.Equal([Dim], batch.SampleShape("x"));
        Assert.Equal(["prior", "likelihood"], Task.CreateSimulator(1).StepNames);
        Assert.NotSame(Task.CreateAdapter(), Task.CreateAdapter());
    }

    [Fact]
    public void Prior_Moments_UniformOnMinusTenTen()
    {
        const int n = 20_000;
        double[] theta = Task.CreateSimulator(1).Sample(n, seed: 3).Get("theta");
        Assert.All(theta, t => Assert.InRange(t, -10.0, 10.0));
        // U[−10, 10]: mean 0, variance 100/3; 5 Monte-Carlo standard errors per statistic.
        for (int c = 0; c < Dim; c++)
            AssertMoments(Column(theta, Dim, c), mean: 0, variance: 100.0 / 3, sigmas: 5, $"theta[{c}]");
        AssertUncorrelated(Column(theta, Dim, 0), Column(theta, Dim, 1), 100.0 / 3, 100.0 / 3, sigmas: 5, "theta[0], theta[1]");
    }

    [Fact]
    public void Likelihood_Noise_MixtureVarianceWithOneComponentPerSimulation()
    {
        const int n = 100_000;
        var batch = Task.CreateSimulator(1).Sample(n, seed: 4);
        double[] theta = batch.Get("theta"), x = batch.Get("x");
        double[] r0 = Enumerable.Range(0, n).Select(i => x[2 * i] - theta[2 * i]).ToArray();
        double[] r1 = Enumerable.Range(0, n).Select(i => x[2 * i + 1] - theta[2 * i + 1]).ToArray();
        // Each coordinate's noise is ½·N(0, 1) + ½·N(0, 0.01): mean 0, variance 0.505; 5 standard errors.
        AssertMoments(r0, mean: 0, variance: 0.505, sigmas: 5, "noise[0]");
        AssertMoments(r1, mean: 0, variance: 0.505, sigmas: 5, "noise[1]");
        // Both coordinates share the component, so their squares covary: E[r0²r1²] − E[r0²]E[r1²] =
        // ½·1·1 + ½·0.01·0.01 − 0.505² = 0.245025 (0 if each coordinate drew its own component). Standard error
        // from the sample: the spread of the centred products over √n; 5 standard errors.
        double m0 = r0.Average(v => v * v), m1 = r1.Average(v => v * v);
        double[] products = Enumerable.Range(0, n).Select(i => (r0[i] * r0[i] - m0) * (r1[i] * r1[i] - m1)).ToArray();
        double cov = products.Average();
        double se = Math.Sqrt(products.Sum(p => (p - cov) * (p - cov)) / n / n);
        Assert.True(Math.Abs(cov - 0.245025) <= 5 * se, $"cov(r0², r1²) = {cov:F4}, expected 0.245025 ± 5·{se:F4}");
    }

    [Fact]
    public void Simulator_FixedSeed_ReproducesPinnedValues()
    {
        // Pinned from this implementation: any change to the draw order or the constants shows here. Row 0 drew
        // the narrow component (x − θ ≈ (0.07, 0.10)), rows 1 and 2 the broad one.
        var batch = Task.CreateSimulator(1).Sample(3, seed: 9);
        Assert.Equal(PinnedTheta, batch.Get("theta"));
        Assert.Equal(PinnedX, batch.Get("x"));
    }

    private static readonly double[] PinnedTheta = [-9.948331206285728, -4.970212551682851, -7.35075499774209, 4.6538885074174825, 8.4117003644937, 4.888174216666798];
    private static readonly double[] PinnedX = [-9.878389794212383, -4.874653568730184, -5.684502187106338, 4.540387117138232, 9.952846335167102, 4.1929628593281745];

    /// <summary>
    /// The posterior's mean and variance per coordinate by quadrature: component k has weight ∝ P_k (its mass on
    /// the box), and within it the coordinates are independent truncated normals.
    /// </summary>
    private static (double BroadWeight, double[] Mean, double[] Variance) ExactMoments(double[] x)
    {
        var parts = Sds.Select(sd => x.Select(v => Quadrature.TruncatedNormal(v, sd, -10, 10)).ToArray()).ToArray();
        double logP0 = parts[0].Sum(p => p.LogMass), logP1 = parts[1].Sum(p => p.LogMass);
        double w0 = 1 / (1 + Math.Exp(logP1 - logP0));
        double[] w = [w0, 1 - w0];
        var mean = new double[Dim];
        var variance = new double[Dim];
        for (int d = 0; d < Dim; d++)
        {
            mean[d] = w[0] * parts[0][d].Mean + w[1] * parts[1][d].Mean;
            double second = w[0] * (parts[0][d].Variance + parts[0][d].Mean * parts[0][d].Mean) + w[1] * (parts[1][d].Variance + parts[1][d].Mean * parts[1][d].Mean);
            variance[d] = second - mean[d] * mean[d];
        }
        return (w0, mean, variance);
    }

    [Theory]
    [InlineData(double.NaN, double.NaN)] // the primary observation
    [InlineData(0.0, 0.0)]
    [InlineData(9.95, 9.95)]     // the box cuts both components: weights 0.36 and 0.64
    [InlineData(10.3, 10.05)]    // just outside: the narrow component keeps 0.2% of the mass
    [InlineData(-11.5, 2.0)]
    [InlineData(60.0, -45.0)]    // far outside: only the broad component's tail reaches the corner
    public void ReferencePosterior_Moments_MatchTheTruncatedMixtureByQuadrature(double x0, double x1)
    {
        const int n = 20_000;
        double[] x = double.IsNaN(x0) ? Task.PrimaryObservation() : [x0, x1];
        var (broad, mean, variance) = ExactMoments(x);
        // The weight from the library's closed form (Φ differences) against quadrature: 1e-7 absolute covers
        // Simpson's error on the masses.
        Assert.Equal(broad, GaussianMixturePosterior.BroadWeight(x), 1e-7);
        double[] draws = Task.SampleReferencePosterior(x, n, seed: 5);
        Assert.All(draws, t => Assert.InRange(t, -10.0, 10.0));
        output.WriteLine($"x = ({x[0]}, {x[1]}): broad weight {broad:F4}, mean ({mean[0]:F4}, {mean[1]:F4}), variance ({variance[0]:G4}, {variance[1]:G4})");
        // 5 Monte-Carlo standard errors on each mean and variance.
        for (int d = 0; d < Dim; d++)
            AssertMoments(Column(draws, Dim, d), mean[d], variance[d], sigmas: 5, $"posterior theta[{d}]");
    }

    /// <summary>sbibm's reference sampler, written out: pick a component with probability ½, draw N(x, σ²I), keep it inside the box.</summary>
    private static double[] SbibmRejection(double[] x, int n, ulong seed)
    {
        var random = new SimulationRandom(seed);
        var kept = new List<double>();
        while (kept.Count < n * Dim)
        {
            double sd = Sds[random.NextDouble() < 0.5 ? 0 : 1];
            double t0 = random.NextNormal(x[0], sd), t1 = random.NextNormal(x[1], sd);
            if (Math.Abs(t0) <= 10 && Math.Abs(t1) <= 10) kept.AddRange([t0, t1]);
        }
        return kept.ToArray();
    }

    [Theory]
    [InlineData(double.NaN, double.NaN)]
    [InlineData(9.95, 9.95)]
    public void ReferencePosterior_MatchesSbibmsRejectionSampler(double x0, double x1)
    {
        // 2,000 draws per set: a two-dimensional classifier (two layers of 20 units) trains in about a second.
        const int n = 2000;
        double[] x = double.IsNaN(x0) ? Task.PrimaryObservation() : [x0, x1];
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), SbibmRejection(x, n, seed: 2), Dim);
        output.WriteLine($"C2ST against rejection at ({x[0]}, {x[1]}): {score:F4}");
        // Under the null the held-out accuracy has standard error 0.5/√(2n) ≈ 0.008; 4.5 standard errors.
        double bound = 4.5 * 0.5 / Math.Sqrt(2 * n);
        Assert.InRange(score, 0.5 - bound, 0.5 + bound);
    }

    [Fact]
    public void ReferencePosterior_TwoSeeds_C2stNearOneHalf()
    {
        const int n = 2000;
        double[] x = Task.PrimaryObservation();
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), Task.SampleReferencePosterior(x, n, seed: 2), Dim);
        output.WriteLine($"C2ST {score:F4}");
        // Standard error 0.5/√(2n) ≈ 0.008 under the null; 4.5 standard errors either side.
        double bound = 4.5 * 0.5 / Math.Sqrt(2 * n);
        Assert.InRange(score, 0.5 - bound, 0.5 + bound);
    }

    [Fact]
    public void ReferencePosterior_SameSeed_SameUniqueRows()
    {
        double[] x = Task.PrimaryObservation();
        double[] a = Task.SampleReferencePosterior(x, 5000, seed: 8);
        Assert.Equal(a, Task.SampleReferencePosterior(x, 5000, seed: 8));
        Assert.NotEqual(a, Task.SampleReferencePosterior(x, 5000, seed: 9));
        AssertUniqueRows(a, Dim);
    }

    [Fact]
    public void TestObservations_TrueParameters_ThePriorPredictiveDrawOfSeed104()
    {
        double[] thetaStar = GaussianMixture.TrueParameters(), xStar = Task.TestObservations();
        var batch = Task.CreateSimulator(104).Sample(10, seed: 104);
        Assert.Equal(batch.Get("theta"), thetaStar);
        Assert.Equal(batch.Get("x"), xStar);
        Assert.Equal(xStar[..Dim], Task.PrimaryObservation());
        Assert.All(thetaStar, t => Assert.InRange(t, -10.0, 10.0));
    }

    [Fact]
    public void ReferencePosterior_BadObservation_NamesTaskVariableAndShape()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior([1.0], 10, seed: 1));
        Assert.Contains("'x' of task 'gaussian_mixture' has shape [2]; received 1 values", e.Message);
        e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior([0.0, double.NaN], 10, seed: 1));
        Assert.Contains("must be finite; received NaN at index 1 of [2]", e.Message);
        e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior([1e200, 0.0], 10, seed: 1));
        Assert.Contains("too far from the prior box", e.Message);
    }
}
