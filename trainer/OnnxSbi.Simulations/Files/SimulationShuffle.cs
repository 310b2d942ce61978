using System.Buffers;
using OnnxSbi.Runtime;

namespace OnnxSbi.Simulations.Files;

/// <summary>
/// Deterministic, bounded-memory shuffling of a <see cref="SimulationFiles"/> data set into epochs, with an optional
/// held-out validation subset. Position p of epoch e is a pure function of (seed, e, p), computed without reading
/// earlier data, so batch b of epoch e is the same in a resumed run as in an uninterrupted one.
/// </summary>
/// <remarks>
/// <para>Each epoch permutes the data set's chunks (Parquet row groups, ≈<see cref="SimulationFileOptions.ChunkRows"/>-row
/// pieces of other files) with a SplitMix64 stream of (seed, epoch), groups consecutive chunks of that order into
/// windows of at most <see cref="SimulationFileOptions.WindowRows"/> rows (a larger chunk is a window by itself), and
/// permutes the rows within each window with a stream of (seed, epoch, window). The epoch is the concatenation of the
/// windows; every training row appears exactly once. Rows mix across shard boundaries through the chunk order.</para>
/// <para>Memory: the window being read, plus at most two decoded windows (the current and the prefetched next one,
/// read on a background task while training consumes the current one).</para>
/// <para>Validation: with a fraction f &gt; 0, global row r is held out when a SplitMix64 hash of (seed, r) falls
/// below f·2⁶⁴: the same rows every epoch, never in a training window.</para>
/// </remarks>
public sealed class SimulationShuffle : IDisposable
{
    private const ulong ChunkStream = 1, RowStream = 2, ValidationStream = 3;
    private readonly SimulationFiles files;
    private readonly ulong seed;
    private readonly ulong holdOutBelow;
    private readonly bool holdOut;
    private readonly int[] chunkTraining;
    private readonly int[] widths;
    private readonly object gate = new();
    // One reader at a time: a window's buffers go back to the pool when it is evicted, which must not happen while
    // another caller still copies from it.
    private readonly object consumer = new();
    private readonly Dictionary<(int Epoch, int Window), Task<Window>> cache = [];
    private readonly Dictionary<int, EpochPlan> plans = [];
    private int peakWindowRows;
    private int peakCachedWindows;
    private bool disposed;

