using System.Diagnostics;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Tests.Sampling;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>Cancelling a running <see cref="PosteriorModel.Sample"/> from another thread stops it promptly and leaves the model usable.</summary>
public sealed class SamplingCancellationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("onnxsbi-cancel-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static ArrayBatch X(double a, double b) => new ArrayBatch(1).Set("x", [a, b], 2);

    [Theory]
    [InlineData(NetworkFamily.FlowMatching)]
    [InlineData(NetworkFamily.ConsistencyModel)]
    public void Sample_CancelledFromAnotherThreadMidway_ThrowsAndModelStillWorks(NetworkFamily family)
    {
        string path = GaussianBundles.Write(dir, family);
        using var model = PosteriorModel.Load(path, new RuntimeOptions { ChunkSize = 64, IntraOpThreads = 1 });
        var small = new SamplingOptions { Seed = 3, Method = IntegratorKind.Euler, Steps = 20 };
        double[] before = model.Sample(X(0.5, -1), 200, small)["theta"];

        // 2 million draws of 2000 Euler steps (or 2000 consistency steps) in blocks of 64 rows would
        // run for many minutes; the cancel arrives 300 ms after the call started.
        var huge = new SamplingOptions { Seed = 9, Method = IntegratorKind.Euler, Steps = 2000 };
        using var cts = new CancellationTokenSource();
        var started = new ManualResetEventSlim();
        var clock = new Stopwatch();
        var sampling = Task.Run(() =>
        {
            started.Set();
            clock.Start();
            try { return model.Sample(X(0, 0), 2_000_000, huge, cts.Token); }
            finally { clock.Stop(); }
        });
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        var canceller = new Thread(() => { Thread.Sleep(300); cts.Cancel(); });
        canceller.Start();

        var e = Assert.ThrowsAny<AggregateException>(() => sampling.Wait(TimeSpan.FromMinutes(2)));
        canceller.Join();
        Assert.IsAssignableFrom<OperationCanceledException>(e.InnerException);
        // It really ran before the cancel (not refused up front) and stopped soon after it: the token
        // is checked between solver steps, each a few microseconds for 64 rows; 10 s allows a loaded CI machine.
        Assert.True(clock.ElapsedMilliseconds >= 250, $"sampling ended after {clock.ElapsedMilliseconds} ms, before the cancel");
        Assert.True(clock.ElapsedMilliseconds < 10_300, $"sampling stopped {clock.ElapsedMilliseconds} ms after it started, the cancel came at about 300 ms");

        // The pooled evaluation buffers of the cancelled call went back to the pool: the same model
        // gives the same draws as before the cancellation.
        double[] after = model.Sample(X(0.5, -1), 200, small)["theta"];
        Assert.Equal(before, after);
    }
}
