using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowCheckpointTests : SingleThreadedTorch
{
    [Theory]
    [InlineData("affine", "random", 5)]
    [InlineData("spline", "orthogonal", 6)]
    public void SaveThenLoad_IntoFreshFlow_ReproducesForwardAndInverse(string transform, string permutation, int restoredSeed)
    {
        var options = new CouplingFlowOptions(Depth: 3, Transform: transform, Permutation: permutation, Seed: 5);
        using var trained = CouplingFlowFixtures.Perturbed(3, 1, options, seed: 31);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) trained.save(writer);

        // A fresh flow from different global randomness: everything must come from the file (parameters;
        // the orthogonal permutation's pivots and signs, hence a different seed there) or, for the random
        // permutations, from the options' seed, which is part of the model's configuration.
        manual_seed(999);
        using var restored = new CouplingFlow(3, 1, options with { Seed = (ulong)restoredSeed });
        stream.Position = 0;
        using (var reader = new BinaryReader(stream)) restored.load(reader);
        restored.eval();

        using var theta = randn(100, 3);
        using var c = randn(100, 1);
        using var noGrad = no_grad();
        var (z1, l1) = trained.Forward(theta, c);
        var (z2, l2) = restored.Forward(theta, c);
        using var x1 = trained.Inverse(theta, c);
        using var x2 = restored.Inverse(theta, c);
        // The same parameters and the same arithmetic: bit-identical results.
        Assert.Equal(0, OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(z1), CouplingFlowFixtures.Floats(z2)));
        Assert.Equal(0, OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(l1), CouplingFlowFixtures.Floats(l2)));
        Assert.Equal(0, OrtEval.MaxAbsDiff(CouplingFlowFixtures.Floats(x1), CouplingFlowFixtures.Floats(x2)));
        foreach (var t in new[] { z1, z2, l1, l2 }) t.Dispose();
    }
}
