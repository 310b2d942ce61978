using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using OnnxSbi.Runtime;

namespace OnnxSbi.Simulations.External;

/// <summary>
/// A simulator written in any language, run as child processes that speak the simulator protocol
/// (docs/simulator-protocol.md): each request is one JSON line on the child's standard input,
/// <c>{"protocol": 1, "batch_size": N, "seed": S}</c>, and each response an 8-byte little-endian length followed by an
/// NPZ archive of arrays with N rows. <see cref="ExternalSimulatorOptions.Workers"/> children answer requests in
/// parallel; each is started on first use and restarted after a crash or a timeout.
/// </summary>
/// <remarks>
/// The simulator owns the children: <see cref="Dispose"/> closes their standard input (which asks them to exit), waits
/// <see cref="ExternalSimulatorOptions.ShutdownGrace"/>, then kills what is left of their process trees. A cancelled
/// request stops its child the same way. As a last resort the children's trees are killed when this process exits
/// (SIGTERM, or the end of Main).
/// </remarks>
/// <example>
/// <code>
/// using var simulator = new ExternalSimulator(new ExternalSimulatorOptions { Command = "python3 two_moons.py", Workers = 4 });
/// ArrayBatch batch = simulator.Simulate(batchSize: 64, seed: 7);   // theta [64, 2], x [64, 2]
/// </code>
/// </example>
public sealed class ExternalSimulator : IDisposable
{
    private readonly SimulatorProcess?[] children;
    private readonly ConcurrentStack<int> idle = new();
    private readonly SemaphoreSlim available;
    private readonly ResponseSchema schema;
    private readonly CancellationTokenSource disposing = new();
    private int disposed;

    /// <summary>Validates <paramref name="options"/>; no child starts before the first request.</summary>
    /// <exception cref="ArgumentException">An option is impossible (see <see cref="ExternalSimulatorOptions.Validate"/>).</exception>
    public ExternalSimulator(ExternalSimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        children = new SimulatorProcess?[options.Workers];
        for (int w = options.Workers - 1; w >= 0; w--) idle.Push(w);
        available = new SemaphoreSlim(options.Workers, options.Workers);
        schema = new ResponseSchema(options);
        AppDomain.CurrentDomain.ProcessExit += KillOnProcessExit;
    }

    /// <summary>The options the simulator was created with.</summary>
    public ExternalSimulatorOptions Options { get; }

