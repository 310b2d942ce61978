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
        var totals = new Counts();
        for (int round = 0; round < Rounds; round++)
        {
            var model = PosteriorModel.Load(path);
            await DisposeDuringCalls(model, random, totals, (caller, call) =>
            {
                var draws = model.Sample(x, Draws, new SamplingOptions { Seed = (ulong)caller * 1000 + call });
                Assert.Equal(Draws * 2, draws["theta"].Length);
            });
            Assert.Throws<ObjectDisposedException>(() => model.Sample(x, 10));
        }
        output.WriteLine($"{bundle}: {Rounds} rounds, {totals.Completed} calls completed ({totals.FinishedAfterDispose} of them after Dispose was called), {totals.Refused} callers refused after Dispose");
        // Each caller loops until a call is refused, so every caller of every round ends with exactly one refusal.
        Assert.Equal(Rounds * Callers, totals.Refused);
        // Calls of 20,000 draws take far longer than the gap between Dispose and its flag, so calls were in
        // flight when the model was disposed, and they returned their draws rather than being cut short.
        Assert.True(totals.FinishedAfterDispose > 0, "no call was in flight when Dispose was called; the test did not exercise disposal under load");
    }

    [Fact]
    public async Task Dispose_WhileFourCallersEvaluateLogProb_InFlightCallsFinishLaterCallsThrowObjectDisposed()
    {
        var x = new ArrayBatch(1).Set("x", [0.1, -0.2], 2);
        var random = new Random(11);
        var thetaValues = new double[Draws * 2];
        for (int i = 0; i < thetaValues.Length; i++) thetaValues[i] = random.NextDouble() - 0.5;
        var theta = new ArrayBatch(Draws).Set("theta", thetaValues, 2);
        var totals = new Counts();
        for (int round = 0; round < Rounds / 2; round++)
        {
            var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("spline_coupling_flow"));
            await DisposeDuringCalls(model, random, totals, (_, _) =>
            {
                double[] logProb = model.LogProb(theta, x);
                Assert.Equal(Draws, logProb.Length);
                Assert.All(logProb, v => Assert.True(double.IsFinite(v)));
            });
            Assert.Throws<ObjectDisposedException>(() => model.LogProb(theta, x));
        }
        Assert.Equal(Rounds / 2 * Callers, totals.Refused);
    }

    /// <summary>Calls made, calls that returned after Dispose was called, and callers refused, over all rounds.</summary>
    private sealed class Counts
    {
        public int Completed;
        public int FinishedAfterDispose;
        public int Refused;
    }

    /// <summary>
    /// One round: <see cref="Callers"/> threads repeat <paramref name="call"/> (caller index, call index) until a call is
    /// refused; once all have started, the model is disposed after a random delay of <see cref="MinDisposeDelayMs"/> to
    /// <see cref="MaxDisposeDelayMs"/> milliseconds, so that it lands at a different point of the calls each round. Fails on any exception other than the
    /// model's <see cref="ObjectDisposedException"/>, and on a caller still running two minutes after the dispose.
    /// </summary>
    private const int MinDisposeDelayMs = 30, MaxDisposeDelayMs = 130;

    private static async Task DisposeDuringCalls(PosteriorModel model, Random random, Counts totals, Action<int, ulong> call)
    {
        int disposeCalled = 0;
        var started = new CountdownEvent(Callers);
        var unexpected = new List<Exception>();
        var callers = Enumerable.Range(0, Callers).Select(i => Task.Factory.StartNew(() =>
        {
            bool signalled = false;
            try
            {
                for (ulong n = 0; ; n++)
                {
                    if (!signalled) { signalled = true; started.Signal(); }
                    call(i, n);
                    Interlocked.Increment(ref totals.Completed);
                    if (Volatile.Read(ref disposeCalled) != 0) Interlocked.Increment(ref totals.FinishedAfterDispose);
                }
            }
            catch (ObjectDisposedException e) when (e.ObjectName == typeof(PosteriorModel).FullName)
            {
                Interlocked.Increment(ref totals.Refused);
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
        await Task.Delay(random.Next(MinDisposeDelayMs, MaxDisposeDelayMs + 1));
        Volatile.Write(ref disposeCalled, 1);
        model.Dispose();
        // Every caller ends at its next call after the dispose; the timeout turns a hang into a TimeoutException.
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Empty(unexpected);
    }
}
