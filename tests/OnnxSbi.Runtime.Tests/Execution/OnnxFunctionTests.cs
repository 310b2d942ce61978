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
}
