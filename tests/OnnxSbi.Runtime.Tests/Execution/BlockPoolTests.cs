namespace OnnxSbi.Runtime.Tests.Execution;

/// <summary>
/// The per-shape pool behind every evaluation and scratch block: at most MaxKeys shapes, the least recently
/// used evicted and its idle items released, rented items never touched, and a pooled shape served without
/// allocating.
/// </summary>
public sealed class BlockPoolTests
{
    private sealed class Item(int shape)
    {
        public int Shape { get; } = shape;

        public int Releases { get; set; }
    }

    private static BlockPool<int, Item> Pool(int maxKeys) => new(maxKeys, static item => item.Releases++);

    private static Item Take(BlockPool<int, Item> pool, int shape) => pool.TryTake(shape, out var item) ? item : new Item(shape);

    [Fact]
    public void Return_OfANewShapeWhenFull_EvictsTheLeastRecentlyUsedShapeAndReleasesItsIdleItems()
    {
        var pool = Pool(maxKeys: 3);
        Item[] items = [.. Enumerable.Range(1, 3).Select(shape => new Item(shape))];
        foreach (var item in items) pool.Return(item.Shape, item);
        // Shape 1 used again: shape 2 is now the least recently used.
        var one = Take(pool, 1);
        pool.Return(1, one);

        pool.Return(4, new Item(4));

        Assert.Equal(3, pool.KeyCount);
        Assert.Equal(1, items[1].Releases);
        Assert.All(new[] { items[0], items[2] }, item => Assert.Equal(0, item.Releases));
        Assert.False(pool.TryTake(2, out _));
        Assert.True(pool.TryTake(1, out var again));
        Assert.Same(items[0], again);
    }

    [Fact]
    public void Evict_WhileAnItemOfTheShapeIsRented_LeavesTheRentedItemAlone()
    {
        var pool = Pool(maxKeys: 2);
        var idle = new Item(1);
        pool.Return(1, idle);
        var rented = new Item(1);
        pool.Return(2, new Item(2));
        pool.Return(3, new Item(3));

        Assert.Equal(1, idle.Releases);
        Assert.Equal(0, rented.Releases);
        // Back from its renter, the evicted shape is pooled again as the most recent one.
        pool.Return(1, rented);
        Assert.Equal(2, pool.KeyCount);
        Assert.True(pool.TryTake(1, out var taken));
        Assert.Same(rented, taken);
        Assert.Equal(0, rented.Releases);
    }

    [Fact]
    public void Return_OfManyDistinctShapes_KeepsAtMostMaxKeysAndReleasesEachEvictedItemOnce()
    {
        var pool = Pool(maxKeys: 8);
        var all = new List<Item>();
        for (int shape = 1; shape <= 500; shape++)
        {
            var item = Take(pool, shape);
            all.Add(item);
            pool.Return(shape, item);
            Assert.True(pool.KeyCount <= 8, $"after shape {shape}: {pool.KeyCount} shapes kept, more than 8");
        }
        Assert.Equal(8, pool.KeyCount);
        Assert.Equal(8, pool.IdleCount);
        Assert.All(all.Take(492), item => Assert.Equal(1, item.Releases));
        Assert.All(all.Skip(492), item => Assert.Equal(0, item.Releases));
    }

    [Fact]
    public void Dispose_ReleasesIdleItemsAndItemsReturnedLater()
    {
        var pool = Pool(maxKeys: 4);
        var idle = new Item(1);
        pool.Return(1, idle);
        var rented = new Item(2);
        pool.Dispose();
        Assert.Equal(1, idle.Releases);
        pool.Return(2, rented);
        Assert.Equal(1, rented.Releases);
        Assert.Equal(0, pool.KeyCount);
        Assert.Throws<ObjectDisposedException>(() => pool.TryTake(1, out _));
    }

    [Fact]
    public void TakeAndReturn_OfAPooledShape_AllocatesNothing()
    {
        var pool = Pool(maxKeys: 8);
        for (int shape = 0; shape < 8; shape++) pool.Return(shape, new Item(shape));
        for (int warm = 0; warm < 100; warm++) pool.Return(warm % 8, Take(pool, warm % 8));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++) pool.Return(i % 8, Take(pool, i % 8));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Exact: the steady state rents from and returns to existing stacks, which never grow.
        Assert.Equal(0, allocated);
    }
}
