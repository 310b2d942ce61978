using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Samplers;
using OnnxSbi.Trainer.Networks;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Tests;

[Collection("TorchSharp")]
public class CouplingFlowParityTests : SingleThreadedTorch
{
    [Theory]
    [InlineData("affine", "random", 3)]
    [InlineData("affine", "orthogonal", 3)]
    [InlineData("affine", "swap", 1)]
    [InlineData("spline", "swap", 3)]
    [InlineData("spline", "random", 2)]
    [InlineData("spline", "orthogonal", 3)]
    [InlineData("spline", "none", 1)]
    public void Graphs_RandomAndTailInputs_MatchTorchSharp(string transform, string permutation, int dim)
    {
        using var net = CouplingFlowFixtures.Perturbed(dim, 2, new CouplingFlowOptions(Depth: 4, Transform: transform, Permutation: permutation), seed: 21);
        const int n = 400;
        using var theta = randn(n, dim);
        // Rows far out in every direction, so some layers see inputs beyond the spline's bound B = 3.
        using (no_grad()) theta.narrow(0, 0, 8).copy_(tensor(new float[] { 6, -6, 4, -4, 3, -3, 5, -5 }).unsqueeze(1).expand(8, dim));
        using var c = randn(n, 2);

        CouplingFlowFixtures.AssertGraphsMatch(net, theta, c);
    }

    [Fact]
    public void SplineGraphs_InputsExactlyOnKnotsAndBounds_MatchTorchSharp()
    {
        // No ActNorm and no permutation: θ2 enters the first spline unchanged, so it can be placed
        // exactly on that spline's x-knots, and z1 enters the first spline of the inverse unchanged,
        // so it can be placed exactly on that spline's y-knots. A point on a knot may land one ulp
        // into the neighbouring bin on the other side; the spline is C¹ there, so the result agrees.
        var options = new CouplingFlowOptions(Depth: 3, Transform: "spline", Permutation: "none", UseActNorm: false, Bins: 8);
        using var net = CouplingFlowFixtures.Perturbed(2, 1, options, seed: 5);
        const int n = 64;
        int knots = options.Bins + 1;
        using var theta = randn(n, 2);
        using var z = randn(n, 2);
        using var c = randn(n, 1);
        var first = (DualCoupling)net.Layers[0];
        var last = (DualCoupling)net.Layers[^1];
        using (no_grad())
        using (NewDisposeScope())
        {
            var rawA = first.SubnetA.forward(cat([theta.narrow(1, 0, 1), c], 1));
            var (kx, _, _, _, _) = ((SplineTransform)first.Transform).Knots(rawA, 1);
            var theta2 = theta.narrow(1, 1, 1);
            for (int i = 0; i < n - 4; i++) theta2[i, 0] = kx[i, 0, i % knots];
            // The outer knots are ±B = ±3 exactly; add the nearest floats inside and outside, and the tails.
            theta2[n - 1, 0] = tensor(3.5f);
            theta2[n - 2, 0] = tensor(-3.5f);
            theta2[n - 3, 0] = tensor(MathF.BitDecrement(3f));
            theta2[n - 4, 0] = tensor(MathF.BitDecrement(-3f));

            var rawB = last.SubnetB!.forward(cat([z.narrow(1, 1, 1), c], 1));
            var (_, ky, _, _, _) = ((SplineTransform)last.Transform).Knots(rawB, 1);
            var z1 = z.narrow(1, 0, 1);
            for (int i = 0; i < n; i++) z1[i, 0] = ky[i, 0, i % knots];
        }
        CouplingFlowFixtures.AssertGraphsMatch(net, theta, c, z);
    }
}

/// <summary>
/// Runs each test with one libtorch intra-op thread and restores the previous count afterwards. The
/// networks here are small, so a second thread buys nothing, and on a shared two-core machine its
/// synchronization made every operation up to ten times slower.
/// </summary>
public abstract class SingleThreadedTorch : IDisposable
{
    private readonly int previousThreads = get_num_threads();

    protected SingleThreadedTorch() => set_num_threads(1);

