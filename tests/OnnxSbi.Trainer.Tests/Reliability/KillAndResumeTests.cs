using System.Diagnostics;
using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// The real onnxsbi-train host, SIGKILLed after its first checkpoint and rerun with --resume, ends with
/// the same bundle record as an uninterrupted run: the same optimizer steps and, since everything is
/// seeded and runs on one CPU thread, the bit-identical loss history.
/// </summary>
public sealed class KillAndResumeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-kill-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    internal static string[] TrainArgs(string checkpoint, string output, params string[] extra) =>
    [
        "train", "--task", "two_moons", "--network", "affine_coupling_flow", "--widths", "8,8",
        "--epochs", "6", "--batches-per-epoch", "20", "--validation-sets", "64", "--seed", "5",
        "--checkpoint", checkpoint, "--out", output, .. extra,
    ];

    /// <summary>Polls until <paramref name="path"/> exists (the checkpoint is renamed into place whole), or the process exits.</summary>
    internal static bool WaitForFile(string path, Process process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (File.Exists(path)) return true;
            if (process.HasExited) return false;
            Thread.Sleep(5);
        }
        return false;
    }

    /// <summary>The same run on simulations in a file (1,280 rows, a tenth held out: 18 batches of 64 per epoch).</summary>
    private string[] FileArgs(string checkpoint, string output, params string[] extra)
    {
        string data = Path.Combine(dir, "train.npz");
        if (!File.Exists(data)) TwoMoonsFiles.Npz(dir, "train.npz", 1_280, seed: 9);
        return
        [
            "train", "--data", data, "--validation-fraction", "0.1", "--inference-variables", "theta", "--inference-conditions", "x",
            "--network", "affine_coupling_flow", "--widths", "8,8", "--epochs", "6", "--seed", "5",
            "--checkpoint", checkpoint, "--out", output, .. extra,
        ];
    }

    /// <summary>
    /// Killed after the first checkpoint: at the end of epoch 1, or (with --checkpoint-every 7) seven batches into
    /// epoch 1, where the resumed run must continue with batch 8 and the epoch's running loss; from the built-in
    /// task, or from a data file, whose shuffled batches must come back the same.
    /// </summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 7)]
    [InlineData(true, 7)]
    public void Train_KilledAfterFirstCheckpointThenResumed_MatchesUninterruptedRun(bool fromFile, int checkpointEvery)
    {
        string[] checkpointing = checkpointEvery > 0 ? ["--checkpoint-every", checkpointEvery.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
        Func<string, string, string[], string[]> TrainArgs = fromFile ? FileArgs : KillAndResumeTests.TrainArgs;
        var limit = TimeSpan.FromMinutes(2);
        string straightOut = Path.Combine(dir, "straight.onnxsbi");
        var straight = TrainerHost.Run(dir, limit, TrainArgs(Path.Combine(dir, "straight.ckpt"), straightOut, []));
        Assert.True(straight.ExitCode == 0, straight.StdOut + straight.StdErr);

        string checkpoint = Path.Combine(dir, "killed.ckpt"), output = Path.Combine(dir, "killed.onnxsbi");
        using (var running = TrainerHost.Start(dir, TrainArgs(checkpoint, output, checkpointing)))
        {
            Assert.True(WaitForFile(checkpoint, running.Process, limit), "no checkpoint appeared before exit: " + running.Output());
            running.Process.Kill(); // SIGKILL on Linux: no handler runs, no cleanup.
            running.Process.WaitForExit();
            Assert.NotEqual(0, running.Process.ExitCode);
        }
        Assert.False(File.Exists(output), "the killed run must not have finished (kill came too late to test anything)");
        if (checkpointing.Length > 0)
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(checkpoint);
            using var history = System.Text.Json.JsonDocument.Parse(zip.GetEntry("history.json")!.Open());
            Assert.True(history.RootElement.GetProperty("BatchesIntoEpoch").GetInt32() > 0, "the kill came at an epoch's end, so the mid-epoch resume was not exercised");
        }

        var resumed = TrainerHost.Run(dir, limit, TrainArgs(checkpoint, output, [.. checkpointing, "--resume"]));
        Assert.True(resumed.ExitCode == 0, resumed.StdOut + resumed.StdErr);

        var expected = BundleReader.Read(straightOut).Manifest.Training;
        var actual = BundleReader.Read(output).Manifest.Training;
        // From the file: about 1,152 training rows after the hold-out, 15 to 20 batches per epoch.
        if (fromFile) Assert.InRange(expected.OptimizerSteps, 6 * 15, 6 * 20);
        else Assert.Equal(6 * 20, expected.OptimizerSteps);
        Assert.Equal(expected.OptimizerSteps, actual.OptimizerSteps);
        Assert.Equal(expected.Epochs, actual.Epochs);
        // Exact equality, no tolerance: the same seeded batches, noise and optimizer state on one
        // libtorch thread give the same float operations in the same order.
        Assert.Equal(expected.Loss, actual.Loss);
        Assert.Equal(expected.ValLoss, actual.ValLoss);
    }

    /// <summary>
    /// A checkpoint written by a network of another shape (here other --widths; also a recipe whose widths changed,
    /// as the spline flow's did) is refused with the checkpoint's path and what to do, and is left in place.
    /// </summary>
    [Fact]
    public void Train_ResumedWithOtherWidths_IsRefusedNamingTheCheckpoint()
    {
        var limit = TimeSpan.FromMinutes(2);
        string checkpoint = Path.Combine(dir, "widths.ckpt"), output = Path.Combine(dir, "widths.onnxsbi");
        var first = TrainerHost.Run(dir, limit, TrainArgs(checkpoint, output, "--epochs", "1"));
        Assert.True(first.ExitCode == 0, first.StdOut + first.StdErr);
        byte[] written = File.ReadAllBytes(checkpoint);

        // The last value of an option wins: TrainArgs' widths (8, 8) become (16, 16), one epoch more to resume into.
        var other = TrainerHost.Run(dir, limit, TrainArgs(checkpoint, output, "--widths", "16,16", "--epochs", "2", "--resume"));
        Assert.NotEqual(0, other.ExitCode);
        string message = other.StdOut + other.StdErr;
        Assert.Contains($"Checkpoint '{checkpoint}' cannot be resumed from", message);
        Assert.Contains("same shape", message);
        Assert.Equal(written, File.ReadAllBytes(checkpoint));
    }
}
