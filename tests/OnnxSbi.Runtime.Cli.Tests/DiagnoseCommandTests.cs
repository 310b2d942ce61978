using System.Text.Json;
using OnnxSbi.Diagnostics;

namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class DiagnoseCommandTests : IDisposable
{
    private static readonly string[] Figures = ["recovery.png", "calibration_ecdf.png", "z_score_contraction.png", "coverage.png", "pairs.png", "loss.png"];

    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-diagnose-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Diagnose_TestSetOnExactPosterior_WritesReportTableAndFigures()
    {
        string model = ConjugateGaussian.WriteBundle(dir);
        string testSet = ConjugateGaussian.WriteTestSet(dir, 300, seed: 4);
        string outDir = Path.Combine(dir, "out");
        var (code, _, stderr) = Onnxsbi.InProcess("diagnose", "--model", model, "--test-set", testSet, "--datasets", "200", "--draws", "100", "--seed", "5", "--out-dir", outDir);
        Assert.True(code == 0, stderr);

        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "diagnostics.json")));
        var root = json.RootElement;
        Assert.Equal(200, root.GetProperty("datasets").GetInt32());
        Assert.Equal(100, root.GetProperty("draws").GetInt32());
        var parameters = root.GetProperty("parameters").EnumerateArray().ToList();
        Assert.Equal(["theta[0]", "theta[1]"], parameters.Select(p => p.GetProperty("name").GetString()));
        foreach (var p in parameters)
        {
            Assert.Equal(200, p.GetProperty("ranks").GetArrayLength());
            Assert.Equal(200, p.GetProperty("z_score").GetArrayLength());
            // An exact posterior: fixed seeds make this deterministic; its calibration error at N = 200 is
            // about 0.02 (binomial sd ≤ 0.035 per level, median of 20 absolute errors).
            Assert.True(p.GetProperty("within_band").GetBoolean());
            Assert.True(p.GetProperty("calibration_error").GetDouble() < 0.06);
        }
        Assert.Equal(100, root.GetProperty("band").GetProperty("points").GetArrayLength());

        string[] csv = File.ReadAllLines(Path.Combine(outDir, "diagnostics.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("parameter,within_band,", csv[0]);
        Assert.StartsWith("theta[0],true,", csv[1]);
        foreach (string figure in Figures)
            Assert.True(new FileInfo(Path.Combine(outDir, figure)).Length > 10_000, figure);
        // Atomic writes leave no temporary files behind.
        Assert.Empty(Directory.GetFiles(outDir, ".*"));
    }

    [Theory]
    [InlineData(new string[0], "missing required option '--test-set'")]
    [InlineData(new[] { "--test-set", "missing.csv" }, "--test-set: file 'missing.csv' does not exist")]
    [InlineData(new[] { "--task", "two_moons" }, "unknown option '--task'")]
    [InlineData(new[] { "--draws", "1" }, "--draws must be an integer in [2, 1000000]; got '1'")]
    [InlineData(new[] { "--confidence", "NaN" }, "--confidence must be a finite number; got 'NaN'")]
    public void Diagnose_BadArguments_AreUsageErrors(string[] extra, string expected)
    {
        string model = ConjugateGaussian.WriteBundle(dir);
        var (code, _, stderr) = Onnxsbi.InProcess(["diagnose", "--model", model, "--out-dir", Path.Combine(dir, "bad"), .. extra]);
        Assert.True(code == 2, $"exit code {code}: {stderr}");
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "bad")));
    }

    [Fact]
    public void Diagnose_TestSetMissingAColumn_IsAnInputErrorNamingIt()
    {
        string model = ConjugateGaussian.WriteBundle(dir);
        string testSet = Path.Combine(dir, "partial.csv");
        File.WriteAllLines(testSet, ["theta[0],theta[1],x[0]", "0,0,0", "1,1,1"]);
        var (code, _, stderr) = Onnxsbi.InProcess("diagnose", "--model", model, "--test-set", testSet, "--out-dir", dir);
        Assert.True(code == 3, $"exit code {code}: {stderr}");
        Assert.Contains("'x[1]'", stderr);
    }

    [Fact]
    public void Summary_ListsEveryParameterAndTheVerdict()
    {
        using var model = PosteriorModel.Load(ConjugateGaussian.WriteBundle(dir));
        var report = PosteriorDiagnostics.Run(model, ConjugateGaussian.CreateSimulator(0), new DiagnosticsOptions { NumDatasets = 100, NumDraws = 50 });
        string summary = DiagnosticsFiles.Summary(report, model, "task conjugate", 0.1);
        Assert.Contains("100 datasets × 50 draws", summary);
        Assert.Contains("theta[0]", summary);
        Assert.Contains("theta[1]", summary);
        Assert.Contains("verdict:", summary);
    }
}
