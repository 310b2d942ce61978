using OnnxSbi.Diagnostics;
using Xunit.Abstractions;
using static OnnxSbi.TestSupport.ConjugateGaussian;

namespace OnnxSbi.Runtime.Tests.Diagnostics;

public sealed class PosteriorDiagnosticsTests(ITestOutputHelper output) : IDisposable
{
    // N = 500 datasets × S = 200 draws: 100k draws of a one-pass coupling graph, well under a second.
    private const int Datasets = 500;
    private const int Draws = 200;

    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-diag-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly DiagnosticsOptions Options = new() { NumDatasets = Datasets, NumDraws = Draws, Seed = 11 };

    private DiagnosticsReport Run(double varianceScale = 1, double shift = 0)
    {
        using var model = PosteriorModel.Load(WriteBundle(dir, varianceScale, shift));
        var report = PosteriorDiagnostics.Run(model, CreateSimulator(0), Options);
        foreach (var p in report.Parameters)
            output.WriteLine($"{p.Name}: band {p.WithinBand} chi2 p {p.ChiSquarePValue:G3} cal.err {p.CalibrationError:F4} cov {p.Coverage50:F3}/{p.Coverage80:F3}/{p.Coverage95:F3} " +
                             $"contraction {p.MeanContraction:F3} R2 {p.RSquared:F3} nrmse {p.Nrmse:F4} z mean {p.MeanZScore:F3} sd {p.ZScoreSd:F3} med|z| {p.MedianAbsZScore:F3}");
        output.WriteLine($"timings {report.Timings}");
        return report;
    }

    [Fact]
    public void Calibrated_ExactPosterior_PassesBandAndHasSmallCalibrationError()
    {
        var report = Run();
        Assert.Equal(["theta[0]", "theta[1]"], report.Parameters.Select(p => p.Name));
        // One batched sampling call over all datasets: the draws cover every condition.
        Assert.Equal(Datasets, report.Draws.NumConditions);
        Assert.Equal(Draws, report.Draws.NumDraws);
        foreach (var p in report.Parameters)
        {
            // The seed is fixed, so this is deterministic; for a random seed an exact posterior stays in
            // the 95% band for each parameter with probability 0.95 by construction.
            Assert.True(p.WithinBand, $"{p.Name} left the band");
            Assert.True(p.ChiSquarePValue > 0.01, $"{p.Name}: chi-square p = {p.ChiSquarePValue}");
            // Coverage at each level has sd ≤ √(0.25/500) = 0.022; the median of 20 absolute errors is
            // about 0.015, so 0.05 leaves room while a miscalibrated sampler is above 0.1.
            Assert.True(p.CalibrationError < 0.05, $"{p.Name}: calibration error {p.CalibrationError}");
            // Binomial sd of a coverage with N = 500 is at most 0.022; three of them is 0.067.
            Assert.InRange(p.Coverage50, 0.5 - 0.067, 0.5 + 0.067);
            Assert.InRange(p.Coverage80, 0.8 - 0.054, 0.8 + 0.054);
            Assert.InRange(p.Coverage95, 0.95 - 0.03, 0.95 + 0.03);
            // Exact values for this task: contraction 1 − v/τ² = 0.8 and R² of the posterior mean (≈ median)
            // 1 − E[(θ − kx)²]/τ² = 0.8. The prior variance estimated from 500 draws has relative sd
            // √(2/500) = 0.063, moving both by about 0.2·0.063 = 0.013; 0.04 is three of those.
            Assert.Equal(1 - PosteriorVariance / (Tau * Tau), p.MeanContraction, 0.04);
            Assert.Equal(1 - PosteriorVariance / (Tau * Tau), p.RSquared, 0.04);
            // z-scores of a calibrated posterior are standard normal: sd 1 (±3/√(2N) = 0.095), median |z|
            // 0.674 (the half-normal median, sd ≈ 0.03 at N = 500).
            Assert.Equal(1.0, p.ZScoreSd, 0.1);
            Assert.Equal(0.674, p.MedianAbsZScore, 0.1);
        }
    }

    [Fact]
    public void Overconfident_HalfVariance_FailsBandAndCalibration()
    {
        var report = Run(varianceScale: 0.5);
        foreach (var p in report.Parameters)
        {
            // Draws too narrow by √2: ranks pile up at 0 and S, and a central α interval covers
            // 2Φ(z_α/√2) − 1 < α (e.g. 0.37 at α = 0.5).
            Assert.False(p.WithinBand, $"{p.Name} stayed in the band");
            Assert.True(p.ChiSquarePValue < 1e-6, $"{p.Name}: chi-square p = {p.ChiSquarePValue}");
            // The population value on BayesFlow's 20-level grid is 0.119; 0.08 leaves three binomial sds.
            Assert.True(p.CalibrationError > 0.08, $"{p.Name}: calibration error {p.CalibrationError}");
            Assert.True(p.Coverage50 < 0.45, $"{p.Name}: 50% coverage {p.Coverage50}");
            // z-scores have sd √2 ≈ 1.41.
            Assert.Equal(Math.Sqrt(2), p.ZScoreSd, 0.12);
        }
        Assert.False(report.AllWithinBand);
    }

