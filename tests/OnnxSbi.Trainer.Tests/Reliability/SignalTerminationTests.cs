using OnnxSbi.Runtime.Bundles;

namespace OnnxSbi.Trainer.Tests.Reliability;

/// <summary>
/// SIGTERM (what Ctrl+C's sibling, a service manager or `kill` sends) stops the real onnxsbi-train host
/// cleanly: exit code 130, a message, no bundle, and a valid checkpoint that --resume completes.
/// </summary>
public sealed class SignalTerminationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-sigterm-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Train_SigtermMidTraining_ExitsWith130AndCheckpointResumes()
    {
        // `kill -TERM` and POSIX signals exist on Linux and macOS, where CI runs.
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "this test needs POSIX signals");
        var limit = TimeSpan.FromMinutes(2);
        string checkpoint = Path.Combine(dir, "run.ckpt"), output = Path.Combine(dir, "run.onnxsbi");
        using (var running = TrainerHost.Start(dir, KillAndResumeTests.TrainArgs(checkpoint, output)))
        {
            Assert.True(KillAndResumeTests.WaitForFile(checkpoint, running.Process, limit), "no checkpoint appeared before exit: " + running.Output());
            running.Terminate();
            var (code, stdout, stderr) = running.WaitForExit(limit);
            Assert.True(code == 130, $"exit code {code}\n{stdout}{stderr}");
            Assert.Contains("Stopped by a signal", stdout + stderr);
        }
        Assert.False(File.Exists(output));
        Assert.True(File.Exists(checkpoint));

        var resumed = TrainerHost.Run(dir, limit, KillAndResumeTests.TrainArgs(checkpoint, output, "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.StdOut + resumed.StdErr);
        Assert.Equal(6 * 20, BundleReader.Read(output).Manifest.Training.OptimizerSteps);
    }
}
