using System.Diagnostics;

namespace OnnxSbi.Bench.Tests;

/// <summary><c>onnxsbi-bench two-moons</c>: the tutorial's command line, run as a child process.</summary>
public sealed class TwoMoonsCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-two-moons-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData(new[] { "--quick", "--from-models", "models" }, "--quick trains at a reduced budget; --from-models trains nothing")]
    [InlineData(new[] { "--evaluate" }, "--evaluate scores the bundles given by --from-models")]
    [InlineData(new[] { "--threads", "0" }, "--threads must be an integer in [1, 1024]; got 0")]
    [InlineData(new[] { "--from-models", "empty" }, "flow_matching.onnxsbi")]
    [InlineData(new[] { "--epochs", "3" }, "'--epochs'")]
    public void TwoMoons_BadCommandLine_ExitsWith2BeforeAnyWork(string[] extra, string expected)
    {
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        string outDir = Path.Combine(dir, "out");
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), ["two-moons", "--out-dir", outDir, .. extra]);
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(outDir, "checkpoints")));
    }

    [Fact]
    public void TwoMoons_SigtermMidTraining_ExitsWith130KeepingTheCheckpoint()
    {
        // `kill -TERM` and POSIX signals exist on Linux and macOS, where CI runs.
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this test needs POSIX signals");
        var limit = TimeSpan.FromMinutes(3);
        string outDir = Path.Combine(dir, "out"), checkpoints = Path.Combine(outDir, "checkpoints");
        using var running = BenchHost.Start(dir, "two-moons", "--quick", "--out-dir", outDir, "--seed", "3");
        // The first network's checkpoint appears after its first epoch (128 batches of 64 with --quick).
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*.ckpt").Any()))
        {
            Assert.False(running.Process.HasExited, "onnxsbi-bench exited before its first checkpoint: " + running.Output());
            Assert.True(clock.Elapsed < limit, "no checkpoint within the time limit: " + running.Output());
            Thread.Sleep(100);
        }
        running.Terminate();
        var (code, stdout, stderr) = running.WaitForExit(limit);
        Assert.True(code == 130, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("Stopped by a signal", stdout + stderr);
        // The interrupted network's bundle is not written; its checkpoint is kept for the next run to resume from.
        Assert.False(File.Exists(Path.Combine(outDir, "flow_matching.onnxsbi")));
        Assert.NotEmpty(Directory.EnumerateFiles(checkpoints, "flow_matching.*.ckpt"));
    }

    [Fact]
    public void TwoMoons_Help_ListsEveryOptionWithItsDefault()
    {
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "two-moons", "--help");
        Assert.True(code == 0, stdout + stderr);
        foreach (string option in new[] { "--out-dir", "--quick", "--from-models", "--evaluate", "--seed", "--threads" }) Assert.Contains(option, stdout);
        Assert.Contains("[default: out/two_moons]", stdout);
        Assert.Contains("[default: 1]", stdout);
    }

    [Fact]
    public void UnknownVerb_ExitsWith2ListingNothingRun()
    {
        var (code, stdout, stderr) = BenchHost.Run(dir, TimeSpan.FromMinutes(1), "bench-torch", "--model", "m.onnxsbi");
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("'bench-torch'", stderr);
    }
}
