using OnnxSbi.TestSupport;

namespace OnnxSbi.Runtime.Cli.Tests;

/// <summary>
/// The real onnxsbi executable ends with the exit codes docs/cli.md documents: 0 success, 1 any other failure,
/// 2 usage error, 3 input error (bundle, data file, request), 130 cancelled by SIGINT or SIGTERM.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-exit-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private (int ExitCode, string StdOut, string StdErr) Run(params string[] args) => ChildProgram.Run(Onnxsbi.Dll, dir, Limit, args);

    private static string FlowMatching => Repository.ShippedBundle("flow_matching");

    [Fact]
    public void Inspect_ShippedBundle_Exits0()
    {
        var (code, stdout, stderr) = Run("inspect", FlowMatching);
        Assert.True(code == 0, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("network:", stdout);
    }

    [Theory]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("sample", "--help")]
    public void Help_Exits0(params string[] args)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.True(code == 0, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("Usage:", stdout);
    }

    [Theory]
    [InlineData(new[] { "sample", "--modle", "m.onnxsbi" }, "unknown option '--modle'")]
    [InlineData(new[] { "sample", "--num-samples", "ten" }, "--num-samples must be an integer in [1, 2147483647]; got 'ten'")]
    [InlineData(new[] { "sample", "--provider", "tpu" }, "--provider must be 'cpu' or 'cuda'; got 'tpu'")]
    [InlineData(new[] { "log-prob", "--model", "absent.onnxsbi" }, "--model: file 'absent.onnxsbi' does not exist")]
    [InlineData(new[] { "bench" }, "Unknown verb 'bench'")]
    [InlineData(new string[0], "Usage:")]
    public void BadCommandLine_Exits2NamingTheProblem(string[] args, string expected)
    {
        var (code, stdout, stderr) = Run(args);
        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains(expected, stdout + stderr);
    }

    [Fact]
    public void MissingCondition_Exits2WithAnExample()
    {
        var (code, stdout, stderr) = Run("sample", "--model", FlowMatching, "--num-samples", "5", "--out", "d.csv");
        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("--condition x=0,0", stderr);
    }

    [Fact]
    public void NotABundle_Exits3NamingTheFile()
    {
        string bad = Path.Combine(dir, "bad.onnxsbi");
        File.WriteAllText(bad, "not a zip archive");
        var (code, stdout, stderr) = Run("inspect", bad);
        Assert.True(code == 3, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("bad.onnxsbi", stderr);
    }

    [Fact]
    public void ConditionsFileWithAnUnknownColumn_Exits3NamingTheColumn()
    {
        File.WriteAllLines(Path.Combine(dir, "c.csv"), ["x[0],x[1],y", "0,0,1"]);
        var (code, stdout, stderr) = Run("sample", "--model", FlowMatching, "--conditions-file", "c.csv", "--num-samples", "5", "--out", "d.csv");
        Assert.True(code == 3, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("unknown column(s) 'y'", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "d.csv")));
    }

    [Fact]
    public void OutputUnderARegularFile_Exits1()
    {
        // "blocker" is a file, so the output directory "blocker/" cannot be created: an I/O failure.
        File.WriteAllText(Path.Combine(dir, "blocker"), "");
        var (code, stdout, stderr) = Run("sample", "--model", FlowMatching, "--condition", "x=0,0", "--num-samples", "5", "--out", "blocker/d.csv");
        Assert.True(code == 1, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("error:", stderr);
    }

    [Fact]
    public void Sample_SigtermMidSampling_Exits130()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this test needs POSIX signals");
        // 10,000 draws through 1,000,000 Euler steps would take hours; the sampler checks the token every step.
        using var running = ChildProgram.Start(Onnxsbi.Dll, dir, "sample", "--model", FlowMatching, "--condition", "x=0,0",
            "--num-samples", "10000", "--method", "euler", "--steps", "1000000", "--threads", "1", "--out", "d.csv");
        // Loading the bundle and starting ONNX Runtime takes well under this; the signal must find the sampler running.
        Thread.Sleep(TimeSpan.FromSeconds(3));
        Assert.False(running.Process.HasExited, "onnxsbi ended before the signal: " + running.StdErr);
        running.Terminate();
        var (code, stdout, stderr) = running.WaitForExit(Limit);
        Assert.True(code == 130, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("cancelled", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "d.csv")));
    }
}
