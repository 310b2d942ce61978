using System.Text.Json;

namespace OnnxSbi.Bench.Tests;

/// <summary><c>onnxsbi-bench diagnose --task</c>: SBC on a task's simulator, run as a child process.</summary>
public sealed class DiagnoseCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-diagnose-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Diagnose_Task_SimulatesWithTheTaskSimulator()
    {
        // The conjugate bundle has two-moons' variable names (theta [2], x [2]), so the two-moons simulator
        // feeds it; its posterior is wrong for two moons, which the diagnostics must flag.
        string model = ConjugateGaussian.WriteBundle(dir);
        string outDir = Path.Combine(dir, "moons");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(5),
            "diagnose", "--model", model, "--task", "two_moons", "--datasets", "200", "--draws", "100", "--out-dir", outDir);
        Assert.True(code == 0, stdout + stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "diagnostics.json")));
        Assert.Equal("task two_moons", json.RootElement.GetProperty("source").GetString());
        Assert.Equal(200, json.RootElement.GetProperty("datasets").GetInt32());
        Assert.False(json.RootElement.GetProperty("all_within_band").GetBoolean());
        Assert.Contains("verdict:", stdout);
        foreach (string figure in new[] { "recovery.png", "calibration_ecdf.png", "z_score_contraction.png", "coverage.png", "pairs.png" })
            Assert.True(File.Exists(Path.Combine(outDir, figure)), figure);
    }

    [Theory]
    [InlineData(new[] { "--task", "three_moons" }, "'three_moons'")]
    [InlineData(new[] { "--draws", "1" }, "--draws must be an integer in [2, 1000000]; got 1")]
    [InlineData(new[] { "--datasets", "10", "--observation", "10" }, "--observation must be in [0, 9]; got 10")]
    [InlineData(new[] { "--test-set", "t.csv" }, "--test-set")]
    public void Diagnose_BadArguments_ExitWith2NamingTheProblem(string[] extra, string expected)
    {
        string model = ConjugateGaussian.WriteBundle(dir);
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), ["diagnose", "--model", model, "--out-dir", Path.Combine(dir, "bad"), .. extra]);
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "bad")));
    }
}