    [Fact]
    public void Biased_MeanShiftedByOnePosteriorSd_FailsBandAndCalibration()
    {
        var report = Run(shift: Math.Sqrt(PosteriorVariance));
        foreach (var p in report.Parameters)
        {
            // Ranks of a posterior shifted up by one sd are Φ(Z − 1): ECDF − uniform reaches Φ(0.5) − 0.5
            // ≈ 0.19 at the middle, against a band half-width of about 0.06 at N = 500.
            Assert.False(p.WithinBand, $"{p.Name} stayed in the band");
            // The population value on BayesFlow's 20-level grid is 0.145.
            Assert.True(p.CalibrationError > 0.1, $"{p.Name}: calibration error {p.CalibrationError}");
            // z-scores are N(1, 1): their mean has sd 1/√500 = 0.045; 0.15 is over three of those.
            Assert.Equal(1.0, p.MeanZScore, 0.15);
            Assert.True(p.EcdfDifference.Max() > 0.12, $"{p.Name}: largest ECDF difference {p.EcdfDifference.Max()}");
        }
    }

    [Fact]
    public void TestSet_SameRowsAsSimulator_GivesIdenticalRanks()
    {
        using var model = PosteriorModel.Load(WriteBundle(dir));
        var fromSimulator = PosteriorDiagnostics.Run(model, CreateSimulator(0), Options);
        // The simulator path simulates Sample(N, seed); the same rows given as a stored test set must give
        // the same draws (same derived sampling seed) and so the same ranks.
        var testSet = CreateSimulator(0).Sample(Datasets, Options.Seed);
        var fromTestSet = PosteriorDiagnostics.Run(model, testSet, Options with { NumDatasets = null });
        Assert.Equal("test set", fromTestSet.Source);
        for (int j = 0; j < 2; j++)
        {
            Assert.Equal(fromSimulator.Parameters[j].Ranks, fromTestSet.Parameters[j].Ranks);
            Assert.Equal(fromSimulator.Parameters[j].CalibrationError, fromTestSet.Parameters[j].CalibrationError);
        }
    }

    [Fact]
    public void Metrics_RecomputedFromPerDatasetArrays_Agree()
    {
        var report = Run();
        var p = report["theta[1]"];
        int n = p.Truth.Length;
        double range = p.Truth.Max() - p.Truth.Min();
        double rmse = Math.Sqrt(p.Truth.Zip(p.PosteriorMedian, (t, m) => (t - m) * (t - m)).Average());
        double mean = p.Truth.Average();
        double variance = p.Truth.Sum(t => (t - mean) * (t - mean)) / (n - 1);
        // Same formulas summed in another order: agreement to rounding.
        Assert.Equal(rmse / range, p.Nrmse, 1e-12);
        Assert.Equal(1 - rmse * rmse * n / (variance * (n - 1)), p.RSquared, 1e-12);
        Assert.Equal(variance, p.PriorVariance, 1e-12);
        for (int i = 0; i < n; i++)
        {
            Assert.InRange(p.Ranks[i], 0, Draws);
            Assert.Equal((p.PosteriorMean[i] - p.Truth[i]) / p.PosteriorSd[i], p.ZScore[i], 1e-12);
            Assert.Equal(1 - p.PosteriorSd[i] * p.PosteriorSd[i] / variance, p.Contraction[i], 1e-9);
            Assert.True(p.Quantile05[i] <= p.PosteriorMedian[i] && p.PosteriorMedian[i] <= p.Quantile95[i]);
        }
        // Coverage is monotone in the level (nested central intervals).
        for (int l = 1; l < p.Coverage.Length; l++) Assert.True(p.Coverage[l] >= p.Coverage[l - 1]);
    }

    [Fact]
    public void MissingCondition_InTestSet_NamesTheVariable()
    {
        using var model = PosteriorModel.Load(WriteBundle(dir));
        var testSet = new ArrayBatch(10).Set("theta", new double[20], 2);
        var e = Assert.Throws<OnnxSbiException>(() => PosteriorDiagnostics.Run(model, testSet, Options with { NumDatasets = null }));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void WrongShape_InTestSet_IsRefusedWithBothShapes()
    {
        using var model = PosteriorModel.Load(WriteBundle(dir));
        var testSet = new ArrayBatch(10).Set("theta", new double[30], 3).Set("x", new double[20], 2);
        var e = Assert.Throws<ShapeMismatchException>(() => PosteriorDiagnostics.Run(model, testSet, Options with { NumDatasets = null }));
        Assert.Equal("theta", e.VariableName);
        Assert.Contains("[rows, 2]", e.Message);
        Assert.Contains("[10, 3]", e.Message);
    }

    [Fact]
    public void MoreDatasetsThanTestRows_IsRefused()
    {
        using var model = PosteriorModel.Load(WriteBundle(dir));
        var testSet = CreateSimulator(0).Sample(10, 1);
        var e = Assert.Throws<InvalidRequestException>(() => PosteriorDiagnostics.Run(model, testSet, Options with { NumDatasets = 20 }));
        Assert.Contains("10 rows", e.Message);
    }
}
