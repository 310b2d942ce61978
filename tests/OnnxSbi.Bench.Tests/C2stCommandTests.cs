using System.Globalization;

namespace OnnxSbi.Bench.Tests;

/// <summary><c>onnxsbi-bench c2st</c>: a bundle scored against its task's reference posterior, run as a child process.</summary>
public sealed class C2stCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-c2st-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void C2st_ShippedSplineFlow_WritesOneScorePerObservation()
    {
        string output = Path.Combine(dir, "scores.csv");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(5),
            "c2st", "--model", Repository.ShippedBundle("spline_coupling_flow"), "--draws", "2000", "--observations", "2", "--seed", "3", "--out", output);
        Assert.True(code == 0, stdout + stderr);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal("observation,x1,x2,c2st", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("primary,0,0,", lines[1]);
        double[] scores = lines.Skip(1).Select(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)).ToArray();
        // The shipped spline flow scores 0.52 at x = (0, 0) with 10,000 draws; with 2,000 per side the C2ST of
        // a matching model has sd ≈ 0.01, so 0.65 passes it and fails a broken sampler or adapter (≈ 1.0).
        Assert.InRange(scores[0], 0.4, 0.65);
        // The second test observation is the hard one at the prior box's corner (0.76 with 10,000 draws):
        // every score is a valid accuracy.
        Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
        Assert.Contains("C2ST at x=(0,0):", stdout);
        Assert.Empty(Directory.GetFiles(dir, ".*"));
    }

    [Fact]
    public void C2st_UnknownTask_IsAUsageErrorNamingTheTask()
    {
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--task", "gaussian");
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("'gaussian'", stderr);
        Assert.Contains("two_moons", stderr);
    }

    [Fact]
    public void C2st_Int8InParallelBlocks_ScoresLikeFloat()
    {
        string output = Path.Combine(dir, "int8.csv");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(5),
            "c2st", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--draws", "2000", "--observations", "0", "--seed", "3",
            "--precision", "int8", "--threads", "1", "--parallel-blocks", "2", "--chunk-size", "700", "--out", output);
        Assert.True(code == 0, stdout + stderr);
        double score = double.Parse(File.ReadAllLines(output)[1].Split(',')[3], CultureInfo.InvariantCulture);
        // The shipped affine flow scores 0.566 (float32) and 0.563 (int8) with 10,000 draws; 2,000 per side adds
        // sd ≈ 0.01, so 0.66 passes it and fails a quantization or block-order bug (C2ST near 1).
        Assert.InRange(score, 0.4, 0.66);
    }

    [Fact]
    public void C2st_MissingBundle_ExitsWith3NamingIt()
    {
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "c2st", "--model", Path.Combine(dir, "missing.onnxsbi"), "--draws", "100");
        Assert.True(code == 3, stdout + stderr);
        Assert.Contains("missing.onnxsbi", stderr);
    }
}
