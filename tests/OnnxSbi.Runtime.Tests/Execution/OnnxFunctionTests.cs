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
            theta.CopyTo(e.Inputs[0]);
            t.CopyTo(e.Inputs[1]);
            x.CopyTo(e.Inputs[2]);
            if (run == 2) e.Run(CancellationToken.None);
            else e.Run();
            float[] input = [.. theta, .. t, .. x];
            var w = TestBundles.Weights;
            for (int o = 0; o < 2; o++)
                Assert.Equal(TestBundles.Bias[o] + Enumerable.Range(0, 5).Sum(k => w[o * 5 + k] * input[k]), e.Outputs[0][o]);
            Assert.NotEqual(previous, e.Outputs[0].ToArray());
            previous = e.Outputs[0].ToArray();
        }
    }

    [Fact]
    public void Rent_OfManyCapacityClasses_KeepsAtMostMaxPooledShapesAndDisposesTheEvicted()
    {
        using var session = new InferenceSession(TestBundles.VelocityModel().ToByteArray());
        var f = new OnnxFunction(session, [("theta_t", 2), ("t", 1), ("conditions", 2)], [("velocity", 2)], maxPooledShapes: 3);
        // 1, 65, 129, … 4097 rows: one row count in each capacity class 64, 128, … 8192.
        int[] rowCounts = [1, .. Enumerable.Range(6, 7).Select(k => (1 << k) + 1)];
        var evaluations = new List<OnnxFunction.Evaluation>();
        foreach (int rows in rowCounts)
        {
            using var e = f.Rent(rows);
            e.Run();
            evaluations.Add(e);
            Assert.True(f.PooledShapes <= 3, $"after {rows} rows: {f.PooledShapes} capacity classes pooled, more than 3");
        }
        Assert.Equal(3, f.PooledShapes);
        Assert.All(evaluations.Take(5), e => Assert.True(e.IsReleased, $"the evicted {e.Capacity}-row evaluation is disposed"));
        Assert.All(evaluations.Skip(5), e => Assert.False(e.IsReleased, $"the pooled {e.Capacity}-row evaluation is alive"));
        // A pooled class is served by its kept evaluation, for any row count of the class; an evicted one by a new evaluation.
        using (var kept = f.Rent(8000)) Assert.Same(evaluations[^1], kept);
        using (var fresh = f.Rent(1)) Assert.NotSame(evaluations[0], fresh);
        f.Dispose();
        Assert.All(evaluations.Skip(5), e => Assert.True(e.IsReleased, $"the {e.Capacity}-row evaluation is disposed with its function"));
    }

    [Fact]
    public void Rent_RowCountsOfOneCapacityClass_ShareOneEvaluationBoundToEachExactShape()
    {
        using var session = new InferenceSession(TestBundles.VelocityModel().ToByteArray());
        using var f = new OnnxFunction(session, [("theta_t", 2), ("t", 1), ("conditions", 2)], [("velocity", 2)]);
        OnnxFunction.Evaluation? first = null;
        var w = TestBundles.Weights;
        // Every row count 65 … 128 in a shuffled order, so the arrays are rebound to smaller and larger shapes in turn.
        foreach (int rows in Enumerable.Range(65, 64).OrderBy(r => (r * 37) % 64))
        {
            using var e = f.Rent(rows);
            first ??= e;
            Assert.Same(first, e);
            Assert.Equal((128, rows), (e.Capacity, e.Rows));
            Assert.Equal([rows * 2, rows, rows * 2], new[] { e.Inputs[0].Length, e.Inputs[1].Length, e.Inputs[2].Length });
            Assert.Equal(rows * 2, e.Outputs[0].Length);
            for (int r = 0; r < rows; r++)
            {
                e.Inputs[0][2 * r] = r;
                e.Inputs[0][2 * r + 1] = rows;
                e.Inputs[1][r] = 1;
                e.Inputs[2][2 * r] = -r;
                e.Inputs[2][2 * r + 1] = 2;
            }
            e.Run();
            // Each row's velocity from its own inputs; the small integers make the float result exact.
            for (int r = 0; r < rows; r++)
            {
                float[] input = [r, rows, 1, -r, 2];
                for (int o = 0; o < 2; o++)
                    Assert.Equal(TestBundles.Bias[o] + Enumerable.Range(0, 5).Sum(k => w[o * 5 + k] * input[k]), e.Outputs[0][2 * r + o]);
            }
        }
        Assert.Equal(1, f.PooledShapes);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(64, 64)]
    [InlineData(65, 128)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(16_384, 16_384)]
    public void CapacityFor_RowCount_IsTheNextPowerOfTwoFromTheMinimum(int rows, int capacity)
        => Assert.Equal(capacity, OnnxFunction.CapacityFor(rows));

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