    /// <summary>
    /// Simulates <paramref name="batchSize"/> rows from <paramref name="seed"/> on the next free worker, waiting for one
    /// if all are busy. Thread-safe.
    /// </summary>
    /// <returns>One array per variable the simulator returned, each with <paramref name="batchSize"/> rows.</returns>
    /// <exception cref="ExternalSimulatorException">The children failed more often than the retries allow, or answered with an unusable batch.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; the worker's child was stopped.</exception>
    public ArrayBatch Simulate(int batchSize, ulong seed, CancellationToken cancellationToken = default)
        => SimulateAsync(batchSize, seed, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="Simulate"/>
    public async Task<ArrayBatch> SimulateAsync(int batchSize, ulong seed, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, disposing.Token);
        try
        {
            await available.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (disposing.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ExternalSimulator));
        }
        if (!idle.TryPop(out int worker)) throw new InvalidOperationException("No idle worker although the semaphore granted one.");
        try
        {
            return await RunAsync(worker, batchSize, seed, cancellationToken, linked.Token).ConfigureAwait(false);
        }
        finally
        {
            idle.Push(worker);
            available.Release();
        }
    }

    /// <summary>
    /// Simulates every request on the workers in parallel and returns the batches in request order. The first failure
    /// cancels the requests still running and is thrown.
    /// </summary>
    /// <param name="requests">(rows, seed) of each batch.</param>
    /// <param name="cancellationToken">Stops the requests; their children are stopped.</param>
    public IReadOnlyList<ArrayBatch> SimulateMany(IReadOnlyList<(int BatchSize, ulong Seed)> requests, CancellationToken cancellationToken = default)
        => SimulateManyAsync(requests, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="SimulateMany"/>
    public async Task<IReadOnlyList<ArrayBatch>> SimulateManyAsync(IReadOnlyList<(int BatchSize, ulong Seed)> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = requests.Select(async r =>
        {
            try { return await SimulateAsync(r.BatchSize, r.Seed, failed.Token).ConfigureAwait(false); }
            catch { failed.Cancel(); throw; }
        }).ToArray();
        try
        {
            return await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A sibling's failure cancelled this one; report the failure, not the cancellation.
            var cause = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (cause is not null) ExceptionDispatchInfo.Throw(cause);
            throw;
        }
    }

    /// <summary>
    /// Simulates <paramref name="rows"/> rows as requests of <paramref name="chunkSize"/> rows (the last one smaller)
    /// spread over the workers, and stacks them into one batch, e.g. for offline training. Chunk k is simulated from a
    /// seed derived from (<paramref name="seed"/>, k), so the result depends on the rows, the chunk size and the seed
    /// but not on the number of workers.
    /// </summary>
    /// <exception cref="ExternalSimulatorException">A chunk failed.</exception>
    public ArrayBatch SimulateRows(int rows, ulong seed, int chunkSize = 1024, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        int chunks = (rows + chunkSize - 1) / chunkSize;
        var requests = Enumerable.Range(0, chunks).Select(k => (Math.Min(chunkSize, rows - k * chunkSize), ChunkSeed(seed, k))).ToList();
        return ArrayBatch.Concat(SimulateMany(requests, cancellationToken));
    }

    /// <summary>The seed of chunk <paramref name="chunk"/>: SplitMix64's output for the chunk's position in the seed's stream.</summary>
    internal static ulong ChunkSeed(ulong seed, int chunk)
    {
        ulong z = unchecked(seed + 0x9E3779B97F4A7C15UL * (ulong)(chunk + 1));
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>The process ids of the children running now (the shell, or the simulator the shell became).</summary>
    internal IReadOnlyList<int> ProcessIds
    {
        get { lock (children) return [.. children.OfType<SimulatorProcess>().Select(c => c.Id)]; }
    }

    /// <summary>Stops every child: closes its standard input, waits up to the shutdown grace, then kills its process tree.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        AppDomain.CurrentDomain.ProcessExit -= KillOnProcessExit;
        disposing.Cancel();
        List<SimulatorProcess> running;
        lock (children)
        {
            running = [.. children.OfType<SimulatorProcess>()];
            Array.Clear(children);
        }
        Task.WhenAll(running.Select(c => c.StopAsync())).GetAwaiter().GetResult();
        foreach (var child in running) child.Dispose();
        disposing.Dispose();
    }

    private async Task<ArrayBatch> RunAsync(int worker, int batchSize, ulong seed, CancellationToken caller, CancellationToken stop)
    {
        var reasons = new List<string>();
        for (int attempt = 0; ; attempt++)
        {
            var child = Child(worker);
            using var timeout = new CancellationTokenSource(Options.BatchTimeout);
            using var token = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
            string reason;
            try
            {
                byte[] payload = await child.RequestAsync(batchSize, seed, token.Token).ConfigureAwait(false);
                return schema.Read(payload, batchSize, seed, child);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"did not answer within the batch timeout of {Options.BatchTimeout.TotalSeconds:0.###} s");
                await child.KillAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Cancelled by the caller or by Dispose: the child may be mid-response, so it cannot serve again.
                Retire(worker, child);
                await child.StopAsync().ConfigureAwait(false);
                child.Dispose();
                if (!caller.IsCancellationRequested) throw new ObjectDisposedException(nameof(ExternalSimulator));
                throw;
            }
            catch (SimulatorFailedException e)
            {
                reason = e.Message;
                await child.KillAsync().ConfigureAwait(false);
            }
            catch (ExternalSimulatorException)
            {
                // Out of step (garbage on standard output) or an unusable batch: retrying would only repeat it.
                Retire(worker, child);
                await child.StopAsync().ConfigureAwait(false);
                child.Dispose();
                throw;
            }

            var tail = child.StandardErrorTail();
            Retire(worker, child);
            child.Dispose();
            reasons.Add($"attempt {attempt + 1}: {reason}");
            string request = SimulatorProcess.RequestLine(batchSize, seed);
            if (attempt >= Options.Retries)
            {
                string stderr = tail.Count == 0
                    ? "It wrote nothing to standard error."
                    : $"Its last lines on standard error:{Environment.NewLine}{string.Join(Environment.NewLine, tail.Select(l => "  " + l))}";
                throw new ExternalSimulatorException(Options.Command,
                    $"The simulator '{Options.Command}' (worker {worker}) failed the request {request} {attempt + 1} time(s), so the {Options.Retries} " +
                    $"retries are spent ({string.Join("; ", reasons)}). {stderr}", tail);
            }
            Options.Logger?.LogWarning("simulator {Worker}: {Reason} on request {Request}; restarting it (retry {Retry} of {Retries}).",
                worker, reason, request, attempt + 1, Options.Retries);
        }
    }

    /// <summary>The worker's running child, started if there is none.</summary>
    private SimulatorProcess Child(int worker)
    {
        lock (children)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            return children[worker] ??= SimulatorProcess.Start(Options, worker);
        }
    }

    private void Retire(int worker, SimulatorProcess child)
    {
        lock (children)
            if (ReferenceEquals(children[worker], child)) children[worker] = null;
    }

    private void KillOnProcessExit(object? sender, EventArgs e)
    {
        lock (children)
            foreach (var child in children) child?.Kill();
    }
}
