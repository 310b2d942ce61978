using OnnxSbi.Simulations.Files;

namespace OnnxSbi.Simulations.Tests;

/// <summary>
/// The shuffle over three .npz shards whose "id" variable is the global row index, with chunks and windows much smaller
/// than the data, so epochs cross shard and window boundaries.
/// </summary>
public sealed class SimulationShuffleTests : IDisposable
{
    private const int ShardRows = 100;
    private readonly TestFiles files = new();
    private readonly SimulationFiles data;

    public SimulationShuffleTests()
    {
        for (int s = 0; s < 3; s++)
        {
            var ids = Enumerable.Range(s * ShardRows, ShardRows).Select(i => (double)i).ToArray();
            files.Npz($"shard_{s}.npz", compress: false, ("id", [ShardRows], ids), ("x", [ShardRows, 2], [.. ids.SelectMany(i => new[] { i, -i })]));
        }
        data = SimulationFiles.Open([Path.Combine(files.Root, "*.npz")], ["id", "x"], new SimulationFileOptions { ChunkRows = 7, WindowRows = 30 });
    }

    public void Dispose() => files.Dispose();

    private static double[] Epoch(SimulationShuffle shuffle, int epoch) => shuffle.ReadTraining(epoch, 0, (int)shuffle.TrainingRows).Get("id");

    [Fact]
    public void Shuffle_SameSeed_SameBatches()
    {
        using var a = new SimulationShuffle(data, seed: 11);
        using var b = new SimulationShuffle(data, seed: 11);
        Assert.Equal(Epoch(a, 0), Epoch(b, 0));
        Assert.Equal(a.ReadTraining(3, 50, 64).Get("x"), b.ReadTraining(3, 50, 64).Get("x"));
    }

    [Fact]
    public void Shuffle_DifferentEpochsOrSeeds_DifferentOrder()
    {
        using var a = new SimulationShuffle(data, seed: 11);
        using var b = new SimulationShuffle(data, seed: 12);
        Assert.NotEqual(Epoch(a, 0), Epoch(a, 1));
        Assert.NotEqual(Epoch(a, 0), Epoch(b, 0));
    }

    [Fact]
    public void Shuffle_WithValidationFraction_EveryTrainingRowOncePerEpochAndValidationDisjoint()
    {
        using var shuffle = new SimulationShuffle(data, seed: 5, validationFraction: 0.2);
        var validation = shuffle.ReadValidation();
        var held = validation.Get("id").Select(v => (int)v).ToHashSet();

        // 300 rows at 20%: the held-out count is binomial (mean 60, sd 7); 30..90 is over 4 sd either side.
        Assert.InRange(held.Count, 30, 90);
        Assert.Equal(held.Count, validation.Rows);
        Assert.Equal(validation.Get("id").Select(i => new[] { i, -i }).SelectMany(p => p), validation.Get("x"));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var ids = Epoch(shuffle, epoch).Select(v => (int)v).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Empty(ids.Intersect(held));
            Assert.Equal(Enumerable.Range(0, 3 * ShardRows), ids.Concat(held).Order());
        }
    }

    [Fact]
    public void Shuffle_ChunksOfSeveralShards_MixWithinOneWindow()
    {
        using var shuffle = new SimulationShuffle(data, seed: 2);
        var first = shuffle.ReadTraining(0, 0, 21).Get("id");
        Assert.True(first.Select(i => (int)i / ShardRows).Distinct().Count() > 1 || shuffle.ReadTraining(1, 0, 21).Get("id").Select(i => (int)i / ShardRows).Distinct().Count() > 1,
            "the first window of epochs 0 and 1 both hold rows of one shard only");
    }

    [Fact]
    public void Shuffle_FreshInstance_BatchEqualsSequentialPass()
    {
        const int batch = 16;
        using var sequential = new SimulationShuffle(data, seed: 9, validationFraction: 0.1);
        var batches = new List<double[]>();
        for (int e = 0; e < 2; e++)
            for (int b = 0; b < sequential.TrainingRows / batch; b++)
                batches.Add(sequential.ReadTraining(e, (long)b * batch, batch).Get("x"));

        using var resumed = new SimulationShuffle(data, seed: 9, validationFraction: 0.1);
        int perEpoch = (int)(resumed.TrainingRows / batch);
        Assert.Equal(batches[perEpoch + 7], resumed.ReadTraining(1, 7L * batch, batch).Get("x"));
        Assert.Equal(batches[3], resumed.ReadTraining(0, 3L * batch, batch).Get("x"));
    }

    [Fact]
    public void Shuffle_FullEpochs_WindowCacheStaysWithinConfiguredRows()
    {
        using var shuffle = new SimulationShuffle(data, seed: 4);
        for (int e = 0; e < 2; e++)
            for (long p = 0; p + 10 <= shuffle.TrainingRows; p += 10) shuffle.ReadTraining(e, p, 10);

        Assert.InRange(shuffle.PeakWindowRows, 1, data.Options.WindowRows);
        Assert.InRange(shuffle.PeakCachedWindows, 1, 2);
    }
}