    /// <summary>Shuffles <paramref name="files"/> with <paramref name="seed"/>, holding out about <paramref name="validationFraction"/> of the rows.</summary>
    /// <param name="files">The data set.</param>
    /// <param name="seed">The training seed; the same seed gives the same epochs.</param>
    /// <param name="validationFraction">The expected share of rows held out for validation, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is outside [0, 1), or holds out more than <see cref="SimulationFileOptions.MaxValidationRows"/> rows.</exception>
    public SimulationShuffle(SimulationFiles files, ulong seed, double validationFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        this.files = files;
        this.seed = seed;
        widths = files.Widths;
        holdOut = validationFraction > 0;
        holdOutBelow = (ulong)(validationFraction * 18446744073709551616.0);
        var chunks = files.Chunks;
        chunkTraining = new int[chunks.Count];
        long training = 0;
        for (int c = 0; c < chunks.Count; c++)
        {
            int n = chunks[c].Rows;
            if (holdOut)
                for (long r = chunks[c].Start; r < chunks[c].Start + chunks[c].Rows; r++)
                    if (IsHeldOut(r)) n--;
            chunkTraining[c] = n;
            training += n;
        }
        TrainingRows = training;
        ValidationRows = files.Rows - training;
        if (ValidationRows > files.Options.MaxValidationRows)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction,
                $"A validation fraction of {validationFraction} holds out {ValidationRows} of {files.Rows} rows, more than the {files.Options.MaxValidationRows} validation rows kept in memory (SimulationFileOptions.MaxValidationRows); lower the fraction or pass separate validation files.");
    }

    /// <summary>Rows in every training epoch.</summary>
    public long TrainingRows { get; }

    /// <summary>Rows held out for validation.</summary>
    public long ValidationRows { get; }

    /// <summary>The data set.</summary>
    public SimulationFiles Files => files;

    /// <summary>The largest window decoded so far, in rows (for tests of the memory bound).</summary>
    internal int PeakWindowRows => Volatile.Read(ref peakWindowRows);

    /// <summary>The most decoded windows held at once (for tests of the memory bound).</summary>
    internal int PeakCachedWindows => Volatile.Read(ref peakCachedWindows);

    /// <summary>
    /// Training rows [<paramref name="position"/>, <paramref name="position"/>+<paramref name="count"/>) of epoch
    /// <paramref name="epoch"/>'s order, copied into a new batch. Starts reading the following window in the background.
    /// </summary>
    /// <exception cref="Formats.DataFileException">A shard's data is ragged, non-numeric or truncated.</exception>
    public ArrayBatch ReadTraining(int epoch, long position, int count)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch must not be negative.");
        if (position < 0 || count < 0 || position + count > TrainingRows)
            throw new ArgumentOutOfRangeException(nameof(position), $"Training rows [{position}, {position + count}) are outside the {TrainingRows} training rows.");
        var data = widths.Select(w => new double[(long)count * w]).ToArray();
        var plan = Plan(epoch);
        int done = 0;
        lock (consumer)
        {
            while (done < count)
            {
                long at = position + done;
                int k = plan.WindowOf(at);
                var window = Get(epoch, k);
                int offset = (int)(at - plan.Positions[k]);
                int take = Math.Min(count - done, window.Rows - offset);
                for (int v = 0; v < widths.Length; v++)
                    window.Data[v].AsSpan(offset * widths[v], take * widths[v]).CopyTo(data[v].AsSpan(done * widths[v]));
                done += take;
            }
        }
        return ToBatch(count, data);
    }

    /// <summary>The held-out rows, in global row order; reading them takes one pass over the data set.</summary>
    public ArrayBatch ReadValidation()
    {
        var data = widths.Select(w => new double[ValidationRows * w]).ToArray();
        if (ValidationRows > 0)
        {
            var scratch = widths.Select(w => new double[(long)files.Chunks.Max(c => c.Rows) * w]).ToArray();
            int at = 0;
            foreach (var chunk in files.Chunks)
            {
                files.ReadInto(chunk.Start, chunk.Rows, scratch, 0);
                for (int r = 0; r < chunk.Rows; r++)
                {
                    if (!IsHeldOut(chunk.Start + r)) continue;
                    for (int v = 0; v < widths.Length; v++)
                        scratch[v].AsSpan(r * widths[v], widths[v]).CopyTo(data[v].AsSpan(at * widths[v]));
                    at++;
                }
            }
        }
        return ToBatch((int)ValidationRows, data);
    }

    /// <summary>Waits for background reads and drops the cached windows.</summary>
    public void Dispose()
    {
        Task[] pending;
        lock (gate)
        {
            disposed = true;
            pending = [.. cache.Values];
            foreach (var window in cache.Values) Recycle(window);
            cache.Clear();
        }
        try { Task.WaitAll(pending); }
        catch (AggregateException) { }
    }

    private ArrayBatch ToBatch(int rows, double[][] data)
    {
        var batch = new ArrayBatch(rows);
        for (int v = 0; v < widths.Length; v++) batch.Set(files.Variables[v], data[v], files.SampleShapes[v]);
        return batch;
    }

    private bool IsHeldOut(long row) => holdOut && SplitMix64.Mix(SplitMix64.Derive(seed, ValidationStream) + (ulong)row) < holdOutBelow;

    /// <summary>Returns window k of the epoch (cached or read now), keeping only it and the next one cached and starting the next one's read.</summary>
    private Window Get(int epoch, int k)
    {
        Task<Window> task;
        lock (gate)
        {
            var key = (epoch, k);
            var plan = Plan(epoch);
            var next = k + 1 < plan.Windows.Length ? (epoch, k + 1) : (epoch + 1, 0);
            foreach (var old in cache.Keys.Where(c => c != key && c != next).ToList())
            {
                Recycle(cache[old]);
                cache.Remove(old);
            }
            task = Start(key);
            Start(next);
            peakCachedWindows = Math.Max(peakCachedWindows, cache.Count);
        }
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Returns an evicted window's buffers to the pool, now or when its read finishes, so a pass over any
    /// number of windows reuses the same few buffers instead of leaving each window's arrays to the garbage collector.</summary>
    private static void Recycle(Task<Window> window) => window.ContinueWith(t =>
    {
        if (t.IsCompletedSuccessfully)
            foreach (var buffer in t.Result.Data) ArrayPool<double>.Shared.Return(buffer);
    }, TaskScheduler.Default);

    private Task<Window> Start((int Epoch, int Window) key)
    {
        if (!cache.TryGetValue(key, out var task))
        {
            var plan = Plan(key.Epoch);
            task = Task.Run(() => Load(plan, key.Window));
            cache[key] = task;
        }
        return task;
    }

    private EpochPlan Plan(int epoch)
    {
        lock (gate)
        {
            if (plans.TryGetValue(epoch, out var plan)) return plan;
            foreach (int old in plans.Keys.Where(e => e < epoch - 1 || e > epoch + 1).ToList()) plans.Remove(old);
            var order = Enumerable.Range(0, files.Chunks.Count).ToArray();
            new SplitMix64(SplitMix64.Derive(seed, ChunkStream, (ulong)epoch)).Shuffle(order);
            var windows = new List<int[]>();
            var current = new List<int>();
            long rows = 0;
            foreach (int c in order)
            {
                int n = files.Chunks[c].Rows;
                if (current.Count > 0 && rows + n > files.Options.WindowRows)
                {
                    windows.Add([.. current]);
                    current.Clear();
                    rows = 0;
                }
                current.Add(c);
                rows += n;
            }
            if (current.Count > 0) windows.Add([.. current]);
            var positions = new long[windows.Count + 1];
            for (int w = 0; w < windows.Count; w++) positions[w + 1] = positions[w] + windows[w].Sum(c => (long)chunkTraining[c]);
            plan = new EpochPlan(epoch, [.. windows], positions);
            plans[epoch] = plan;
            return plan;
        }
    }

    /// <summary>Reads the window's chunks, drops held-out rows and permutes the rest with the (seed, epoch, window) stream.</summary>
    private Window Load(EpochPlan plan, int k)
    {
        var chunks = plan.Windows[k];
        int rows = chunks.Sum(c => files.Chunks[c].Rows);
        int training = (int)(plan.Positions[k + 1] - plan.Positions[k]);
        InterlockedMax(ref peakWindowRows, rows);
        var raw = widths.Select(w => ArrayPool<double>.Shared.Rent(Math.Max(1, rows * w))).ToArray();
        try
        {
            int at = 0;
            foreach (int c in chunks)
            {
                files.ReadInto(files.Chunks[c].Start, files.Chunks[c].Rows, raw, at);
                at += files.Chunks[c].Rows;
            }
            var index = new int[training];
            int kept = 0;
            at = 0;
            foreach (int c in chunks)
            {
                var chunk = files.Chunks[c];
                for (int r = 0; r < chunk.Rows; r++, at++)
                    if (!IsHeldOut(chunk.Start + r)) index[kept++] = at;
            }
            new SplitMix64(SplitMix64.Derive(seed, RowStream, (ulong)plan.Epoch, (ulong)k)).Shuffle(index);
            var data = new double[widths.Length][];
            for (int v = 0; v < widths.Length; v++)
            {
                int w = widths[v];
                var source = raw[v];
                // Pooled: returned by Recycle when the window is evicted. It may be longer than training·w.
                var target = data[v] = ArrayPool<double>.Shared.Rent(Math.Max(1, training * w));
                for (int i = 0; i < training; i++) Array.Copy(source, index[i] * w, target, i * w, w);
            }
            return new Window(training, data);
        }
        finally
        {
            foreach (var r in raw) ArrayPool<double>.Shared.Return(r);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    /// <summary>One epoch's windows (chunk indices) and the training position each starts at.</summary>
    private sealed record EpochPlan(int Epoch, int[][] Windows, long[] Positions)
    {
        /// <summary>The window holding training position <paramref name="position"/>: the last k with Positions[k] ≤ position.</summary>
        public int WindowOf(long position)
        {
            int lo = 0, hi = Windows.Length - 1;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                if (Positions[mid] <= position) lo = mid; else hi = mid - 1;
            }
            return lo;
        }
    }

    /// <summary>A decoded window: its training rows in shuffled order, one array per variable.</summary>
    private sealed record Window(int Rows, double[][] Data);
}
