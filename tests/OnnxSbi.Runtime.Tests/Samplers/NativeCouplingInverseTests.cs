using System.Numerics;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Numerics;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Tests.Samplers;

/// <summary>
/// The coupling flows' step-by-step inverse (<see cref="NativeCouplingInverse"/>) against the whole inverse
/// graph on the shipped bundles, the checks on a manifest's inverse steps, and the vector exp and ln it uses.
/// Parity with TorchSharp on every transform, permutation and dimension is in the trainer's CouplingFlowParityTests.
/// </summary>
public sealed class NativeCouplingInverseTests
{
    public static TheoryData<string, NetworkPrecision> ShippedCouplingFlows() => new()
    {
        { "affine_coupling_flow", NetworkPrecision.Float32 },
        { "spline_coupling_flow", NetworkPrecision.Float32 },
        { "affine_coupling_flow", NetworkPrecision.Int8 },
        { "spline_coupling_flow", NetworkPrecision.Int8 },
    };

    /// <summary>
    /// Same seed, same noise: the native pass and the graph must give the same draws. The subnets compute the same
    /// products (their thin first and last layers on the host, summed in another order, <see cref="SubnetSplit"/>);
    /// they and the transforms' exp, ln and softmax round differently (float32 ulps), which the trained flows
    /// amplify where they are steep. Measured on these 9,000 values with the shipped bundles: float32 99th
    /// percentile 9.5e−7 (spline) and 3.0e−7 (affine), maxima 1.8e−5 and 2.6e−6 (before the split: 9.7e−7 / 2.4e−7,
    /// 1.9e−5 / 8.3e−7). In int8 each subnet quantizes its block's activations per call, and an ulp of difference
    /// in its input can move one activation across a rounding boundary: a few values differ by up to 2.4e−3
    /// (spline) and 5.2e−4 (affine), the 99th percentile is still 9.8e−7 and 2.4e−7. Bounds:
    /// 99th percentile 1e−5, maximum 1e−3 (float32) and 1e−2 (int8); a wrong step, order or formula moves
    /// most draws by 1e−2 or more (a dropped factor 2 in the curvature: 0.26–0.43 in the trainer's parity tests).
    /// </summary>
    [Theory]
    [MemberData(nameof(ShippedCouplingFlows))]
    public void ShippedBundle_NativeInverse_MatchesInverseGraph(string name, NetworkPrecision precision)
    {
        string path = ShippedModelsTests.BundlePath(name);
        using var native = PosteriorModel.Load(path, new RuntimeOptions { Precision = precision });
        using var graph = PosteriorModel.Load(path, new RuntimeOptions { Precision = precision, CouplingInverse = CouplingInverseMode.Graph });
        Assert.True(native.Plan.Strategy == ExecutionStrategy.NativeCouplingInverse, "the shipped bundle lists its inverse steps, so sampling should run them natively");
        Assert.NotEqual(ExecutionStrategy.NativeCouplingInverse, graph.Plan.Strategy);
        var x = new ArrayBatch(3).Set("x", [0.0, 0.0, 0.3, -0.2, -0.5, 0.4], 2);
        var a = native.Sample(x, 1500, new SamplingOptions { Seed = 7 })["theta"];
        var b = graph.Sample(x, 1500, new SamplingOptions { Seed = 7 })["theta"];
        Assert.Equal(b.Length, a.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        var diffs = a.Zip(b, (u, v) => Math.Abs(u - v)).Order().ToArray();
        double p99 = diffs[(int)(0.99 * diffs.Length)];
        double bound = precision == NetworkPrecision.Float32 ? 1e-3 : 1e-2;
        Assert.True(p99 <= 1e-5 && max <= bound, $"{name} ({precision}): |native − graph| 99th percentile {p99:G3} (bound 1e-5), max {max:G3} (bound {bound:G0})");
    }

    [Fact]
    public void NativeInverse_CountsRowsAndAllocatesNothingPerBlockOnceWarm()
    {
        using var model = PosteriorModel.Load(ShippedModelsTests.BundlePath("spline_coupling_flow"),
            new RuntimeOptions { ChunkSize = 256, ParallelBlocks = 1 });
        var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
        model.Sample(x, 1024);
        long rows = model.NetworkRowsEvaluated;
        Assert.Equal(1024, rows);
        // Four blocks of 256 rows: every buffer comes from the pools filled by the first call. What remains is
        // the call's own result arrays (draws in network and user space), ~4 × 1,024 × 2 doubles and floats.
        long before = GC.GetAllocatedBytesForCurrentThread();
        model.Sample(x, 1024);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2048, model.NetworkRowsEvaluated);
        Assert.True(allocated < 200_000, $"a warm 1,024-draw call allocated {allocated:N0} bytes");
    }

