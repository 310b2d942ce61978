using Xunit.Abstractions;

namespace OnnxSbi.Runtime.Tests.Reliability;

/// <summary>
/// Disposing a shared model while other threads sample from it: the calls already inside finish (or fail
/// with <see cref="ObjectDisposedException"/> if they start after the dispose), the native sessions are
/// released once the last call has left, and the process never crashes. A native crash here takes the test
/// host down, which fails the run as well.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class DisposeUnderLoadTests(ITestOutputHelper output)
{
    private const int Callers = 4;
    private const int Rounds = 20;
    private const int Draws = 20_000;

    [Theory]
    [InlineData("consistency_model")]
    [InlineData("spline_coupling_flow")]
    public async Task Dispose_WhileFourCallersSample_InFlightCallsFinishLaterCallsThrowObjectDisposed(string bundle)
    {
        string path = ShippedModelsTests.BundlePath(bundle);
        var x = new ArrayBatch(1).Set("x", [0.1, -0.2], 2);
        var random = new Random(7);
        int completed = 0, refused = 0, finishedAfterDispose = 0;
        for (int round = 0; round < Rounds; round++)
        {
            var model = PosteriorModel.Load(path);
            int disposeCalled = 0;
            var started = new CountdownEvent(Callers);
            var unexpected = new List<Exception>();
            var callers = Enumerable.Range(0, Callers).Select(i => Task.Factory.StartNew(() =>
            {
                bool signalled = false;
                try
                {
                    for (ulong call = 0; ; call++)
                    {
                        if (!signalled) { signalled = true; started.Signal(); }
                        var draws = model.Sample(x, Draws, new SamplingOptions { Seed = (ulong)i * 1000 + call });
                        Assert.Equal(Draws * 2, draws["theta"].Length);
                        Interlocked.Increment(ref completed);
                        if (Volatile.Read(ref disposeCalled) != 0) Interlocked.Increment(ref finishedAfterDispose);
                    }
                }
                catch (ObjectDisposedException e) when (e.ObjectName == typeof(PosteriorModel).FullName)
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    lock (unexpected) unexpected.Add(e);
                }
                finally
                {
                    if (!signalled) started.Signal();
                }
            }, TaskCreationOptions.LongRunning)).ToArray();

            started.Wait();
            await Task.Delay(random.Next(30, 131));
            Volatile.Write(ref disposeCalled, 1);
            model.Dispose();
            // Every caller ends at its next call after the dispose; the timeout turns a hang into a TimeoutException.
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Empty(unexpected);
            Assert.Throws<ObjectDisposedException>(() => model.Sample(x, 10));
        }
        output.WriteLine($"{bundle}: {Rounds} rounds, {completed} calls completed ({finishedAfterDispose} of them after Dispose was called), {refused} callers refused after Dispose");
        // Each caller loops until a call is refused, so every caller of every round ends with exactly one refusal.
        Assert.Equal(Rounds * Callers, refused);
        // Calls of 20,000 draws take far longer than the gap between Dispose and its flag above, so calls were in
        // flight when the model was disposed, and they returned their draws rather than being cut short.
        Assert.True(finishedAfterDispose > 0, "no call was in flight when Dispose was called; the test did not exercise disposal under load");
    }

    [Fact]
    public async Task Dispose_WhileFourCallersEvaluateLogProb_InFlightCallsFinishLaterCallsThrowObjectDisposed()
    {
        var x = new ArrayBatch(1).Set("x", [0.1, -0.2], 2);
        var random = new Random(11);
        var thetaValues = new double[Draws * 2];
        for (int i = 0; i < thetaValues.Length; i++) thetaValues[i] = random.NextDouble() - 0.5;
        var theta = new ArrayBatch(Draws).Set("theta", thetaValues, 2);
        int refused = 0;
        for (int round = 0; round < Rounds / 2; round++)
        {
            var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("spline_coupling_flow"));
            var started = new CountdownEvent(Callers);
            var unexpected = new List<Exception>();
            var callers = Enumerable.Range(0, Callers).Select(_ => Task.Factory.StartNew(() =>
            {
                bool signalled = false;
                try
                {
                    while (true)
                    {
                        if (!signalled) { signalled = true; started.Signal(); }
                        double[] logProb = model.LogProb(theta, x);
                        Assert.Equal(Draws, logProb.Length);
                        Assert.All(logProb, v => Assert.True(double.IsFinite(v)));
                    }
                }
                catch (ObjectDisposedException e) when (e.ObjectName == typeof(PosteriorModel).FullName)
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    lock (unexpected) unexpected.Add(e);
                }
                finally
                {
                    if (!signalled) started.Signal();
                }
            }, TaskCreationOptions.LongRunning)).ToArray();

            started.Wait();
            await Task.Delay(random.Next(30, 131));
            model.Dispose();
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.Empty(unexpected);
            Assert.Throws<ObjectDisposedException>(() => model.LogProb(theta, x));
        }
        Assert.Equal(Rounds / 2 * Callers, refused);
    }
}
