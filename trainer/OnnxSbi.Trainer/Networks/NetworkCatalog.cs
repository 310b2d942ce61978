namespace OnnxSbi.Trainer.Networks;

/// <summary>User overrides of a recipe's subnet and schedule; null keeps the recipe's value.</summary>
/// <param name="Widths">Subnet hidden widths.</param>
/// <param name="Dropout">Subnet dropout.</param>
/// <param name="TotalSteps">Optimizer steps the training will take (the consistency schedule needs it); 0 means the recipe's
/// seed epochs × <paramref name="BatchesPerEpoch"/>.</param>
/// <param name="BatchesPerEpoch">Batches per epoch, used for the schedule when <paramref name="TotalSteps"/> is 0.</param>
public sealed record NetworkOverrides(IReadOnlyList<int>? Widths = null, double? Dropout = null, long TotalSteps = 0,
    int BatchesPerEpoch = NetworkOverrides.DefaultBatchesPerEpoch)
{
    /// <summary>The batches per epoch assumed when neither the total steps nor the batches are given: the seed recipes' 512.</summary>
    public const int DefaultBatchesPerEpoch = 512;
}

/// <summary>A named network configuration: how to build it and how long the seed trains it.</summary>
/// <param name="Name">Command-line name, e.g. "flow_matching".</param>
/// <param name="Title">Display name, e.g. "Flow Matching".</param>
/// <param name="SeedEpochs">Epochs in the seed configuration.</param>
/// <param name="Build">Builds the network for (D, C, overrides).</param>
public sealed record NetworkRecipe(string Name, string Title, int SeedEpochs, Func<int, int, NetworkOverrides, PosteriorNetwork> Build);

/// <summary>
/// The seed's four networks (docs/two-moons.md#recipes), by name: flow_matching, consistency_model,
/// affine_coupling_flow, spline_coupling_flow. Each recipe builds its network for the widths (D, C) the fitted
/// adapter gives, which is the factory <see cref="Workflows.BasicWorkflow"/> asks for.
/// </summary>
/// <example>
/// <code>
/// NetworkRecipe recipe = NetworkCatalog.Get("affine_coupling_flow");
/// using var workflow = new BasicWorkflow(simulator, adapter, ["mu", "sigma"], ["y"],
///     (d, c) => recipe.Build(d, c, new NetworkOverrides(Widths: [128, 128])));   // null overrides keep the recipe's
/// </code>
/// </example>
public static partial class NetworkCatalog
{
    /// <summary>Looks a recipe up, listing the valid names when it is unknown.</summary>
    public static NetworkRecipe Get(string name)
        => All.FirstOrDefault(r => r.Name == name)
           ?? throw new ArgumentException($"Unknown network '{name}'. Valid networks: {string.Join(", ", All.Select(r => r.Name))}.");

    /// <summary>Every recipe, in the tutorial's order.</summary>
    public static IReadOnlyList<NetworkRecipe> All => Recipes;

    private static MlpOptions Subnet(NetworkOverrides o, IReadOnlyList<int> widths, double dropout, Activation activation = Activation.Mish)
        => new(o.Widths ?? widths, activation, o.Dropout ?? dropout);

    /// <summary>
    /// Flow matching with the seed's MLP (256,)×6, dropout 0, 50 epochs. Its runtime default is RK4 with
    /// 25 steps (100 network evaluations): on the seed model it scores a C2ST at x = (0, 0) as good as BayesFlow's
    /// adaptive Tsit5 default, which needs at least 300 evaluations (min 50 steps)
    /// (<c>onnxsbi-bench c2st --model models/two_moons/flow_matching.onnxsbi --method tsit5</c> against the default).
    /// </summary>
    public static NetworkRecipe FlowMatchingSeed { get; } = new("flow_matching", "Flow Matching", 50,
        (d, c, o) => new FlowMatching(d, c, new FlowMatchingOptions(Subnet(o, Enumerable.Repeat(256, 6).ToArray(), 0.0), DefaultMethod: "rk4", DefaultSteps: 25)));

    /// <summary>
    /// Consistency model: MLP (64,)×6, dropout 0, max_time 10, sigma2 1.0, total_steps = the run's steps (512·800),
    /// 800 epochs, BayesFlow's 10 sampling steps. Consistency training refines its discretization over the whole
    /// schedule and gains far more from a long one than from width: this network, trained 16 times as many epochs
    /// as the seed's (256,)×6, scores a better C2ST with one sixteenth of the network work per draw, which the
    /// runtime's latency target for 10 steps × 3,000 draws needs (measured: docs/two-moons.md#recipes).
    /// </summary>
    public static NetworkRecipe ConsistencyModelSeed { get; } = new("consistency_model", "Consistency Model", ConsistencyEpochs,
        (d, c, o) => new ConsistencyModel(d, c, new ConsistencyModelOptions(Subnet(o, Enumerable.Repeat(64, 6).ToArray(), 0.0),
            MaxTime: 10, Sigma2: 1.0, TotalSteps: o.TotalSteps > 0 ? o.TotalSteps : (long)o.BatchesPerEpoch * ConsistencyEpochs, DefaultSteps: 10)));

    private const int ConsistencyEpochs = 800;

    /// <summary>
    /// Affine coupling flow: depth 8, subnet widths (64, 64), 30 epochs, dropout 0 like the seed's other
    /// networks. BayesFlow's coupling dropout of 0.05 gives a worse C2ST and a worse loss here: the two-moons
    /// posterior is a thin band that dropout noise in the coupling scales blurs (measured: docs/two-moons.md#recipes).
    /// </summary>
    public static NetworkRecipe AffineCouplingFlowSeed { get; } = new("affine_coupling_flow", "Affine Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 8, Transform: "affine", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));

    /// <summary>
    /// Spline coupling flow: depth 4, subnet widths (64, 64) like the affine flow's, 30 epochs, dropout 0 for the
    /// same reason as the affine flow. BayesFlow's default widths (128, 128) score no better in C2ST than (64, 64) for
    /// 3.1× the subnets' Gemm work, and take correspondingly longer to sample (measured: docs/two-moons.md#recipes;
    /// docs/BENCHMARKS.md, "Spline subnets (64, 64), and a smaller consistency model").
    /// </summary>
    public static NetworkRecipe SplineCouplingFlowSeed { get; } = new("spline_coupling_flow", "Spline Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 4, Transform: "spline", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));
}