    /// <summary>
    /// NaN from a subnet must reach the draws (where <see cref="PosteriorModel.Sample"/> turns it into
    /// NonFiniteDrawsException), never be clamped into a number by the vector exp or the knot walk. The public
    /// API refuses non-finite conditions, so they are fed to the pass directly: rows with NaN conditions come
    /// out non-finite, the others finite.
    /// </summary>
    [Theory]
    [InlineData("affine_coupling_flow")]
    [InlineData("spline_coupling_flow")]
    public void NativeInverse_NaNFromTheSubnets_StaysNaN(string name)
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath(name));
        var plan = contents.CouplingPlan!;
        int c = contents.Manifest.ConditionDim, d = contents.Manifest.InferenceDim;
        using var native = NativeCouplingInverse.Open(plan, s => s.Open(new Microsoft.ML.OnnxRuntime.InferenceSession(s.Model)), d, c);
        const int rows = 20;
        var rng = new Random(3);
        var state = Enumerable.Range(0, rows * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var block = native.Rent(rows);
        for (int i = 0; i < rows * c; i++) block.Conditions[i] = i < rows / 2 * c ? float.NaN : 0.1f;
        native.Inverse(state, block);
        for (int r = 0; r < rows; r++)
        {
            bool finite = state.AsSpan(r * d, d).ToArray().All(float.IsFinite);
            Assert.True(finite == r >= rows / 2, $"{name}, row {r}: [{string.Join(", ", state.AsSpan(r * d, d).ToArray())}]");
        }
    }

    private static (BundleManifest Manifest, ModelProto Inverse) ShippedSpline()
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("spline_coupling_flow"));
        return (contents.Manifest.Clone(), ModelProto.Parser.ParseFrom(contents.Graphs[GraphRoles.Inverse]));
    }

    [Fact]
    public void Plan_OfShippedSpline_CutsOneSubnetPerCoupling()
    {
        var (manifest, inverse) = ShippedSpline();
        var plan = CouplingPlan.From("spline.onnxsbi", manifest, inverse)!;
        int couplings = manifest.CouplingFlow.InverseSteps.Count(s => s.Coupling is not null);
        Assert.Equal(8, couplings);
        Assert.Equal(couplings, plan.Subnets.Count);
        // Each spline subnet reads [kept half, x] and writes 3K − 1 = 47 raw parameters for its one dimension.
        Assert.All(plan.Subnets, s => Assert.Equal((3, 47), (s.InputWidth, s.OutputWidth)));
        var subnet = ModelProto.Parser.ParseFrom(plan.Subnets[0].Model);
        // Three Gemms and two activations: nothing of the spline's arithmetic, no other graph input.
        Assert.Equal(3, subnet.Graph.Node.Count(n => n.OpType == "Gemm"));
        Assert.DoesNotContain(subnet.Graph.Node, n => n.OpType is "Softmax" or "GatherElements" or "Split");
        Assert.Single(subnet.Graph.Input);
    }

    [Fact]
    public void Plan_WithoutSteps_IsNull_SoTheGraphRuns()
    {
        var (manifest, inverse) = ShippedSpline();
        manifest.CouplingFlow.InverseSteps.Clear();
        Assert.Null(CouplingPlan.From("old.onnxsbi", manifest, inverse));
    }

    public static TheoryData<string, string> BadPlans() => new()
    {
        { "permute", "expected a permutation of 0 … 1" },
        { "affine-width", "expected 2 each (inference_dim)" },
        { "unknown-input", "is no tensor of the inverse graph" },
        { "unknown-output", "is not computed by the inverse graph" },
        { "open-subnet", "depends on 'z'" },
        { "overlap", "must lie in [0, 2) and not overlap" },
        { "no-spline", "has no 'spline' constants" },
        { "empty-step", "has no kind" },
    };

    /// <summary>Every inconsistency of the steps is refused with the step, the field and what was expected.</summary>
    [Theory]
    [MemberData(nameof(BadPlans))]
    public void Plan_Inconsistent_IsRefusedNamingTheStep(string defect, string message)
    {
        var (manifest, inverse) = ShippedSpline();
        var steps = manifest.CouplingFlow.InverseSteps;
        var coupling = steps.First(s => s.Coupling is not null).Coupling;
        switch (defect)
        {
            case "permute": steps.First(s => s.Permute is not null).Permute.Order[0] = 1; break;
            case "affine-width": steps.First(s => s.ElementwiseAffine is not null).ElementwiseAffine.Scale.Add(1f); break;
            case "unknown-input": coupling.SubnetInput = "nowhere"; break;
            case "unknown-output": coupling.SubnetOutput = "nothing"; break;
            // Cutting at the conditions instead of the concatenation leaves the subnet reading the latent z.
            case "open-subnet": coupling.SubnetInput = "conditions"; break;
            case "overlap": coupling.KeptOffset = coupling.TransformedOffset; coupling.KeptWidth = 1; break;
            case "no-spline": manifest.CouplingFlow.Spline = null; break;
            case "empty-step": steps.Add(new InverseStep()); break;
        }
        var e = Assert.Throws<BundleFormatException>(() => CouplingPlan.From("bad.onnxsbi", manifest, inverse));
        Assert.Contains(message, e.Message);
        Assert.Contains("bad.onnxsbi", e.Message);
    }

    [Fact]
    public void BundleWriter_RefusesABundleWhoseStepsDoNotMatchItsGraph()
    {
        var contents = BundleReader.Read(ShippedModelsTests.BundlePath("affine_coupling_flow"));
        var manifest = contents.Manifest.Clone();
        manifest.CouplingFlow.InverseSteps.First(s => s.Coupling is not null).Coupling.SubnetOutput = "missing";
        var graphs = contents.Graphs.ToDictionary(g => g.Key, g => ModelProto.Parser.ParseFrom(g.Value));
        string path = Path.Combine(Path.GetTempPath(), $"onnxsbi-badplan-{Guid.NewGuid():N}.onnxsbi");
        var e = Assert.Throws<BundleFormatException>(() => BundleWriter.Write(path, manifest, graphs, contents.ModelCard));
        Assert.Contains("subnet_output 'missing'", e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void RuntimeOptions_UnknownCouplingInverseMode_IsRefused()
    {
        var e = Assert.Throws<InvalidRequestException>(() => new RuntimeOptions { CouplingInverse = (CouplingInverseMode)7 }.Validate());
        Assert.Contains("CouplingInverse 7", e.Message);
    }

    /// <summary>
    /// exp over its whole clamped range and ln from 1e−30 to 1e30 against MathF (correctly rounded to within an
    /// ulp): the polynomials' truncation error is below 2e−8 and the rest is float32 rounding of a few operations,
    /// so 4e−7 relative (about 3 ulps) bounds them; a wrong coefficient or exponent step is off by 1e−4 or more.
    /// </summary>
    [Fact]
    public void VectorMath_ExpAndLog_AgreeWithMathF()
    {
        int lanes = Vector<float>.Count;
        var input = new float[lanes];
        var output = new float[lanes];
        double worstExp = 0, worstLog = 0;
        for (int i = 0; i < 200_000; i += lanes)
        {
            for (int l = 0; l < lanes; l++) input[l] = -87f + (i + l) * (175f / 200_000);
            VectorMath.Exp(new Vector<float>(input)).CopyTo(output);
            for (int l = 0; l < lanes; l++)
                worstExp = Math.Max(worstExp, Math.Abs(output[l] - Math.Exp(input[l])) / Math.Exp(input[l]));
            for (int l = 0; l < lanes; l++) input[l] = (float)Math.Pow(10, -30 + (i + l) * (60.0 / 200_000));
            VectorMath.Log(new Vector<float>(input)).CopyTo(output);
            for (int l = 0; l < lanes; l++)
                worstLog = Math.Max(worstLog, Math.Abs(output[l] - Math.Log(input[l])) / Math.Max(1, Math.Abs(Math.Log(input[l]))));
        }
        var wide = new float[8];
        double worstLog256 = 0;
        for (int i = 0; i < 200_000; i += 8)
        {
            for (int l = 0; l < 8; l++) wide[l] = (float)Math.Pow(10, -30 + (i + l) * (30.0 / 200_000)); // (0, 1]: the normal generator's u1
            var log = VectorMath.Log(System.Runtime.Intrinsics.Vector256.Create(wide));
            for (int l = 0; l < 8; l++)
                worstLog256 = Math.Max(worstLog256, Math.Abs(log[l] - Math.Log(wide[l])) / Math.Max(1, Math.Abs(Math.Log(wide[l]))));
        }
        Assert.True(worstLog256 < 4e-7, $"ln (Vector256): worst error {worstLog256:G3}");
        Assert.True(worstExp < 4e-7, $"exp: worst relative error {worstExp:G3}");
        Assert.True(worstLog < 4e-7, $"ln: worst error {worstLog:G3} (relative, or absolute below |ln x| = 1)");
        Assert.Equal(1f, VectorMath.Exp(Vector<float>.Zero)[0]);
        Assert.Equal(0f, VectorMath.Log(Vector<float>.One)[0]);
    }

    [Fact]
    public void VectorMath_NaN_StaysNaN()
    {
        var nan = new Vector<float>(float.NaN);
        Assert.True(float.IsNaN(VectorMath.Exp(nan)[0]));
        Assert.True(float.IsNaN(VectorMath.Log(nan)[0]));
    }
}
