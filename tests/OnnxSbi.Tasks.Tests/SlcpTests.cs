using OnnxSbi.Diagnostics;
using OnnxSbi.Tasks.Reference;
using Xunit.Abstractions;
using static OnnxSbi.Tasks.Tests.ReferenceTargets;

namespace OnnxSbi.Tasks.Tests;

public sealed class SlcpTests(ITestOutputHelper output)
{
    [Fact]
    public void Simulator_Outputs_HaveTheDeclaredShapesAndPriorMoments()
    {
        const int n = 20_000;
        var batch = Slcp.CreateSimulator(seed: 1).Sample(n, seed: 1);
        double[] theta = batch.Get(Slcp.Parameters), x = batch.Get(Slcp.Observations);
        Assert.Equal(n * 5, theta.Length);
        Assert.Equal(n * 8, x.Length);
        for (int k = 0; k < 5; k++)
        {
            double[] t = Column(theta, 5, k);
            // U(−3, 3): mean 0 and variance 3; SE(mean) = √(3/n) ≈ 0.012, SE(var) = √((81/5 − 9)/n) ≈ 0.019.
            Assert.All(t, v => Assert.InRange(v, -3.0, 3.0));
            Assert.InRange(Mean(t), -0.06, 0.06);
            Assert.InRange(Variance(t), 3 - 0.1, 3 + 0.1);
        }
    }

    [Fact]
    public void Simulator_PointsWhitenedByTheirCovariance_AreStandardNormal()
    {
        // z = L⁻¹(x_j − m) with S = LLᵀ from the likelihood's own formulas must be iid N(0, 1) whatever θ: this
        // ties the simulator to the density the reference posterior uses.
        const int n = 5000;
        var batch = Slcp.CreateSimulator(seed: 2).Sample(n, seed: 2);
        double[] theta = batch.Get(Slcp.Parameters), x = batch.Get(Slcp.Observations);
        var z1 = new List<double>();
        var z2 = new List<double>();
        for (int i = 0; i < n; i++)
        {
            var t = theta.AsSpan(i * 5, 5);
            var (m1, m2, s11, s12, _) = Slcp.Moments(t);
            double l11 = Math.Sqrt(s11), l21 = s12 / l11, l22 = Math.Sqrt(Slcp.Determinant(t) / s11);
            for (int j = 0; j < 4; j++)
            {
                double a = (x[i * 8 + 2 * j] - m1) / l11;
                z1.Add(a);
                z2.Add((x[i * 8 + 2 * j + 1] - m2 - l21 * a) / l22);
            }
        }
        // 20,000 values each: SE(mean) ≈ 0.007, SE(var) ≈ 0.01, SE(correlation) ≈ 0.007; five of them.
        foreach (var z in new[] { z1.ToArray(), z2.ToArray() })
        {
            Assert.InRange(Mean(z), -0.035, 0.035);
            Assert.InRange(Variance(z), 0.95, 1.05);
        }
        Assert.InRange(z1.Zip(z2, (a, b) => a * b).Average(), -0.035, 0.035);
    }

    [Fact]
    public void LogLikelihood_MatchesTheGaussianDensityAndIsSignSymmetric()
    {
        double[] theta = [0.3, -1.2, 1.1, -0.7, 0.8];
        double[] x = [0.1, -1.0, 0.9, -1.4, 0.2, -0.6, 0.5, -1.1];
        // Direct: S from its entries, det = S11·S22 − S12² (no cancellation at ρ = tanh 0.8), the inverse by cofactors.
        double s1 = 1.1 * 1.1, s2 = 0.7 * 0.7, rho = Math.Tanh(0.8);
        double a = s1 * s1 + 1e-6, b = rho * s1 * s2, c = s2 * s2 + 1e-6, det = a * c - b * b;
        double expected = 0;
        for (int j = 0; j < 4; j++)
        {
            double d1 = x[2 * j] - 0.3, d2 = x[2 * j + 1] + 1.2;
            expected += -Math.Log(2 * Math.PI) - 0.5 * Math.Log(det) - 0.5 * (c * d1 * d1 - 2 * b * d1 * d2 + a * d2 * d2) / det;
        }
        Assert.Equal(expected, Slcp.LogLikelihood(theta, x), 10);
        foreach (var (f3, f4) in new[] { (-1, 1), (1, -1), (-1, -1) })
            Assert.Equal(expected, Slcp.LogLikelihood([0.3, -1.2, f3 * 1.1, f4 * -0.7, 0.8], x), 10);
    }

