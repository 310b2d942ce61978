namespace OnnxSbi.Runtime;

/// <summary>
/// Idle per-shape resources (a block's bound buffers, its scratch arrays) kept for reuse, for at most
/// <see cref="MaxKeys"/> distinct shapes. A request's full-size blocks share one shape, but its last block has
/// its own row count, so a model that serves varied draw counts would otherwise keep resources for every row
/// count it has ever seen. When a new shape would exceed the bound, the shape used least recently is evicted
/// and its idle items are released at once. Items of that shape rented at that moment are untouched: when they
/// come back, their shape is pooled again as the one used most recently.
/// </summary>
/// <remarks>
/// The pool owns its idle items: <see cref="Dispose"/> releases them, and an item returned after that is
/// released instead of kept. A renter owns its item until it returns it. Taking and returning an item of a
/// pooled shape allocates nothing; a short lock guards the table (one take and one return per block, each
/// block costing at least one graph run).
/// </remarks>
/// <typeparam name="TKey">The shape: rows, or rows and solver steps.</typeparam>
/// <typeparam name="TItem">The pooled resource.</typeparam>
internal sealed class BlockPool<TKey, TItem> : IDisposable
    where TKey : notnull
    where TItem : class
{
    private readonly Dictionary<TKey, Shape> shapes = [];
    private readonly Action<TItem> release;
    private long clock;
    private bool disposed;

    /// <summary>A pool of at most <paramref name="maxKeys"/> shapes; <paramref name="release"/> frees one item's resources (native handles, if any).</summary>
    public BlockPool(int maxKeys, Action<TItem> release)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKeys, 1);
        MaxKeys = maxKeys;
        this.release = release;
    }

    /// <summary>The most distinct shapes kept at once.</summary>
    public int MaxKeys { get; }

    /// <summary>The shapes kept now.</summary>
    public int KeyCount
    {
        get { lock (shapes) return shapes.Count; }
    }

    /// <summary>Idle items kept now, over all shapes.</summary>
    public int IdleCount
    {
        get { lock (shapes) return shapes.Values.Sum(s => s.Idle.Count); }
    }

    /// <summary>Takes an idle item of shape <paramref name="key"/>; false when there is none (the caller creates one).</summary>
    public bool TryTake(TKey key, out TItem item)
    {
        lock (shapes)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (shapes.TryGetValue(key, out var shape))
            {
                shape.LastUse = ++clock;
                if (shape.Idle.TryPop(out var idle))
                {
                    item = idle;
                    return true;
                }
            }
        }
        item = null!;
        return false;
    }

    /// <summary>
    /// Gives <paramref name="item"/> of shape <paramref name="key"/> back to the pool, which then owns it. Evicts the
    /// least recently used shape when this one is new and the pool is full; releases <paramref name="item"/> itself
    /// when the pool has been disposed.
    /// </summary>
    public void Return(TKey key, TItem item)
    {
        Shape? evicted = null;
        lock (shapes)
        {
            if (!disposed)
            {
                if (!shapes.TryGetValue(key, out var shape))
                {
                    if (shapes.Count >= MaxKeys) evicted = EvictLeastRecentlyUsed();
                    shapes.Add(key, shape = new Shape());
                }
                shape.LastUse = ++clock;
                shape.Idle.Push(item);
                item = null!;
            }
        }
        if (item is not null) release(item);
        if (evicted is not null) ReleaseAll(evicted);
    }

    /// <summary>Releases every idle item; items returned later are released on return.</summary>
    public void Dispose()
    {
        List<Shape> all;
        lock (shapes)
        {
            if (disposed) return;
            disposed = true;
            all = [.. shapes.Values];
            shapes.Clear();
        }
        foreach (var shape in all) ReleaseAll(shape);
    }

    private Shape EvictLeastRecentlyUsed()
    {
        TKey oldest = default!;
        long oldestUse = long.MaxValue;
        foreach (var (key, shape) in shapes)
        {
            if (shape.LastUse >= oldestUse) continue;
            oldest = key;
            oldestUse = shape.LastUse;
        }
        shapes.Remove(oldest, out var evicted);
        return evicted!;
    }

    private void ReleaseAll(Shape shape)
    {
        while (shape.Idle.TryPop(out var item)) release(item);
    }

    /// <summary>The idle items of one shape, and when the shape was last taken or returned.</summary>
    private sealed class Shape
    {
        public Stack<TItem> Idle { get; } = new();

        public long LastUse { get; set; }
    }
}
