using System.Diagnostics;
using OnnxSbi.Diagnostics;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.SampleStatistics;

namespace OnnxSbi.Tasks.Tests;

public sealed class GaussianLinearTests(ITestOutputHelper output)
{
    private const int Dim = 10;
    private static readonly SbiTask Task = TaskCatalog.Get("gaussian_linear");

    [Fact]
    public void Task_Declaration_TenDimensionalThetaAndXWithTheSbibmBudget()
    {
        Assert.IsType<GaussianLinearTask>(Task);
        Assert.Equal(("theta", Dim, "x", Dim), (Task.ParameterName, Task.ParameterDim, Task.ObservationName, Task.ObservationDim));
        Assert.Equal(new TrainingBudget(Batches: 100, BatchSize: 100, ValidationSets: 300), Task.SeedBudget);
        var batch = Task.CreateSimulator(seed: 1).Sample(7, seed: 2);
        Assert.Equal([Dim], batch.SampleShape("theta"));
        Assert.Equal([Dim], batch.SampleShape("x"));
        Assert.Equal(7 * Dim, batch.Get("x").Length);
        Assert.Equal(["prior", "likelihood"], Task.CreateSimulator(1).StepNames);
        Assert.NotSame(Task.CreateAdapter(), Task.CreateAdapter());
    }