    [Fact]
    public void TestObservations_FixedSeed_AreTheSimulationsAtTheTrueParameters()
    {
        var task = new SlcpTask();
        double[] truth = task.TrueParameters(), xs = task.TestObservations();
        Assert.Equal(10 * 5, truth.Length);
        Assert.Equal(10 * 8, xs.Length);
        Assert.Equal(xs[..8], task.PrimaryObservation());
        // Regression: the first θ* and x of seed 20,240,612. Stored reference posteriors depend on these values.
        Assert.Equal([1.7131861590405464, -1.6813630665788046, -1.0875534121673371, -2.6520073036143277, 1.4364439115816712], truth[..5]);
        Assert.Equal([1.9677240931202946, 1.8838270714568248, 2.442492288555697, 2.5252290133709563, 2.1950024201746503, -5.336013078327069, 2.3680142862574076, -0.7849880350107001], xs[..8]);
        Assert.Equal(Slcp.CreateSimulator(Slcp.TestSeed).Sample(10, Slcp.TestSeed).Get(Slcp.Observations), xs);
    }

    [Fact]
    public void SampleReferenceRun_TwoSeeds_IndistinguishableByC2stAndEvenOverTheFourModes()
    {
        double[] x = new SlcpTask().PrimaryObservation();
        const int n = 1000;
        var a = SlcpPosterior.Sample(x, n, seed: 1, Quick);
        var b = SlcpPosterior.Sample(x, n, seed: 2, Quick);
        output.WriteLine($"run a: {a.WallTime.TotalSeconds:F2}s, R̂ max {a.Mcmc!.MaxRHat:F4}, ESS min {a.Mcmc.MinBulkEss:F0}, acceptance {a.Rejection!.AcceptanceRate:F4}, exceedances {a.Rejection.Exceedances}");
        Assert.Equal(n * 5, a.Draws.Length);
        Assert.True(a.Mcmc.MaxRHat < 1.02, $"R̂ {a.Mcmc.MaxRHat:F4}");
        Assert.True(a.Mcmc.MinBulkEss > 200, $"ESS {a.Mcmc.MinBulkEss:F0}");
        Assert.Equal(0, a.Rejection.Exceedances);

        // The four sign patterns of (θ3, θ4) each hold a quarter: binomial SE √(n·3/16) ≈ 14; five of them.
        var counts = new int[4];
        for (int i = 0; i < n; i++) counts[(a.Draws[i * 5 + 2] > 0 ? 1 : 0) + (a.Draws[i * 5 + 3] > 0 ? 2 : 0)]++;
        output.WriteLine($"mode counts {string.Join(", ", counts)}");
        Assert.All(counts, c => Assert.InRange(c, n / 4 - 5 * Math.Sqrt(n * 3 / 16.0), n / 4 + 5 * Math.Sqrt(n * 3 / 16.0)));

        // Two independent exact samples: the classifier's accuracy on 2,000 points has SD √(0.25/2000) ≈ 0.011
        // under the null, so ±0.06 leaves about five of them, with room for the MLP's slight overfitting bias.
        double score = C2st.Score(a.Draws, b.Draws, 5, new C2stOptions(Seed: 1, MaxDegreeOfParallelism: 2));
        output.WriteLine($"C2ST {score:F4}");
        Assert.InRange(score, 0.44, 0.56);
    }

    [Fact]
    public void Sample_SameSeed_SameDraws()
    {
        double[] x = new SlcpTask().TestObservations()[8..16];
        var brief = Quick with { Slice = Quick.Slice with { WarmupSweeps = 50, DrawsPerChain = 100 }, Rejection = Quick.Rejection with { MaxComponents = 1 } };
        var a = SlcpPosterior.Sample(x, 100, seed: 4, brief);
        Assert.Equal(a.Draws, SlcpPosterior.Sample(x, 100, seed: 4, brief with { Slice = brief.Slice with { MaxDegreeOfParallelism = 1 } }).Draws);
        Assert.NotEqual(a.Draws, SlcpPosterior.Sample(x, 100, seed: 5, brief).Draws);
    }

    [Fact]
    public void SampleReferencePosterior_WrongObservationShape_NamesTaskVariableAndShapes()
    {
        var task = new SlcpTask();
        var e = Assert.Throws<InvalidRequestException>(() => task.SampleReferencePosterior([0.0, 1.0, 2.0], 10, seed: 1));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("'slcp'", e.Message);
        Assert.Contains("[8]", e.Message);
        Assert.Contains("received 3 values", e.Message);
        Assert.Throws<InvalidRequestException>(() => task.SampleReferencePosterior([0, 0, 0, 0, 0, 0, 0, double.NaN], 10, seed: 1));
    }
}
