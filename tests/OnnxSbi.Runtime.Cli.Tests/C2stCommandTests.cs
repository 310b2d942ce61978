namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class C2stCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-c2st-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void C2st_ShippedSplineFlow_WritesOneScorePerObservation()
    {
        string output = Path.Combine(dir, "scores.csv");
        int code = Commands.Run("c2st", ["--model", ShippedBundles.Path("spline_coupling_flow"), "--draws", "2000", "--observations", "2", "--seed", "3", "--out", output], CancellationToken.None);
        Assert.Equal(0, code);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal("observation,x1,x2,c2st", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("origin,0,0,", lines[1]);
        double[] scores = lines.Skip(1).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        // The shipped spline flow scores 0.52 at x = (0, 0) with 10,000 draws; with 2,000 per side the C2ST of
        // a matching model has sd ≈ 0.01, so 0.65 passes it and fails a broken sampler or adapter (≈ 1.0).
        Assert.InRange(scores[0], 0.4, 0.65);
        // The second test observation is the hard one at the prior box's corner (0.76 with 10,000 draws):
        // every score is a valid accuracy.
        Assert.All(scores, s => Assert.InRange(s, 0.0, 1.0));
        Assert.Empty(Directory.GetFiles(dir, ".*"));
    }

    [Fact]
    public void C2st_UnknownTask_IsAUsageErrorNamingTheTask()
    {
        var e = Assert.Throws<UsageException>(() => Commands.Run("c2st", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--task", "gaussian"], CancellationToken.None));
        Assert.Contains("'gaussian'", e.Message);
    }

    [Fact]
    public void C2st_Int8InParallelBlocks_ScoresLikeFloat()
    {
        string output = Path.Combine(dir, "int8.csv");
        int code = Commands.Run("c2st", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--draws", "2000", "--observations", "0", "--seed", "3",
            "--precision", "int8", "--threads", "1", "--parallel-blocks", "2", "--chunk-size", "700", "--out", output], CancellationToken.None);
        Assert.Equal(0, code);
        double score = double.Parse(File.ReadAllLines(output)[1].Split(',')[3], System.Globalization.CultureInfo.InvariantCulture);
        // The shipped affine flow scores 0.566 (float32) and 0.563 (int8) with 10,000 draws; 2,000 per side adds
        // sd ≈ 0.01, so 0.66 passes it and fails a quantization or block-order bug (C2ST near 1).
        Assert.InRange(score, 0.4, 0.66);
    }

    [Fact]
    public void Sample_CouplingInverseGraphOrNative_GivesTheSameDraws()
    {
        string[] Draws(string mode)
        {
            string output = Path.Combine(dir, $"{mode}.csv");
            Assert.Equal(0, Commands.Run("sample", ["--model", ShippedBundles.Path("spline_coupling_flow"), "--condition", "x=0.1,-0.2",
                "--num-samples", "300", "--seed", "5", "--coupling-inverse", mode, "--out", output], CancellationToken.None));
            return File.ReadAllLines(output);
        }
        var native = Draws("native");
        var graph = Draws("graph");
        Assert.Equal(301, native.Length);
        Assert.Equal(native[0], graph[0]);
        // Same noise through the same network: values agree to float32 rounding (NativeCouplingInverseTests bounds it).
        var a = native.Skip(1).SelectMany(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var b = graph.Skip(1).SelectMany(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(a.Length, b.Length);
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-3, $"{p.First} vs {p.Second}"));
    }

    [Fact]
    public void Sample_UnknownCouplingInverse_IsAUsageErrorNamingTheValue()
    {
        var e = Assert.Throws<UsageException>(() => Commands.Run("sample", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--condition", "x=0,0",
            "--num-samples", "10", "--coupling-inverse", "fast", "--out", Path.Combine(dir, "d.csv")], CancellationToken.None));
        Assert.Contains("--coupling-inverse", e.Message);
        Assert.Contains("'fast'", e.Message);
    }

    [Fact]
    public void Sample_SolverLoopGraphOrHost_GivesTheSameDraws()
    {
        double[] Draws(string mode)
        {
            string output = Path.Combine(dir, $"loop_{mode}.csv");
            Assert.Equal(0, Commands.Run("sample", ["--model", ShippedBundles.Path("consistency_model"), "--condition", "x=0.1,-0.2",
                "--num-samples", "300", "--seed", "5", "--steps", "4", "--solver-loop", mode, "--out", output], CancellationToken.None));
            return File.ReadAllLines(output).Skip(1).SelectMany(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        }
        var host = Draws("host");
        var graph = Draws("graph");
        Assert.Equal(600, host.Length);
        // The same noise and network, one op for one op (SolverLoopTests bounds it; measured bit-identical).
        Assert.All(host.Zip(graph), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5, $"{p.First} vs {p.Second}"));
        var e = Assert.Throws<UsageException>(() => Commands.Run("sample", ["--model", ShippedBundles.Path("consistency_model"), "--condition", "x=0,0",
            "--num-samples", "10", "--solver-loop", "device", "--out", Path.Combine(dir, "d.csv")], CancellationToken.None));
        Assert.Contains("--solver-loop must be 'auto', 'host' or 'graph'; got 'device'", e.Message);
    }

    [Fact]
    public void LogProb_CouplingInverse_IsNotAnOption()
    {
        // Densities never run the sampling pass, so the flag would do nothing there; it is refused, not ignored.
        var e = Assert.Throws<UsageException>(() => Commands.Run("log-prob", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--condition", "x=0,0",
            "--theta-file", Path.Combine(dir, "t.csv"), "--coupling-inverse", "graph", "--out", Path.Combine(dir, "lp.csv")], CancellationToken.None));
        Assert.Contains("coupling-inverse", e.Message);
    }

    [Fact]
    public void Sample_UnknownPrecision_IsAUsageErrorNamingTheValue()
    {
        var e = Assert.Throws<UsageException>(() => Commands.Run("sample", ["--model", ShippedBundles.Path("affine_coupling_flow"), "--condition", "x=0,0",
            "--num-samples", "10", "--precision", "int4", "--out", Path.Combine(dir, "d.csv")], CancellationToken.None));
        Assert.Contains("--precision", e.Message);
        Assert.Contains("'int4'", e.Message);
    }
}
