using OnnxSbi.Trainer.Networks;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class ConsistencyModelScheduleTests
{
    // Expected values below were computed by hand from the formulas of docs/algorithms.md#consistency-models (in Python's
    // math module, double precision), not by the code under test.

    [Theory]
    // K_total = 25,600, s0 = 10, s1 = 150: K = ⌊25600 / (log2 15 + 1)⌋ = ⌊25600 / 4.9069⌋ = 5217.
    [InlineData(0L, 150.0, 11)]
    [InlineData(5216L, 150.0, 11)]
    [InlineData(5217L, 150.0, 21)]
    [InlineData(10433L, 150.0, 21)]
    [InlineData(10434L, 150.0, 41)]
    [InlineData(15651L, 150.0, 81)]
    [InlineData(20867L, 150.0, 81)]
    [InlineData(20868L, 150.0, 151)] // 10·2^4 = 160 is capped at s1 = 150
    [InlineData(25599L, 150.0, 151)]
    // s1 = 50: K = ⌊25600 / (log2 5 + 1)⌋ = ⌊25600 / 3.3219⌋ = 7706.
    [InlineData(7705L, 50.0, 11)]
    [InlineData(7706L, 50.0, 21)]
    [InlineData(15412L, 50.0, 41)]
    [InlineData(23118L, 50.0, 51)] // 10·2^3 = 80 is capped at s1 = 50
    public void Discretization_AtStep_FollowsDoublingSchedule(long step, double s1, int expected)
    {
        Assert.Equal(expected, ConsistencySchedule.Discretization(step, 25_600, 10, s1));
    }

    [Theory]
    [InlineData(150.0, new[] { 11, 21, 41, 81, 151 })]
    [InlineData(50.0, new[] { 11, 21, 41, 51 })]
    public void TrainedDiscretizations_SeedBudget_ListsEveryStage(double s1, int[] expected)
    {
        Assert.Equal(expected, ConsistencySchedule.TrainedDiscretizations(25_600, 10, s1));
    }

    [Fact]
    public void TrainedDiscretizations_ShortRun_StopsAtReachedStage()
    {
        // K_total = 1000, s0 = 10, s1 = 150: K = ⌊1000 / 4.9069⌋ = 203, so steps 0…999 see stages 0…4.
        Assert.Equal([11, 21, 41, 81, 151], ConsistencySchedule.TrainedDiscretizations(1000, 10, 150));
        // K_total = 5: K = 1; every step is its own stage.
        Assert.Equal([11, 21, 41, 81, 151], ConsistencySchedule.TrainedDiscretizations(5, 10, 150));
    }

    [Fact]
    public void TimeGrid_ElevenPoints_MatchesKarrasFormula()
    {
        // t_i = (ε^(1/ρ) + (i−1)/(N−1)·(T^(1/ρ) − ε^(1/ρ)))^ρ, ε = 0.001, T = 80, ρ = 7, N = 11.
        double[] expected =
        [
            0.001, 0.010631114925264511, 0.06203460790661858, 0.2535042514869428, 0.8179741419739919,
            2.2306657639482808, 5.3634276432406205, 11.69427348261131, 23.580624674362976,
            44.604763084119064, 80.0,
        ];
        double[] grid = ConsistencySchedule.TimeGrid(11, 0.001, 80, 7);
        Assert.Equal(expected.Length, grid.Length);
        // Relative 1e-12: both are a handful of double operations; a wrong exponent or index is off by percent.
        for (int i = 0; i < grid.Length; i++) Assert.Equal(expected[i], grid[i], expected[i] * 1e-12);
        // The endpoints are pinned exactly: f(θ, ε) = θ needs t = ε to the last bit.
        Assert.Equal(0.001, grid[0]);
        Assert.Equal(80.0, grid[^1]);
    }

    [Fact]
    public void IndexWeights_ElevenPoints_AreNormalizedLognormalMasses()
    {
        double[] grid = ConsistencySchedule.TimeGrid(11, 0.001, 80, 7);
        double[] weights = ConsistencySchedule.IndexWeights(grid, -1.1, 2.0);
        // erf((ln t_{i+1} + 1.1)/(2√2)) − erf((ln t_i + 1.1)/(2√2)), normalized, from Python's math.erf.
        double[] expected =
        [
            0.0408938467, 0.1586876946, 0.2466008747, 0.2287636771, 0.1565256092,
            0.0889056593, 0.0449401623, 0.0211013281, 0.0094591725, 0.0041219755,
        ];
        Assert.Equal(expected.Length, weights.Length);
        // 1e-9: the expected values are rounded to 10 decimals.
        for (int i = 0; i < weights.Length; i++) Assert.Equal(expected[i], weights[i], 1e-9);
        Assert.All(weights, w => Assert.True(w > 0));
        Assert.Equal(1.0, weights.Sum(), 1e-12);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(151)]
    public void IndexWeights_AnyTrainedGrid_SumToOne(int n)
    {
        double[] weights = ConsistencySchedule.IndexWeights(ConsistencySchedule.TimeGrid(n, 0.001, 80, 7), -1.1, 2.0);
        Assert.Equal(n - 1, weights.Length);
        Assert.All(weights, w => Assert.True(w > 0));
        // Normalization in double: the sum is 1 to a few ulps.
        Assert.Equal(1.0, weights.Sum(), 1e-12);
    }

    [Fact]
    public void SamplingTimes_TenSteps_WalkTheElevenPointGridDownWithoutEps()
    {
        double[] times = ConsistencySchedule.SamplingTimes(10, 0.001, 80, 7);
        double[] grid = ConsistencySchedule.TimeGrid(11, 0.001, 80, 7);
        Assert.Equal(10, times.Length);
        Assert.Equal(80.0, times[0]);
        for (int n = 0; n < 10; n++) Assert.Equal(grid[10 - n], times[n]);
        Assert.Equal(0.010631114925264511, times[^1], 1e-14);
    }

    [Fact]
    public void SamplingTimes_OneStep_IsMaxTimeOnly()
    {
        Assert.Equal([80.0], ConsistencySchedule.SamplingTimes(1, 0.001, 80, 7));
    }
}
