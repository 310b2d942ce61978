using OnnxSbi.Trainer.Networks;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowInvertibilityTests(ITestOutputHelper output) : SingleThreadedTorch
{
    public static TheoryData<string, string> Configurations => new()
    {
        { "affine", "random" },
        { "affine", "orthogonal" },
        { "spline", "random" },
        { "spline", "swap" },
        { "spline", "orthogonal" },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void InverseOfForward_RandomInputs_ReturnsInputInTorchSharpAndOnnx(string transform, string permutation)
    {
        using var net = CouplingFlowFixtures.Perturbed(3, 2, new CouplingFlowOptions(Depth: 4, Transform: transform, Permutation: permutation), seed: 8);
        const int n = 500;
        using var theta = CouplingFlowFixtures.LatentDraws(n, 3);
        using var c = randn(n, 2);
        using var noGrad = no_grad();

        var (z, _) = net.Forward(theta, c);
        using var back = net.Inverse(z, c);
        // float32 round trip through 4 levels: each step is exact up to a few ulps (~1e-6 for values of
        // order 5), amplified where the forward map contracts; 1e-4 leaves a wide margin and still
        // catches any mismatch between a forward and an inverse formula.
        double torchError = OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(back), CouplingFlowFixtures.Floats(theta));
        Assert.True(torchError <= 1e-4, $"TorchSharp round trip error {torchError}");

        var graphs = net.ExportGraphs(CouplingFlowFixtures.Info);
        var forward = OrtEval.Run(graphs["forward"], ("theta", CouplingFlowFixtures.Floats(theta), [n, 3]), ("conditions", CouplingFlowFixtures.Floats(c), [n, 2]));
        var inverse = OrtEval.Run(graphs["inverse"], ("z", forward["z"], [n, 3]), ("conditions", CouplingFlowFixtures.Floats(c), [n, 2]));
        double onnxError = OrtEval.MaxAbsDiff(inverse["theta"], CouplingFlowFixtures.Floats(theta));
        output.WriteLine($"{transform}/{permutation}: TorchSharp {torchError:G3}, ONNX {onnxError:G3}");
        Assert.True(onnxError <= 1e-4, $"ONNX round trip error {onnxError}");
        z.Dispose();
    }

    [Theory]
    [MemberData(nameof(Configurations))]
    public void ForwardOfInverse_LatentDraws_ReturnsLatentInTorchSharp(string transform, string permutation)
    {
        using var net = CouplingFlowFixtures.Perturbed(3, 2, new CouplingFlowOptions(Depth: 4, Transform: transform, Permutation: permutation), seed: 9);
        const int n = 500;
        using var z = CouplingFlowFixtures.LatentDraws(n, 3);
        using var c = randn(n, 2);
        using var noGrad = no_grad();
        using var theta = net.Inverse(z, c);
        var (again, _) = net.Forward(theta, c);
        // As above: a float32 round trip, exact up to amplified rounding.
        double error = OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(again), CouplingFlowFixtures.Floats(z));
        again.Dispose();
        output.WriteLine($"{transform}/{permutation}: {error:G3}");
        Assert.True(error <= 1e-4, $"round trip error {error}");
    }
}
