using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Execution;

/// <summary>
/// The evaluation's binding: inputs written into the rented arrays between runs reach the graph, whether the
/// arrays are read in place (CPU) or bound again before each run (a device provider, where ONNX Runtime copies
/// a host input when it is bound). The rebinding path runs on the CPU here, so CI covers it without a GPU;
/// CudaProviderTests covers the device itself.
/// </summary>
public sealed class OnnxFunctionTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Run_SeesInputsWrittenAfterTheBinding(bool copiesInputsAtBind)
    {
        using var session = new InferenceSession(TestBundles.VelocityModel().ToByteArray());
        using var f = new OnnxFunction(session, [("theta_t", 2), ("t", 1), ("conditions", 2)], [("velocity", 2)]) { CopiesInputsAtBind = copiesInputsAtBind };
        float[] previous = [];
        for (int run = 0; run < 3; run++)
        {
            using var e = f.Rent(rows: 1);
            // velocity = [θ0, θ1, t, x0, x1] · Wᵀ + b, exact in float for these small integers.
            float[] theta = [run, 1], t = [2 * run], x = [1, -run];
            theta.CopyTo(e.Inputs[0], 0);
            t.CopyTo(e.Inputs[1], 0);
            x.CopyTo(e.Inputs[2], 0);
            if (run == 2) e.Run(CancellationToken.None);
            else e.Run();
            float[] input = [.. theta, .. t, .. x];
            var w = TestBundles.Weights;
            for (int o = 0; o < 2; o++)
                Assert.Equal(TestBundles.Bias[o] + Enumerable.Range(0, 5).Sum(k => w[o * 5 + k] * input[k]), e.Outputs[0][o]);
            Assert.NotEqual(previous, e.Outputs[0]);
            previous = [.. e.Outputs[0]];
        }
    }

    [Fact]
    public void Rent_OfManyDistinctRowCounts_KeepsAtMostMaxPooledShapesAndDisposesTheEvicted()
    {
        using var session = new InferenceSession(TestBundles.VelocityModel().ToByteArray());
        var f = new OnnxFunction(session, [("theta_t", 2), ("t", 1), ("conditions", 2)], [("velocity", 2)], maxPooledShapes: 4);
        var evaluations = new List<OnnxFunction.Evaluation>();
        for (int rows = 1; rows <= 20; rows++)
        {
            using var e = f.Rent(rows);
            e.Run();
            evaluations.Add(e);
            Assert.True(f.PooledShapes <= 4, $"after {rows} row counts: {f.PooledShapes} shapes pooled, more than 4");
        }
        Assert.Equal(4, f.PooledShapes);
        Assert.All(evaluations.Take(16), e => Assert.True(e.IsReleased, $"the evicted {e.Rows}-row evaluation is disposed"));
        Assert.All(evaluations.Skip(16), e => Assert.False(e.IsReleased, $"the pooled {e.Rows}-row evaluation is alive"));
        // A pooled shape is served by its kept evaluation, an evicted one by a new evaluation.
        using (var kept = f.Rent(20)) Assert.Same(evaluations[19], kept);
        using (var fresh = f.Rent(1)) Assert.NotSame(evaluations[0], fresh);
        f.Dispose();
        Assert.All(evaluations.Skip(16), e => Assert.True(e.IsReleased, $"the {e.Rows}-row evaluation is disposed with its function"));
    }

    [Fact]
    public void RentRunReturn_OfAPooledBlockSize_AllocatesNothing()
    {
        using var session = new InferenceSession(TestBundles.VelocityModel().ToByteArray());
        using var f = new OnnxFunction(session, [("theta_t", 2), ("t", 1), ("conditions", 2)], [("velocity", 2)]);
        for (int warm = 0; warm < 10; warm++)
            using (var e = f.Rent(64)) e.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            using (var e = f.Rent(64)) e.Run();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Exact: renting a pooled evaluation and running its binding touch no managed allocation on the CPU.
        Assert.Equal(0, allocated);
    }
}