    [Fact]
    public void Prior_Moments_ZeroMeanAndVariancePointOnePerCoordinate()
    {
        const int n = 20_000;
        double[] theta = Task.CreateSimulator(1).Sample(n, seed: 3).Get("theta");
        // 5 Monte-Carlo standard errors: a false alarm has probability about 6e-7 per statistic.
        for (int c = 0; c < Dim; c++)
            AssertMoments(Column(theta, Dim, c), mean: 0, variance: 0.1, sigmas: 5, $"theta[{c}]");
        for (int c = 1; c < Dim; c++)
            AssertUncorrelated(Column(theta, Dim, 0), Column(theta, Dim, c), 0.1, 0.1, sigmas: 5, $"theta[0], theta[{c}]");
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
            // x = θ + ε, ε ~ N(0, 0.1) independent of θ, so x ~ N(0, 0.2); tolerances 5 standard errors.
            AssertMoments(Column(noise, Dim, c), mean: 0, variance: 0.1, sigmas: 5, $"noise[{c}]");
            AssertMoments(Column(x, Dim, c), mean: 0, variance: 0.2, sigmas: 5, $"x[{c}]");
            AssertUncorrelated(Column(noise, Dim, c), Column(theta, Dim, c), 0.1, 0.1, sigmas: 5, $"noise[{c}], theta[{c}]");
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

    private static readonly double[] PinnedTheta = [-0.00021284908757727866, 0.051479612967731361, 0.52691540392662117];
    private static readonly double[] PinnedX = [-0.50520026120763051, 0.64749662725921286, -0.25111745087160053];

    [Fact]
    public void ReferencePosterior_Moments_MatchTheClosedFormHalfXAndPointZeroFive()
    {
        const int n = 20_000;
        double[] x = Task.PrimaryObservation();
        double[] draws = Task.SampleReferencePosterior(x, n, seed: 5);
        Assert.Equal(n * Dim, draws.Length);
        // θ | x ~ N(x/2, 0.05·I): 5 standard errors on each mean, variance and covariance.
        for (int c = 0; c < Dim; c++)
            AssertMoments(Column(draws, Dim, c), mean: x[c] / 2, variance: 0.05, sigmas: 5, $"posterior theta[{c}]");
        for (int c = 1; c < Dim; c++)
            AssertUncorrelated(Column(draws, Dim, c - 1), Column(draws, Dim, c), 0.05, 0.05, sigmas: 5, $"posterior theta[{c - 1}], theta[{c}]");
    }

    // sbibm's classifier (two layers of 10·d units) with training capped at 50 epochs: under the null it cannot beat
    // chance on held-out draws however long it trains, and the cap keeps a ten-dimensional score to about a second.
    private static readonly C2stOptions QuickC2st = new(MaxEpochs: 50);

    [Fact]
    public void ReferencePosterior_TwoSeeds_C2stNearOneHalf()
    {
        const int n = 1000;
        double[] x = Task.PrimaryObservation();
        var watch = Stopwatch.StartNew();
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), Task.SampleReferencePosterior(x, n, seed: 2), Dim, QuickC2st);
        output.WriteLine($"C2ST {score:F4} in {watch.Elapsed.TotalSeconds:F1} s");
        // Under the null each of the 2n held-out predictions is right with probability ½: standard error
        // 0.5/√(2n) ≈ 0.011; 4.5 standard errors either side.
        double bound = 4.5 * 0.5 / Math.Sqrt(2 * n);
        Assert.InRange(score, 0.5 - bound, 0.5 + bound);
    }

    [Fact]
    public void ReferencePosterior_AgainstThePriorsVariance_C2stDetectsTheDifference()
    {
        // The same test must reject a wrong posterior: N(x/2, 0.1·I), twice the exact variance. In ten dimensions
        // the likelihood-ratio classifier (on ‖θ − x/2‖²) is right about 78% of the time; 500 draws per set suffice.
        const int n = 500;
        double[] x = Task.PrimaryObservation();
        double[] wrong = Task.SampleReferencePosterior(x, n, seed: 3);
        for (int i = 0; i < wrong.Length; i++) wrong[i] = x[i % Dim] / 2 + Math.Sqrt(2) * (wrong[i] - x[i % Dim] / 2);
        double score = C2st.Score(Task.SampleReferencePosterior(x, n, seed: 1), wrong, Dim, QuickC2st);
        output.WriteLine($"C2ST {score:F4}");
        Assert.True(score > 0.5 + 4.5 * 0.5 / Math.Sqrt(2 * n), $"C2ST {score:F4} does not tell the variance apart");
    }

    [Fact]
    public void ReferencePosterior_SameSeed_SameUniqueRows()
    {
        double[] x = Task.PrimaryObservation();
        double[] a = Task.SampleReferencePosterior(x, 3000, seed: 8);
        Assert.Equal(a, Task.SampleReferencePosterior(x, 3000, seed: 8));
        Assert.NotEqual(a, Task.SampleReferencePosterior(x, 3000, seed: 9));
        Assert.All(a, v => Assert.True(double.IsFinite(v)));
        AssertUniqueRows(a, Dim);
        Assert.Empty(Task.SampleReferencePosterior(x, 0, seed: 8));
    }

    [Fact]
    public void TestObservations_TrueParameters_AreConsistentWithTheExactPosterior()
    {
        double[] thetaStar = GaussianLinear.TrueParameters(), xStar = Task.TestObservations();
        Assert.Equal(Task.NumTestObservations * Dim, thetaStar.Length);
        Assert.Equal(Task.NumTestObservations * Dim, xStar.Length);
        Assert.Equal(xStar[..Dim], Task.PrimaryObservation());
        // θ* drawn from the prior and x* from θ* make θ* a draw of p(θ | x*): the 100 values (θ* − x*/2)/√0.05
        // are standard normal, so their sum of squares lies between the 0.001 and 0.999 quantiles of χ²(100).
        double chi2 = thetaStar.Select((t, i) => Math.Pow(t - xStar[i] / 2, 2) / 0.05).Sum();
        Assert.InRange(chi2, ChiSquareQuantile(100, -3.0902), ChiSquareQuantile(100, 3.0902));
    }

    [Fact]
    public void ReferencePosterior_BadObservation_NamesTaskVariableAndShape()
    {
        var e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior(new double[9], 10, seed: 1));
        Assert.Contains("'x' of task 'gaussian_linear' has shape [10]; received 9 values", e.Message);
        double[] nan = new double[Dim];
        nan[3] = double.NaN;
        e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior(nan, 10, seed: 1));
        Assert.Contains("must be finite; received NaN at index 3", e.Message);
        e = Assert.Throws<InvalidRequestException>(() => Task.SampleReferencePosterior(new double[Dim], -1, seed: 1));
        Assert.Contains("'draws'", e.Message);
    }
}
