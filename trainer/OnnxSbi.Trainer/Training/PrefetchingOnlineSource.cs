using OnnxSbi.Runtime;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Training;

/// <summary>
/// Online training from an asynchronous simulator (e.g. external simulator processes): while the trainer works on batch
/// (epoch, b), the next <c>depth</c> batches are already being simulated, so <c>depth</c> parallel workers stay busy.
/// Batch (epoch, b) is simulated with <see cref="OnlineSource.BatchSeed"/>, the seed an <see cref="OnlineSource"/> uses,
/// so the run sees the same batches whether it prefetches or not, and a resumed run sees those an uninterrupted one did.
/// </summary>
internal sealed class PrefetchingOnlineSource : TrainingSource, IDisposable
{
    private readonly Func<int, ulong, CancellationToken, Task<ArrayBatch>> simulate;
    private readonly Func<ArrayBatch, NetworkData> adapt;
    private readonly int depth;
    private readonly CancellationToken cancellationToken;
    private readonly CancellationTokenSource stop;
    private readonly SortedDictionary<long, Task<ArrayBatch>> inFlight = [];

    /// <param name="simulate">(rows, seed, token) → raw simulations; called concurrently, up to <paramref name="depth"/> + 1 at a time.</param>
    /// <param name="adapt">Raw simulations → network rows; called on the trainer's thread only.</param>
    /// <param name="depth">Batches simulated ahead of the one the trainer waits for.</param>
    /// <param name="cancellationToken">Stops waiting for a batch, and the simulations in flight.</param>
    public PrefetchingOnlineSource(Func<int, ulong, CancellationToken, Task<ArrayBatch>> simulate, Func<ArrayBatch, NetworkData> adapt, int depth, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        this.simulate = simulate;
        this.adapt = adapt;
        this.depth = depth;
        this.cancellationToken = cancellationToken;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <inheritdoc />
    public override string Mode => "online";

    /// <inheritdoc />
    public override int BatchesPerEpoch(TrainingOptions options) => options.BatchesPerEpoch;

    /// <inheritdoc />
    public override long SimulationsPerEpoch(TrainingOptions options) => (long)options.BatchesPerEpoch * options.BatchSize;

    /// <inheritdoc />
    public override (Tensor Theta, Tensor Conditions) Batch(int epoch, int batch, TrainingOptions options)
    {
        int perEpoch = options.BatchesPerEpoch;
        long position = (long)epoch * perEpoch + batch;
        long end = (long)options.Epochs * perEpoch;
        // Batches behind the trainer (it resumed or skipped ahead) are no longer wanted; they finish unobserved.
        foreach (long stale in inFlight.Keys.TakeWhile(p => p < position).ToList())
        {
            _ = inFlight[stale].ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            inFlight.Remove(stale);
        }
        for (long p = position; p <= position + depth && p < end; p++)
        {
            if (inFlight.ContainsKey(p)) continue;
            ulong seed = OnlineSource.BatchSeed(options.Seed, (int)(p / perEpoch), (int)(p % perEpoch));
            inFlight[p] = simulate(options.BatchSize, seed, stop.Token);
        }
        if (!inFlight.Remove(position, out var next))
            next = simulate(options.BatchSize, OnlineSource.BatchSeed(options.Seed, epoch, batch), stop.Token);
        var data = adapt(next.WaitAsync(cancellationToken).GetAwaiter().GetResult());
        return (tensor(data.Theta, [data.Rows, data.InferenceDim]), tensor(data.Conditions, [data.Rows, data.ConditionDim]));
    }

    /// <summary>Cancels the simulations still in flight and waits for them to end, so no worker is left mid-request.</summary>
    public void Dispose()
    {
        stop.Cancel();
        try { Task.WhenAll(inFlight.Values).Wait(); }
        catch (AggregateException) { /* cancelled or failed after training no longer needed them */ }
        inFlight.Clear();
        stop.Dispose();
    }
}
