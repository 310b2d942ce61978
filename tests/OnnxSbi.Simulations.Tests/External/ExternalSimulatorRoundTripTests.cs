using OnnxSbi.Runtime;
using OnnxSbi.Simulations.External;
using OnnxSbi.Tasks;

namespace OnnxSbi.Simulations.Tests.External;

/// <summary>
/// Requests travel to a real child process and its NPZ answers come back as batches: bit-identical to the in-process
/// two moons for the same seed (float64 survives NPZ exactly), in request order across parallel workers.
/// </summary>
public sealed class ExternalSimulatorRoundTripTests
{
    private static ArrayBatch InProcess(int rows, ulong seed) => TwoMoons.CreateSimulator(seed).Sample(rows, seed);

    private static void AssertIdentical(ArrayBatch expected, ArrayBatch actual)
    {
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Names, actual.Names);
        foreach (string name in expected.Names)
        {
            Assert.Equal(expected.SampleShape(name), actual.SampleShape(name));
            // Exact: the child writes the float64 values it drew and the reader converts none of them.
            Assert.Equal(expected.Get(name), actual.Get(name));
        }
    }

    [Fact]
    public void Simulate_TwoMoonsChild_ReturnsTheInProcessBatchForTheSeed()
    {
        var logger = new CollectingLogger();
        using var simulator = new ExternalSimulator(TestSimulator.Options() with { Logger = logger, ExpectedVariables = ["theta", "x"] });

        var first = simulator.Simulate(16, seed: 11);
        var again = simulator.Simulate(16, seed: 11);
        var other = simulator.Simulate(5, seed: 12);

        AssertIdentical(InProcess(16, 11), first);
        AssertIdentical(first, again);
        AssertIdentical(InProcess(5, 12), other);
        Assert.NotEqual(first.Get("theta").Take(10), other.Get("theta").Take(10));
        Assert.Contains(logger.Entries, e => e.Message.Contains("test simulator: request 3, batch_size 5, seed 12"));
    }

    [Fact]
    public void SimulateMany_ThreeWorkers_ServesEveryRequestInRequestOrder()
    {
        using var simulator = new ExternalSimulator(TestSimulator.Options("--sleep", "0.2") with { Workers = 3 });
        // Different sizes and seeds, so a batch out of place cannot pass for the right one.
        var requests = Enumerable.Range(0, 7).Select(i => (BatchSize: 3 + i, Seed: (ulong)(100 + i))).ToList();

        var batches = simulator.SimulateMany(requests);

        Assert.Equal(requests.Count, batches.Count);
        for (int i = 0; i < requests.Count; i++) AssertIdentical(InProcess(requests[i].BatchSize, requests[i].Seed), batches[i]);
        Assert.Equal(3, simulator.ProcessIds.Distinct().Count());
    }

    [Fact]
    public void SimulateRows_OneOrThreeWorkers_GiveTheSameChunkedRows()
    {
        using var one = new ExternalSimulator(TestSimulator.Options());
        using var three = new ExternalSimulator(TestSimulator.Options() with { Workers = 3 });

        var a = one.SimulateRows(100, seed: 5, chunkSize: 32);
        var b = three.SimulateRows(100, seed: 5, chunkSize: 32);

        Assert.Equal(100, a.Rows);
        AssertIdentical(a, b);
        // The chunks are seeded apart: the third chunk (rows 64..95) is its own seed's batch.
        AssertIdentical(InProcess(32, ExternalSimulator.ChunkSeed(5, 2)), a.Slice(64, 32));
    }
}
