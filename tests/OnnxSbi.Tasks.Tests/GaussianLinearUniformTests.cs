using System.Diagnostics;
using OnnxSbi.Diagnostics;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.SampleStatistics;

namespace OnnxSbi.Tasks.Tests;

public sealed class GaussianLinearUniformTests(ITestOutputHelper output)
{
    private const int Dim = 10;
    private static readonly double NoiseSd = Math.Sqrt(0.1);
    private static readonly SbiTask Task = TaskCatalog.Get("gaussian_linear_uniform");

    [Fact]
    public void Task_Declaration_TenDimensionalThetaAndXWithTheSbibmBudget()
    {
        Assert.IsType<GaussianLinearUniformTask>(Task);
        Assert.Equal(("theta", Dim, "x", Dim), (Task.ParameterName, Task.ParameterDim, Task.ObservationName, Task.ObservationDim));
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), Task.SeedBudget);
        var batch = Task.CreateSimulator(seed: 1).Sample(7, seed: 2);
        Assert.Equal([Dim], batch.SampleShape("theta"));
        Assert.Equal([Dim], batch.SampleShape("x"));
        Assert.Equal(["prior", "likelihood"], Task.CreateSimulator(1).StepNames);
        Assert.NotSame(Task.CreateAdapter(), Task.CreateAdapter());
    }

    [Fact]
    public void Prior_Moments_UniformOnMinusOneOne()
    {
        const int n = 20_000;
        double[] theta = Task.CreateSimulator(1).Sample(n, seed: 3).Get("theta");
        Assert.All(theta, t => Assert.InRange(t, -1.0, 1.0));
        // U[−1, 1]: mean 0, variance 1/3; 5 Monte-Carlo standard errors per statistic.
        for (int c = 0; c < Dim; c++)
            AssertMoments(Column(theta, Dim, c), mean: 0, variance: 1.0 / 3, sigmas: 5, $"theta[{c}]");
        for (int c = 1; c < Dim; c++)
            AssertUncorrelated(Column(theta, Dim, 0), Column(theta, Dim, c), 1.0 / 3, 1.0 / 3, sigmas: 5, $"theta[0], theta[{c}]");
    }

    [Fact]
    public void Likelihood_Noise_ZeroMeanVariancePointOneIndependentOfTheta()
    {
        const int n = 20_000;
        var batch = Task.CreateSimulator(1).Sample(n, seed: 4);
        double[] theta = batch.Get("theta"), x = batch.Get("x");
        double[] noise = x.Select((v, i) => v - theta[i]).ToArray();
        for (int c = 0; c < Dim; c++)
        {
            // x = θ + ε, ε ~ N(0, 0.1) independent of θ, so Var x = 1/3 + 0.1; 5 standard errors.
            AssertMoments(Column(noise, Dim, c), mean: 0, variance: 0.1, sigmas: 5, $"noise[{c}]");
            AssertMoments(Column(x, Dim, c), mean: 0, variance: 1.0 / 3 + 0.1, sigmas: 5, $"x[{c}]");
            AssertUncorrelated(Column(noise, Dim, c), Column(theta, Dim, c), 0.1, 1.0 / 3, sigmas: 5, $"noise[{c}], theta[{c}]");
        }
    }

    [Fact]
    public void Simulator_FixedSeed_ReproducesPinnedValues()
    {
        // Pinned from this implementation: any change to the draw order or the constants shows here.
        var batch = Task.CreateSimulator(1).Sample(2, seed: 9);
        double[] theta = batch.Get("theta"), x = batch.Get("x");
        Assert.Equal(PinnedTheta, new[] { theta[0], theta[9], theta[10] });
        Assert.Equal(PinnedX, new[] { x[0], x[9], x[19] });
    }

    private static readonly double[] PinnedTheta = [-0.99483312062857276, -0.092365524013327427, 0.50415570192659964];
    private static readonly double[] PinnedX = [-1.499820532748626, 0.50365149027815403, 1.0185166367225502];

    /// <summary>
    /// An observation whose coordinates lie inside the box, at its edges, outside it and far outside it, so that
    /// every branch of the truncated-normal sampler is used.
    /// </summary>
    private static readonly double[] EdgeObservation = [0.0, 0.9, -0.95, 1.3, -1.6, 2.5, -4.0, 12.0, -40.0, 0.3];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReferencePosterior_Moments_MatchTruncatedNormalsByQuadrature(bool edge)
    {
        const int n = 20_000;
        double[] x = edge ? EdgeObservation : Task.PrimaryObservation();
        double[] draws = Task.SampleReferencePosterior(x, n, seed: 5);
        Assert.All(draws, t => Assert.InRange(t, -1.0, 1.0));
        // Each coordinate is N(x_c, 0.1) truncated to [−1, 1]; mean and variance by quadrature, 5 standard errors.
        for (int c = 0; c < Dim; c++)
        {
            var (_, mean, variance) = Quadrature.TruncatedNormal(x[c], NoiseSd, -1, 1);
            AssertMoments(Column(draws, Dim, c), mean, variance, sigmas: 5, $"posterior theta[{c}] at x = {x[c]}");
        }
        for (int c = 1; c < Dim; c++)
        {
            double va = Quadrature.TruncatedNormal(x[c - 1], NoiseSd, -1, 1).Variance, vb = Quadrature.TruncatedNormal(x[c], NoiseSd, -1, 1).Variance;
            AssertUncorrelated(Column(draws, Dim, c - 1), Column(draws, Dim, c), va, vb, sigmas: 5, $"posterior theta[{c - 1}], theta[{c}]");
        }
    }

    [Fact]
    public void ReferencePosterior_MatchesSbibmsRejectionSampler()
    {
        // sbibm's own method, written out here: draw θ ~ N(x, 0.1·I) until all ten coordinates lie in the box.
        // At the primary observation it accepts often enough; both sets must be indistinguishable.
        const int n = 1000;
        double[] x = Task.PrimaryObservation();
        var random = new Runtime.Simulators.SimulationRandom(77);
        var rejection = new List<double>();
        var row = new double[Dim];
        while (rejection.Count < n * Dim)
        {
            for (int c = 0; c < Dim; c++) row[c] = random.NextNormal(x[c], NoiseSd);
            if (row.All(t => t >= -1 && t <= 1)) rejection.AddRange(row);
        }
        var watch = Stopwatch.StartNew();
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), rejection.ToArray(), Dim, QuickC2st);
        output.WriteLine($"C2ST against rejection {score:F4} in {watch.Elapsed.TotalSeconds:F1} s");
        // Under the null the held-out accuracy has standard error 0.5/√(2n) ≈ 0.011; 4.5 standard errors.
        double bound = 4.5 * 0.5 / Math.Sqrt(2 * n);
        Assert.InRange(score, 0.5 - bound, 0.5 + bound);
    }

    // sbibm's classifier (two layers of 10·d units) with training capped at 50 epochs: under the null it cannot beat
    // chance on held-out draws however long it trains, and the cap keeps a ten-dimensional score to about a second.
    private static readonly C2stOptions QuickC2st = new(MaxEpochs: 50);

    [Fact]
    public void ReferencePosterior_TwoSeeds_C2stNearOneHalf()
    {
        const int n = 1000;
        double[] x = EdgeObservation;
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), Task.SampleReferencePosterior(x, n, seed: 2), Dim, QuickC2st);
        output.WriteLine($"C2ST {score:F4}");
        // Standard error 0.5/√(2n) ≈ 0.011 under the null; 4.5 standard errors either side.
        double bound = 4.5 * 0.5 / Math.Sqrt(2 * n);
        Assert.InRange(score, 0.5 - bound, 0.5 + bound);
    }

    [Fact]
    public void ReferencePosterior_SameSeed_SameUniqueRows()
    {
        double[] a = Task.SampleReferencePosterior(EdgeObservation, 3000, seed: 8);
        Assert.Equal(a, Task.SampleReferencePosterior(EdgeObservation, 3000, seed: 8));
        Assert.NotEqual(a, Task.SampleReferencePosterior(EdgeObservation, 3000, seed: 9));
        AssertUniqueRows(a, Dim);
    }

    [Fact]
    public void TestObservations_TrueParameters_InsideTheBoxAndConsistentWithTheNoise()
    {
        double[] thetaStar = GaussianLinearUniform.TrueParameters(), xStar = Task.TestObservations();
        Assert.Equal(Task.NumTestObservations * Dim, thetaStar.Length);
        Assert.Equal(Task.NumTestObservations * Dim, xStar.Length);
        Assert.Equal(xStar[..Dim], Task.PrimaryObservation());
        Assert.All(thetaStar, t => Assert.InRange(t, -1.0, 1.0));
        // x* − θ* are 100 draws of N(0, 0.1): their scaled sum of squares lies within χ²(100)'s 0.001 and 0.999 quantiles.
        double chi2 = thetaStar.Select((t, i) => Math.Pow(xStar[i] - t, 2) / 0.1).Sum();
        Assert.InRange(chi2, ChiSquareQuantile(100, -3.0902), ChiSquareQuantile(100, 3.0902));
    }

    [Fact]
    public void ReferencePosterior_BadObservation_NamesTaskVariableAndShape()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior(new double[11], 10, seed: 1));
        Assert.Contains("'x' of task 'gaussian_linear_uniform' has shape [10]; received 11 values", e.Message);
        double[] inf = new double[Dim];
        inf[0] = double.PositiveInfinity;
        e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior(inf, 10, seed: 1));
        Assert.Contains("must be finite; received", e.Message);
        Assert.Contains("at index 0 of [10]", e.Message);
    }
}