    public void Dispose()
    {
        set_num_threads(previousThreads);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Shared set-up of the coupling flow tests: perturbed networks and graph comparisons.</summary>
internal static class CouplingFlowFixtures
{
    public static readonly OnnxModelInfo Info = new("OnnxSbi.Trainer.Tests", "0");

    /// <summary>
    /// A flow in evaluation mode whose parameters are moved off their initialization (the subnets'
    /// output layers start at zero, which would make every coupling the identity). Noise of standard
    /// deviation 0.02 on every parameter gives raw coupling outputs of order 0.3 and, over four levels
    /// in three dimensions, log-determinants between about −6 and 3: clearly non-linear maps with
    /// unequal spline bins, yet not the extreme contractions that larger noise produces.
    /// </summary>
    public static CouplingFlow Perturbed(int dim, int conditionDim, CouplingFlowOptions options, int seed, double scale = 0.02)
    {
        manual_seed(seed);
        var net = new CouplingFlow(dim, conditionDim, options);
        using (no_grad())
            foreach (var p in net.parameters()) p.add_(randn_like(p) * scale);
        net.eval();
        return net;
    }

    public static float[] Floats(Tensor t) => t.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    public static double[] Doubles(Tensor t) => t.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>
    /// Runs the forward graph on (θ, c) and the inverse graph on latent draws z ~ N(0, I) with the same
    /// conditions (as sampling does, plus a few tail rows), and compares every output with TorchSharp.
    /// </summary>
    public static void AssertGraphsMatch(CouplingFlow net, Tensor theta, Tensor c, Tensor? latent = null)
    {
        var (dz, dl, dt, dn) = GraphDifferences(net, theta, c, latent);
        // Both sides evaluate the same float32 formulas in a different order (Gemm blocking, exp and
        // softmax kernels). Differences start at a few ulps and grow with the flow's sensitivity: the
        // spline's log-slope moves by up to ~10 per unit of its bin coordinate in narrow bins, so a 1e-6
        // difference of a subnet output becomes ~1e-5 in the log-determinant, and four levels of two
        // splines add such terms. At the weight scale of these tests the worst case over 6,000 rows and
        // six seeds was 9e-5 (spline log_det; z and θ: 5e-5), and 7e-5 on a trained two-moons spline:
        // 1e-4 is what float32 allows here. A wrong formula, bin or knot is off by 1e-2 or more.
        // The runtime's native inverse (subnets cut out of the inverse graph, transforms in C#) is held to the
        // same bound for the same reasons: its exp, ln and softmax differ from both sides' by float32 ulps.
        Assert.True(dz <= 1e-4 && dl <= 1e-4 && dt <= 1e-4 && dn <= 1e-4, $"max abs diff: z {dz}, log_det {dl}, theta {dt}, native theta {dn}");
    }

    /// <summary>
    /// Max abs differences against TorchSharp: the forward graph's z and log_det, the inverse graph's θ, and θ
    /// from the runtime's step-by-step inverse driven by the manifest's inverse steps.
    /// </summary>
    public static (double Z, double LogDet, double Theta, double NativeTheta) GraphDifferences(CouplingFlow net, Tensor theta, Tensor c, Tensor? latent = null)
    {
        long n = theta.shape[0], d = theta.shape[1], cd = c.shape[1];
        using var noGrad = no_grad();
        using var z = latent?.alias() ?? LatentDraws(n, d);
        var (forwardZ, logDet) = net.Forward(theta, c);
        using var inverse = net.Inverse(z, c);
        var graphs = net.ExportGraphs(Info);
        var fwd = OrtEval.Run(graphs["forward"], ("theta", Floats(theta), [n, d]), ("conditions", Floats(c), [n, cd]));
        var inv = OrtEval.Run(graphs["inverse"], ("z", Floats(z), [n, d]), ("conditions", Floats(c), [n, cd]));
        double dz = OrtEval.MaxAbsDiff(Floats(forwardZ), fwd["z"]);
        double dl = OrtEval.MaxAbsDiff(Floats(logDet), fwd["log_det"]);
        double dt = OrtEval.MaxAbsDiff(Floats(inverse), inv["theta"]);
        double dn = OrtEval.MaxAbsDiff(Floats(inverse), NativeInverse(net, graphs["inverse"], Floats(z), Floats(c), (int)n));
        forwardZ.Dispose();
        logDet.Dispose();
        return (dz, dl, dt, dn);
    }

    /// <summary>θ from the runtime's <see cref="NativeCouplingInverse"/> built from the flow's manifest plan and inverse graph.</summary>
    public static float[] NativeInverse(CouplingFlow net, ModelProto inverseGraph, float[] z, float[] c, int rows)
    {
        var manifest = new BundleManifest { Family = NetworkFamily.CouplingFlow, InferenceDim = net.InferenceDim, ConditionDim = net.ConditionDim };
        net.DescribeSampler(manifest);
        var plan = CouplingPlan.From("parity test", manifest, inverseGraph) ?? throw new InvalidOperationException("The flow described no inverse steps.");
        using var native = NativeCouplingInverse.Open(plan, s => s.Open(new InferenceSession(s.Model)), net.InferenceDim, net.ConditionDim);
        var state = (float[])z.Clone();
        using var block = native.Rent(rows);
        c.CopyTo(block.Conditions, 0);
        native.Inverse(state, block);
        return state;
    }

    /// <summary>z ~ N(0, I) with the first rows far in the tails (±3 to ±6).</summary>
    public static Tensor LatentDraws(long n, long d)
    {
        var z = randn(n, d);
        using (no_grad()) z.narrow(0, 0, 6).copy_(tensor(new float[] { 6, -6, 4, -4, 3, -3 }).unsqueeze(1).expand(6, d));
        return z;
    }
}
