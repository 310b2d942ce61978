namespace OnnxSbi.Runtime.Cli.Tests;

public sealed class SamplingOptionsTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-sampling-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Sample_CouplingInverseGraphOrNative_GivesTheSameDraws()
    {
        string[] Draws(string mode)
        {
            string output = Path.Combine(dir, $"{mode}.csv");
            Assert.Equal(0, Onnxsbi.InProcess(["sample", "--model", Repository.ShippedBundle("spline_coupling_flow"), "--condition", "x=0.1,-0.2",
                "--num-samples", "300", "--seed", "5", "--coupling-inverse", mode, "--out", output]).ExitCode);
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
        var (code, _, stderr) = Onnxsbi.InProcess(["sample", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--condition", "x=0,0",
            "--num-samples", "10", "--coupling-inverse", "fast", "--out", Path.Combine(dir, "d.csv")]);
        Assert.Equal(2, code);
        Assert.Contains("--coupling-inverse", stderr);
        Assert.Contains("'fast'", stderr);
    }

    [Fact]
    public void Sample_SolverLoopGraphOrHost_GivesTheSameDraws()
    {
        double[] Draws(string mode)
        {
            string output = Path.Combine(dir, $"loop_{mode}.csv");
            Assert.Equal(0, Onnxsbi.InProcess(["sample", "--model", Repository.ShippedBundle("consistency_model"), "--condition", "x=0.1,-0.2",
                "--num-samples", "300", "--seed", "5", "--steps", "4", "--solver-loop", mode, "--out", output]).ExitCode);
            return File.ReadAllLines(output).Skip(1).SelectMany(l => l.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        }
        var host = Draws("host");
        var graph = Draws("graph");
        Assert.Equal(600, host.Length);
        // The same noise and network, one op for one op (SolverLoopTests bounds it; measured bit-identical).
        Assert.All(host.Zip(graph), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5, $"{p.First} vs {p.Second}"));
        var (code, _, stderr) = Onnxsbi.InProcess(["sample", "--model", Repository.ShippedBundle("consistency_model"), "--condition", "x=0,0",
            "--num-samples", "10", "--solver-loop", "device", "--out", Path.Combine(dir, "d.csv")]);
        Assert.Equal(2, code);
        Assert.Contains("--solver-loop must be 'auto', 'host' or 'graph'; got 'device'", stderr);
    }

    [Fact]
    public void LogProb_CouplingInverse_IsNotAnOption()
    {
        // Densities never run the sampling pass, so the flag would do nothing there; it is refused, not ignored.
        var (code, _, stderr) = Onnxsbi.InProcess(["log-prob", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--condition", "x=0,0",
            "--theta-file", Path.Combine(dir, "t.csv"), "--coupling-inverse", "graph", "--out", Path.Combine(dir, "lp.csv")]);
        Assert.Equal(2, code);
        Assert.Contains("coupling-inverse", stderr);
    }

    [Fact]
    public void Sample_UnknownPrecision_IsAUsageErrorNamingTheValue()
    {
        var (code, _, stderr) = Onnxsbi.InProcess(["sample", "--model", Repository.ShippedBundle("affine_coupling_flow"), "--condition", "x=0,0",
            "--num-samples", "10", "--precision", "int4", "--out", Path.Combine(dir, "d.csv")]);
        Assert.Equal(2, code);
        Assert.Contains("--precision", stderr);
        Assert.Contains("'int4'", stderr);
    }
}
