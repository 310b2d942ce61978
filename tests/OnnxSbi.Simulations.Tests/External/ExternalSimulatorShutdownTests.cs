using OnnxSbi.Simulations.External;

namespace OnnxSbi.Simulations.Tests.External;

/// <summary>
/// Children never outlive their simulator: Dispose closes their standard input and kills those that ignore it after
/// the grace period, and a cancelled request stops its child.
/// </summary>
public sealed class ExternalSimulatorShutdownTests
{
    private static readonly TimeSpan Gone = TimeSpan.FromSeconds(10);

    [Fact]
    public void Dispose_WellBehavedChildren_ExitOnClosedInput()
    {
        using var pids = new TempDirectory();
        var simulator = new ExternalSimulator(TestSimulator.Options("--pid-dir", pids.Path) with { Workers = 2, ShutdownGrace = TimeSpan.FromSeconds(10) });
        simulator.SimulateMany([(4, 1UL), (4, 2UL)]);
        Assert.Equal(2, TestSimulator.WrittenPids(pids.Path).Count);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        simulator.Dispose();

        Assert.Empty(TestSimulator.StillAlive(TestSimulator.WrittenPids(pids.Path), Gone));
        // They left on the closed input, well before the 10 s grace would have had them killed.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"Dispose took {clock.Elapsed}.");
    }

    [Fact]
    public void Dispose_ChildIgnoresClosedInput_KillsIt()
    {
        using var pids = new TempDirectory();
        var simulator = new ExternalSimulator(TestSimulator.Options("--ignore-eof", "--pid-dir", pids.Path) with { ShutdownGrace = TimeSpan.FromSeconds(0.5) });
        simulator.Simulate(4, seed: 1);
        var written = TestSimulator.WrittenPids(pids.Path);
        Assert.Single(written);
        Assert.True(TestSimulator.IsAlive(written[0]));

        simulator.Dispose();

        Assert.Empty(TestSimulator.StillAlive(written, Gone));
    }

    [Fact]
    public void Simulate_Cancelled_ThrowsAndStopsTheChild()
    {
        using var pids = new TempDirectory();
        using var simulator = new ExternalSimulator(TestSimulator.Options("--sleep", "30", "--pid-dir", pids.Path) with { ShutdownGrace = TimeSpan.FromSeconds(0.5) });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));

        Assert.ThrowsAny<OperationCanceledException>(() => simulator.Simulate(4, seed: 1, cancel.Token));

        var written = TestSimulator.WrittenPids(pids.Path);
        Assert.Single(written);
        Assert.Empty(TestSimulator.StillAlive(written, Gone));
        Assert.Empty(simulator.ProcessIds);
    }
}
