using OnnxSbi.Contracts.Graphs;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime;
using OnnxSbi.Trainer.Export;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// A conditional coupling flow (Dinh et al. 2017; Durkan et al. 2019; BayesFlow's <c>CouplingFlow</c>):
/// an invertible map z = f(θ; c) to a standard normal latent, trained by maximum likelihood,
/// log q(θ | c) = log N(f(θ; c); 0, I) + log|det ∂f/∂θ|. Each of the <see cref="CouplingFlowOptions.Depth"/>
/// levels is [ActNorm] → [permutation] → dual coupling (docs/algorithms.md#coupling-flows). Sampling draws z ~ N(0, I)
/// and runs the inverse. Exports two graphs: "inverse" (z, conditions → theta) for sampling and
/// "forward" (theta, conditions → z, log_det) for densities.
/// </summary>
public sealed class CouplingFlow : PosteriorNetwork
{
    /// <summary>
    /// The seed recipe "affine_coupling_flow": depth 8, subnet widths (64, 64), 30 epochs, dropout 0 like the seed's
    /// other networks. BayesFlow's coupling dropout of 0.05 gives a worse C2ST and a worse loss here: the two-moons
    /// posterior is a thin band that dropout noise in the coupling scales blurs (measured: docs/two-moons.md#recipes).
    /// </summary>
    public static NetworkRecipe AffineRecipe { get; } = new("affine_coupling_flow", "Affine Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 8, Transform: "affine", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));

    /// <summary>
    /// The seed recipe "spline_coupling_flow": depth 4, subnet widths (64, 64) like the affine flow's, 30 epochs,
    /// dropout 0 for the same reason as the affine flow. BayesFlow's default widths (128, 128) score no better in C2ST
    /// than (64, 64) for 3.1× the subnets' Gemm work, and take correspondingly longer to sample (measured:
    /// docs/two-moons.md#recipes; docs/BENCHMARKS.md, "Spline subnets (64, 64), and a smaller consistency model").
    /// </summary>
    public static NetworkRecipe SplineRecipe { get; } = new("spline_coupling_flow", "Spline Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 4, Transform: "spline", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));

    private readonly ModuleList<FlowLayer> layers = new();

    /// <summary>Builds the flow for D inference variables and C conditions.</summary>
    /// <exception cref="ArgumentException">The options are invalid, or D = 1 without conditions (the coupling would have no input).</exception>
    public CouplingFlow(int inferenceDim, int conditionDim, CouplingFlowOptions options)
        : base("coupling_flow", inferenceDim, conditionDim)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (inferenceDim / 2 + conditionDim == 0)
            throw new ArgumentException(
                $"A coupling flow over D = {inferenceDim} inference variable needs conditions: its only coupling is conditioned on them, and C = {conditionDim}.");
        Options = options;
        using var generator = new Generator(options.Seed);
        for (int level = 0; level < options.Depth; level++)
        {
            if (options.UseActNorm) layers.Add(new ActNorm($"actnorm{level}", inferenceDim));
            switch (options.Permutation)
            {
                case "random": layers.Add(FixedPermutation.Random($"permutation{level}", inferenceDim, generator)); break;
                case "swap": layers.Add(FixedPermutation.Swap($"permutation{level}", inferenceDim)); break;
                case "orthogonal": layers.Add(new OrthogonalPermutation($"permutation{level}", inferenceDim, generator)); break;
            }
            layers.Add(new DualCoupling($"coupling{level}", inferenceDim, conditionDim, options));
        }
        RegisterComponents();
    }

    /// <summary>The options the flow was built with.</summary>
    public CouplingFlowOptions Options { get; }

    /// <inheritdoc />
    public override NetworkFamily Family => NetworkFamily.CouplingFlow;

    /// <summary>The layers in forward order (data → latent).</summary>
    internal IReadOnlyList<FlowLayer> Layers => layers.ToList();

    /// <summary>z = f(θ; c) and log|det ∂z/∂θ|: [N, D], [N, C] → [N, D], [N].</summary>
    public (Tensor Z, Tensor LogDet) Forward(Tensor theta, Tensor conditions)
    {
        CheckShapes(theta, "theta", conditions);
        using var scope = NewDisposeScope();
        var x = theta;
        var logDet = zeros([theta.shape[0]], dtype: theta.dtype, device: theta.device);
        foreach (var layer in layers)
        {
            var (z, layerLogDet) = layer.Forward(x, conditions);
            if (layerLogDet is not null) logDet = logDet + layerLogDet;
            x = z;
        }
        return (x.MoveToOuterDisposeScope(), logDet.MoveToOuterDisposeScope());
    }

    /// <summary>θ = f⁻¹(z; c): [N, D], [N, C] → [N, D].</summary>
    public Tensor Inverse(Tensor z, Tensor conditions)
    {
        CheckShapes(z, "z", conditions);
        using var scope = NewDisposeScope();
        var x = z;
        for (int i = layers.Count - 1; i >= 0; i--) x = layers[i].Inverse(x, conditions);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>log q(θ | c) = log N(f(θ; c); 0, I) + log|det ∂f/∂θ|, shape [N].</summary>
    public Tensor LogProb(Tensor theta, Tensor conditions)
    {
        using var scope = NewDisposeScope();
        var (z, logDet) = Forward(theta, conditions);
        var logNormal = z.square().sum(1) * -0.5 - 0.5 * InferenceDim * Math.Log(2 * Math.PI);
        return (logNormal + logDet).MoveToOuterDisposeScope();
    }

    /// <summary>One draw θ ~ q(θ | c) per row of <paramref name="conditions"/> [N, C], without gradients.</summary>
    public Tensor Sample(Tensor conditions, Generator generator)
    {
        using var noGrad = no_grad();
        using var z = randn([conditions.shape[0], InferenceDim], dtype: conditions.dtype, device: conditions.device, generator: generator);
        return Inverse(z, conditions);
    }

    /// <inheritdoc />
    /// <remarks>The negative mean log density of the batch (maximum likelihood); no randomness is used.</remarks>
    public override Tensor ComputeLoss(Tensor theta, Tensor conditions, long step, Generator generator)
    {
        using var logProb = LogProb(theta, conditions);
        return -logProb.mean();
    }

    /// <inheritdoc />
    /// <remarks>Roles "inverse" (z, conditions → theta) and "forward" (theta, conditions → z, log_det).</remarks>
    public override ExportedGraphs ExportGraphs(OnnxModelInfo info)
    {
        var (inverse, _) = EmitInverseGraph();

        var forward = new GraphBuilder("coupling_flow_forward");
        string x = forward.Input(TensorNames.Theta, null, InferenceDim);
        string c = forward.Input(TensorNames.Conditions, null, ConditionDim);
        string? logDet = null;
        foreach (var layer in layers)
        {
            var (z, layerLogDet) = layer.EmitForward(forward, x, c, layer.GetName());
            logDet = FlowGraph.AddLogDets(forward, logDet, layerLogDet);
            x = z;
        }
        forward.Node("Identity", [x], TensorNames.Z);
        forward.Node("Identity", [logDet!], TensorNames.LogDet);
        forward.Output(TensorNames.Z, null, InferenceDim);
        forward.Output(TensorNames.LogDet, [null]);
        return new ExportedGraphs(new Dictionary<string, ModelProto> { [GraphRoles.Inverse] = inverse.Build(info), [GraphRoles.Forward] = forward.Build(info) });
    }

    /// <inheritdoc />
    public override void DescribeSampler(BundleManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        // The plan names tensors of the inverse graph; writing that graph again gives the same names.
        var (_, plan) = EmitInverseGraph();
        manifest.CouplingFlow = new CouplingFlowSampler { Transform = Options.Transform, Depth = Options.Depth, InverseSteps = { plan } };
        if (Options.Transform == "spline")
            manifest.CouplingFlow.Spline = new SplineSpec { Bins = Options.Bins, Bound = Options.Bound, MinBinSize = Options.MinBinSize };
    }

    /// <summary>The inverse graph z, conditions → theta, and the same pass as runtime steps.</summary>
    private (GraphBuilder Graph, List<InverseStep> Plan) EmitInverseGraph()
    {
        var inverse = new GraphBuilder("coupling_flow_inverse");
        var plan = new List<InverseStep>();
        string x = inverse.Input(TensorNames.Z, null, InferenceDim);
        string c = inverse.Input(TensorNames.Conditions, null, ConditionDim);
        for (int i = layers.Count - 1; i >= 0; i--) x = layers[i].EmitInverse(inverse, x, c, layers[i].GetName(), plan);
        inverse.Node("Identity", [x], TensorNames.Theta);
        inverse.Output(TensorNames.Theta, null, InferenceDim);
        return (inverse, plan);
    }

    /// <inheritdoc />
    public override object Describe() => Options;

    private void CheckShapes(Tensor values, string name, Tensor conditions)
    {
        if (values.dim() != 2 || values.shape[1] != InferenceDim)
            throw new ShapeMismatchException(name, $"[N, {InferenceDim}]", $"[{string.Join(", ", values.shape)}]");
        if (conditions.dim() != 2 || conditions.shape[1] != ConditionDim || conditions.shape[0] != values.shape[0])
            throw new ShapeMismatchException("conditions", $"[{values.shape[0]}, {ConditionDim}]", $"[{string.Join(", ", conditions.shape)}]");
    }
}
