using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// <c>onnxsbi-train</c> on a user's own model, as a real child process: from an NPZ file, from the external test
/// simulator, with the adapter verb and an adapter file; and the usage and input errors each path reports.
/// Networks are tiny (widths 8,8, one short epoch): these tests check the wiring, not the quality
/// (docs/BENCHMARKS.md, "Your own model", measures that).
/// </summary>
public sealed class OwnModelCliTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-own-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static string[] Small(params string[] args) =>
        ["train", .. args, "--network", "affine_coupling_flow", "--widths", "8,8", "--epochs", "1", "--batch-size", "64"];

    private static string TestSimulatorCommand(params string[] flags) => TestSimulatorProgram.Command("OnnxSbi.Trainer.Tests", flags);

    [Fact]
    public void Train_FromNpzFileWithHeldOutFraction_WritesABundleInTheUsersVariables()
    {
        string data = TwoMoonsFiles.Npz(dir, "train.npz", 2_048, seed: 3);
        string bundle = Path.Combine(dir, "files.onnxsbi");
        var run = TrainerHost.Run(dir, Limit, Small("--data", data, "--validation-fraction", "0.1",
            "--inference-variables", "theta", "--inference-conditions", "x", "--out", bundle));
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        Assert.Contains("2048 rows in 1 shard(s)", run.StdOut + run.StdErr);

        using var model = PosteriorModel.Load(bundle);
        Assert.Equal(["theta"], model.Description.InferenceVariables.Select(v => v.Name));
        Assert.Equal(["x"], model.Description.ConditionVariables.Select(v => v.Name));
        // About 10% of 2,048 rows held out: 1,843 expected; ⌊training rows / 64⌋ steps, 27 to 30 for any plausible hash split.
        Assert.InRange(BundleReader.Read(bundle).Manifest.Training.OptimizerSteps, 27, 30);
        var draws = model.Sample(new ArrayBatch(1).Set("x", [0.0, 0.0], 2), 100, new SamplingOptions { Seed = 1 });
        Assert.Equal(100 * 2, draws["theta"].Length);
    }

    [Fact]
    public void Train_FromExternalSimulatorOnline_TrainsOnItsBatches()
    {
        string bundle = Path.Combine(dir, "external.onnxsbi");
        var run = TrainerHost.Run(dir, Limit, Small("--simulator-command", TestSimulatorCommand(), "--simulator-workers", "2", "--online",
            "--batches-per-epoch", "6", "--validation-sets", "64", "--inference-variables", "theta", "--inference-conditions", "x", "--out", bundle));
        Assert.True(run.ExitCode == 0, run.StdOut + run.StdErr);
        Assert.Equal(6, BundleReader.Read(bundle).Manifest.Training.OptimizerSteps);
    }

    [Fact]
    public void Train_SimulatorThatAlwaysCrashes_StopsNamingTheCommandAndItsStderr()
    {
        string command = TestSimulatorCommand("--crash-always");
        var run = TrainerHost.Run(dir, Limit, Small("--simulator-command", command, "--simulator-retries", "1",
            "--inference-variables", "theta", "--inference-conditions", "x", "--out", Path.Combine(dir, "never.onnxsbi")));
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("OnnxSbi.TestSimulator", run.StdErr);
        Assert.Contains("crash", run.StdErr, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(dir, "never.onnxsbi")));
    }

    [Fact]
    public void Train_DataMissingAConditionVariable_IsAnInputErrorNamingFileAndVariable()
    {
        string data = TwoMoonsFiles.Npz(dir, "train.npz", 256, seed: 1);
        var run = TrainerHost.Run(dir, Limit, Small("--data", data, "--inference-variables", "theta", "--inference-conditions", "y",
            "--out", Path.Combine(dir, "never.onnxsbi")));
        Assert.Equal(3, run.ExitCode);
        Assert.Contains(data, run.StdErr);
        Assert.Contains("'y'", run.StdErr);
    }

    [Theory]
    [InlineData("--task two_moons --data D", "give one source of simulations")]
    [InlineData("--data D", "needs --inference-variables")]
    [InlineData("--data D --inference-variables theta --validation-fraction 1.5", "--validation-fraction must be a number in (0, 1)")]
    [InlineData("--data D --inference-variables theta --online", "--data trains offline")]
    [InlineData("--task two_moons --log theta", "a built-in --task has its own adapter")]
    [InlineData("--data D --inference-variables theta --adapter missing.json", "--adapter: file 'missing.json' does not exist")]
    public void Train_ConflictingSourceOptions_AreUsageErrors(string args, string message)
    {
        string data = TwoMoonsFiles.Npz(dir, "train.npz", 256, seed: 1);
        var run = TrainerHost.Run(dir, Limit, Small([.. args.Split(' ').Select(a => a == "D" ? data : a), "--out", Path.Combine(dir, "never.onnxsbi")]));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.StdErr);
    }

    [Fact]
    public void Adapter_PrintsFittedConstantsAndWritesAFileTrainAccepts()
    {
        string data = TwoMoonsFiles.Npz(dir, "train.npz", 1_024, seed: 2);
        var printed = TrainerHost.Run(dir, Limit, "adapter", "--data", data, "--inference-variables", "theta", "--inference-conditions", "x", "--constrain", "theta:-1:1");
        Assert.True(printed.ExitCode == 0, printed.StdOut + printed.StdErr);
        Assert.Contains("constrain('theta', -1 < x < 1)", printed.StdOut);
        Assert.Contains("standardize(include: 'x'", printed.StdOut);
        Assert.Contains("x: mean [", printed.StdOut);

        string file = Path.Combine(dir, "adapter.json");
        var written = TrainerHost.Run(dir, Limit, "adapter", "--data", data, "--inference-variables", "theta", "--inference-conditions", "x", "--out", file);
        Assert.True(written.ExitCode == 0, written.StdOut + written.StdErr);
        string bundle = Path.Combine(dir, "adapter.onnxsbi");
        var trained = TrainerHost.Run(dir, Limit, Small("--data", data, "--adapter", file, "--inference-variables", "theta", "--inference-conditions", "x", "--out", bundle));
        Assert.True(trained.ExitCode == 0, trained.StdOut + trained.StdErr);
        // The file's fitted moments are kept, not refitted: the bundle's adapter is the file's.
        Assert.Equal(Runtime.Adapters.Adapter.FromJson(File.ReadAllText(file), file).ToJson(),
            Runtime.Adapters.Adapter.FromSpec(BundleReader.Read(bundle).Manifest.Adapter).ToJson());
    }

    [Fact]
    public void Adapter_DataWithAFailedSimulation_FitsOnTheFiniteRowsAsTrainDoes()
    {
        string data = TwoMoonsFiles.Npz(dir, "failed.npz", 512, seed: 4, failedRow: 5);

        var printed = TrainerHost.Run(dir, Limit, "adapter", "--data", data, "--inference-variables", "theta", "--inference-conditions", "x");

        Assert.True(printed.ExitCode == 0, printed.StdOut + printed.StdErr);
        Assert.Contains("x: mean [", printed.StdOut);
        Assert.DoesNotContain("NaN", printed.StdOut);
    }
}
