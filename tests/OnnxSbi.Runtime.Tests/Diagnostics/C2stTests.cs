using System.Diagnostics;
using OnnxSbi.Diagnostics;
using OnnxSbi.Runtime.Noise;
using Xunit.Abstractions;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public class C2stTests(ITestOutputHelper output)
{
    /// <summary>n rows of N(shift, I_dim), row-major.</summary>
    private static double[] Gaussian(int n, int dim, ulong seed, double[]? shift = null)
    {
        var z = new float[n * dim];
        new NormalGenerator(seed).Fill(z);
        var x = new double[n * dim];
        for (int i = 0; i < x.Length; i++) x[i] = z[i] + (shift?[i % dim] ?? 0.0);
        return x;
    }

    private static string Describe(C2st.Result r)
        => $"score {r.Score:F4}; folds (accuracy/epochs/loss): {string.Join(", ", r.Folds.Select(f => $"{f.Accuracy:F3}/{f.Epochs}/{f.FinalLoss:F3}"))}";

    [Fact]
    public void Score_SameDistribution_NearOneHalf()
    {
        const int n = 5000;
        var result = C2st.Run(Gaussian(n, 2, 1), Gaussian(n, 2, 2), 2, new C2stOptions());
        output.WriteLine(Describe(result));
        // Each of the 2n points is predicted once, by a classifier that never saw it, and under the null its
        // label is independent of that prediction: the accuracy has standard error 0.5/√(2n) = 0.005.
        // Tolerance 4.5 standard errors.
        Assert.InRange(result.Score, 0.5 - 4.5 * 0.5 / Math.Sqrt(2 * n), 0.5 + 4.5 * 0.5 / Math.Sqrt(2 * n));
    }

    [Fact]
    public void Score_WellSeparatedDistributions_NearOne()
    {
        const int n = 2000;
        double score = C2st.Score(Gaussian(n, 3, 3), Gaussian(n, 3, 4, [6.0, 6.0, 6.0]), 3);
        output.WriteLine($"score {score:F4}");
        // The Bayes accuracy is Φ(‖δ‖/2) = Φ(5.2) ≈ 1 − 1e-7; 0.995 leaves room for a few boundary errors.
        Assert.True(score > 0.995, $"score {score}");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Score_TenThousandPerSetMeanShift_MatchesBayesAccuracy(double delta)
    {
        // Two unit-covariance Gaussians whose means differ by δ are best separated by the bisecting
        // hyperplane, with accuracy Φ(δ/2) (0.6915 for δ = 1, 0.8413 for δ = 2).
        const int n = 10_000;
        var result = C2st.Run(Gaussian(n, 2, 5), Gaussian(n, 2, 6, [delta / Math.Sqrt(2), delta / Math.Sqrt(2)]), 2, new C2stOptions());
        double bayes = Statistics.NormalCdf(delta / 2);
        output.WriteLine($"{Describe(result)}; Bayes {bayes:F4}");
        // Tolerance: 4 binomial standard errors √(p(1−p)/2n) (0.0033 and 0.0026) for the finite test set,
        // plus 0.005 below for the network's shortfall from the exact hyperplane after early stopping.
        double se = Math.Sqrt(bayes * (1 - bayes) / (2 * n));
        Assert.InRange(result.Score, bayes - 4 * se - 0.005, bayes + 4 * se);
    }

    [Fact]
    public void Score_SameSeed_IdenticalForAnyThreadCount()
    {
        var reference = Gaussian(1000, 2, 7);
        var model = Gaussian(1000, 2, 8, [0.5, 0.0]);
        double a = C2st.Score(reference, model, 2, new C2stOptions(Seed: 3, MaxDegreeOfParallelism: 1));
        double b = C2st.Score(reference, model, 2, new C2stOptions(Seed: 3, MaxDegreeOfParallelism: -1));
        double c = C2st.Score(reference, model, 2, new C2stOptions(Seed: 4));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Score_ZScoring_InvariantToCommonAffineMap()
    {
        // z-scoring with the reference's statistics makes the test blind to a shared shift and scale.
        var reference = Gaussian(1000, 2, 11);
        var model = Gaussian(1000, 2, 12, [0.7, 0.0]);
        double plain = C2st.Score(reference, model, 2, new C2stOptions(Seed: 2));
        double[] Map(double[] x) => x.Select((v, i) => i % 2 == 0 ? 100 * v + 5 : 0.01 * v - 3).ToArray();
        double mapped = C2st.Score(Map(reference), Map(model), 2, new C2stOptions(Seed: 2));
        // The standardized inputs agree up to float rounding, which can flip a few of the 2000 predictions
        // through the training trajectory; 0.01 is five of ~1000 borderline points per fold in either direction.
        Assert.Equal(plain, mapped, 0.01);
    }

    [Fact]
    public void StratifiedFolds_PartitionBothSetsEvenly()
    {
        int[][] folds = C2st.StratifiedFolds(103, 52, 5, seed: 1);
        Assert.Equal(Enumerable.Range(0, 155), folds.SelectMany(f => f).Order());
        for (int f = 0; f < 5; f++)
        {
            int refCount = folds[f].Count(i => i < 103);
            Assert.Equal(103 / 5 + (f < 103 % 5 ? 1 : 0), refCount);
            Assert.Equal(52 / 5 + (f < 52 % 5 ? 1 : 0), folds[f].Length - refCount);
        }
    }

    [Fact]
    public void Score_RowsNotMultipleOfDim_ThrowsShapeMismatch()
    {
        var ex = Assert.Throws<ShapeMismatchException>(() => C2st.Score(new double[20], new double[21], 2));
        Assert.Equal("model", ex.VariableName);
    }

    [Fact]
    public void Score_NonFiniteDraw_ThrowsNamingSetAndRow()
    {
        var model = Gaussian(50, 2, 1);
        model[2 * 17 + 1] = double.NaN;
        var ex = Assert.Throws<NonFiniteValueException>(() => C2st.Score(Gaussian(50, 2, 2), model, 2));
        Assert.Equal(("model", 17), (ex.VariableName, ex.Row));
    }

    [Fact]
    public void Score_ConstantReferenceDimension_ThrowsExplaining()
    {
        var reference = Gaussian(50, 2, 1);
        for (int i = 0; i < 50; i++) reference[2 * i + 1] = 4.0;
        var ex = Assert.Throws<InvalidRequestException>(() => C2st.Score(reference, Gaussian(50, 2, 2), 2));
        Assert.Contains("dimension 1", ex.Message);
    }

    [Theory]
    [InlineData(1, "Folds")]
    [InlineData(0, "MaxEpochs")]
    public void Options_OutOfRange_ThrowNamingOption(int value, string option)
    {
        var options = option == "Folds" ? new C2stOptions(Folds: value) : new C2stOptions(MaxEpochs: value);
        var ex = Assert.Throws<InvalidRequestException>(options.Validate);
        Assert.Contains($"'{option}'", ex.Message);
    }
}
