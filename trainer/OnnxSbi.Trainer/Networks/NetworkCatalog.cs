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

/// <summary>The seed's four networks (docs/two-moons.md#recipes), by name.</summary>
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
    /// 25 steps (100 network evaluations): on the seed model it scored C2ST 0.517 at x = (0, 0), against
    /// 0.521 for BayesFlow's adaptive Tsit5 default, which needs at least 300 evaluations (min 50 steps).
    /// </summary>
    public static NetworkRecipe FlowMatchingSeed { get; } = new("flow_matching", "Flow Matching", 50,
        (d, c, o) => new FlowMatching(d, c, new FlowMatchingOptions(Subnet(o, Enumerable.Repeat(256, 6).ToArray(), 0.0), DefaultMethod: "rk4", DefaultSteps: 25)));

    /// <summary>
    /// Consistency model: MLP (64,)×6, dropout 0, max_time 10, sigma2 1.0, total_steps = the run's steps (512·800),
    /// 800 epochs, BayesFlow's 10 sampling steps. The seed's (256,)×6 for 50 epochs scored C2ST 0.586–0.594 at
    /// x = (0, 0) with 10 steps and was best at 3 (0.552); consistency training needs a long schedule, and (64,)×6
    /// for 800 epochs scores 0.508–0.514 with 10 steps and 0.512–0.516 with 3 (0.538 after 400 epochs, 0.622 after
    /// 200), 10,000 draws, sampling seeds 1 and 2, while doing 16× less network work per draw: 3,000 draws in
    /// 10 steps take about 10 ms on the 2-core benchmark machine against about 98 ms (docs/DESIGN.md, docs/BENCHMARKS.md).
    /// </summary>
    public static NetworkRecipe ConsistencyModelSeed { get; } = new("consistency_model", "Consistency Model", ConsistencyEpochs,
        (d, c, o) => new ConsistencyModel(d, c, new ConsistencyModelOptions(Subnet(o, Enumerable.Repeat(64, 6).ToArray(), 0.0),
            MaxTime: 10, Sigma2: 1.0, TotalSteps: o.TotalSteps > 0 ? o.TotalSteps : (long)o.BatchesPerEpoch * ConsistencyEpochs, DefaultSteps: 10)));

    private const int ConsistencyEpochs = 800;

    /// <summary>
    /// Affine coupling flow: depth 8, subnet widths (64, 64), 30 epochs, dropout 0 like the seed's other
    /// networks. With BayesFlow's coupling default of 0.05 the seed run scored C2ST 0.739 at x = (0, 0)
    /// and its loss at epoch 27 (−2.73) was worse than the dropout-free run's at epoch 12 (−2.99): the
    /// two-moons posterior is a thin band that dropout noise in the coupling scales blurs.
    /// </summary>
    public static NetworkRecipe AffineCouplingFlowSeed { get; } = new("affine_coupling_flow", "Affine Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 8, Transform: "affine", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));

    /// <summary>
    /// Spline coupling flow: depth 4, subnet widths (64, 64) like the affine flow's, 30 epochs, dropout 0 for the
    /// same reason as the affine flow. Trained on the seed data with seed 1 and scored on 10,000 draws with (128, 128)
    /// subnets, BayesFlow's coupling dropout of 0.05 gave final validation loss −3.30, C2ST 0.560 at x = (0, 0) and 0.601 over the
    /// 10 test observations; dropout 0 gave −3.64, 0.530 and 0.559 (docs/DESIGN.md). BayesFlow's default widths
    /// (128, 128) scored no better than (64, 64) — 0.531 / 0.560 against 0.535 / 0.554 — for 3.1× the subnets'
    /// Gemm work: 8.16 ms against 3.30 ms for 3,000 draws in fp32, side by side on the 2-core benchmark machine
    /// (docs/BENCHMARKS.md).
    /// </summary>
    public static NetworkRecipe SplineCouplingFlowSeed { get; } = new("spline_coupling_flow", "Spline Coupling Flow", 30,
        (d, c, o) => new CouplingFlow(d, c, new CouplingFlowOptions(Depth: 4, Transform: "spline", SubnetWidths: o.Widths ?? [64, 64], SubnetDropout: o.Dropout ?? 0.0)));
}
