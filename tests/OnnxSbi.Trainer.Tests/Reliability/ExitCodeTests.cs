using System.Text;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// The real onnxsbi-train host ends with the exit codes docs/cli.md documents, as onnxsbi does: 0 success, 1 any other
/// failure, 2 usage or configuration error, 3 input error (checkpoint, training data, request), 130 cancelled
/// (SignalTerminationTests). Configuration comes from --config, ONNXSBI_* environment variables and the command line.
/// </summary>
public sealed class ExitCodeTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-train-exit-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A training small enough to finish in seconds: one epoch of two batches of a tiny coupling flow.</summary>
    private static string[] TinyTrain(string output, params string[] extra) =>
        ["train", "--network", "affine_coupling_flow", "--widths", "8,8", "--epochs", "1", "--batches-per-epoch", "2", "--validation-sets", "16", "--out", output, .. extra];

    /// <summary>Runs the host with <paramref name="environment"/> added to its environment (no other ONNXSBI_* variable).</summary>
    private (int ExitCode, string StdOut, string StdErr) RunWithEnvironment(IReadOnlyDictionary<string, string> environment, params string[] args)
        => ChildProgram.Run(TrainerHost.DllPath, dir, Limit, environment, args);

    [Fact]
    public void Help_Exits0ListingEveryOption()
    {
        var (code, stdout, stderr) = TrainerHost.Run(dir, Limit, "train", "--help");
        Assert.True(code == 0, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("--epochs <N>", stdout);
        Assert.Contains("[default: 0.0005]", stdout);
    }

    [Fact]
    public void NoArguments_Exits2WithTheUsage()
    {
        var (code, stdout, stderr) = TrainerHost.Run(dir, Limit);
        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("Usage:", stdout);
    }

    [Fact]
    public void ConfigFileAndEnvironment_AreBoundBelowTheCommandLine()
    {
        // The file asks for 3 epochs and seed 9, the environment for 2 epochs, the command line for 1 (TinyTrain):
        // the command line wins for epochs; the file's seed stands.
        File.WriteAllText(Path.Combine(dir, "train.json"), """{ "epochs": 3, "seed": 9 }""");
        string output = Path.Combine(dir, "m.onnxsbi");
        var (code, stdout, stderr) = RunWithEnvironment(new Dictionary<string, string> { ["ONNXSBI_EPOCHS"] = "2" },
            TinyTrain(output, "--config", "train.json"));
        Assert.True(code == 0, $"exit code {code}\n{stdout}{stderr}");
        var training = BundleReader.Read(output).Manifest.Training;
        Assert.Equal(1, training.Epochs);
        Assert.Contains("seed 9", stdout + stderr);
    }

    [Fact]
    public void EnvironmentOverConfigFile_WhenTheCommandLineIsSilent()
    {
        File.WriteAllText(Path.Combine(dir, "train.json"), """{ "epochs": 3 }""");
        string output = Path.Combine(dir, "m.onnxsbi");
        string[] args = ["train", "--network", "affine_coupling_flow", "--widths", "8,8", "--batches-per-epoch", "2", "--validation-sets", "16", "--out", output, "--config", "train.json"];
        var (code, stdout, stderr) = RunWithEnvironment(new Dictionary<string, string> { ["ONNXSBI_EPOCHS"] = "2" }, args);
        Assert.True(code == 0, $"exit code {code}\n{stdout}{stderr}");
        Assert.Equal(2, BundleReader.Read(output).Manifest.Training.Epochs);
    }

    [Theory]
    [InlineData("""{ "epoch": 3 }""", "unknown configuration key 'epoch'")]
    [InlineData("""{ "batch-size": "many" }""", "--batch-size must be an integer; got 'many'")]
    [InlineData("""{ "batch-size": 0 }""", "--batch-size must be an integer in [1, 1048576]; got '0'")]
    [InlineData("""{ "resume": "maybe" }""", "--resume must be true or false; got 'maybe'")]
    [InlineData("""{ "epochs": """, "--config: Failed to load configuration from file")]
    public void BadConfigFile_Exits2NamingTheKey(string json, string expected)
    {
        File.WriteAllText(Path.Combine(dir, "train.json"), json);
        var (code, stdout, stderr) = TrainerHost.Run(dir, Limit, TinyTrain("m.onnxsbi", "--config", "train.json"));
        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public void UnknownEnvironmentKey_Exits2NamingIt()
    {
        var (code, stdout, stderr) = RunWithEnvironment(new Dictionary<string, string> { ["ONNXSBI_EPOHCS"] = "2" }, TinyTrain("m.onnxsbi"));
        Assert.True(code == 2, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("unknown configuration key 'EPOHCS'", stderr);
    }

    [Fact]
    public void CorruptCheckpointOnResume_Exits3NamingIt()
    {
        string checkpoint = Path.Combine(dir, "bad.ckpt");
        File.WriteAllText(checkpoint, "not a checkpoint", Encoding.ASCII);
        var (code, stdout, stderr) = TrainerHost.Run(dir, Limit, TinyTrain("m.onnxsbi", "--checkpoint", checkpoint, "--resume"));
        Assert.True(code == 3, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains($"Checkpoint '{checkpoint}' cannot be resumed from", stderr);
    }

    [Fact]
    public void OutputUnderARegularFile_Exits1()
    {
        // "blocker" is a file, so "blocker/m.onnxsbi" cannot be written: an I/O failure after training.
        File.WriteAllText(Path.Combine(dir, "blocker"), "");
        var (code, stdout, stderr) = TrainerHost.Run(dir, Limit, TinyTrain(Path.Combine("blocker", "m.onnxsbi")));
        Assert.True(code == 1, $"exit code {code}\n{stdout}{stderr}");
        Assert.Contains("error:", stderr);
    }
}
