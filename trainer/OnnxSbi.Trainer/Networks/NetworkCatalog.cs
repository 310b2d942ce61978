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

    /// <summary>An MLP subnet: the recipe's <paramref name="widths"/> and <paramref name="dropout"/> unless overridden.</summary>
    public MlpOptions Subnet(IReadOnlyList<int> widths, double dropout, Activation activation = Activation.Mish)
        => new(Widths ?? widths, activation, Dropout ?? dropout);
}

/// <summary>A named network configuration: how to build it and how long the seed trains it.</summary>
/// <param name="Name">Command-line name, e.g. "flow_matching".</param>
/// <param name="Title">Display name, e.g. "Flow Matching".</param>
/// <param name="SeedEpochs">Epochs in the seed configuration.</param>
/// <param name="Build">Builds the network for (D, C, overrides).</param>
public sealed record NetworkRecipe(string Name, string Title, int SeedEpochs, Func<int, int, NetworkOverrides, PosteriorNetwork> Build);

/// <summary>
/// The trainable network recipes, by name: flow_matching, consistency_model, affine_coupling_flow,
/// spline_coupling_flow. Each family declares its recipes in its own file; registering one is one line in
/// <see cref="All"/>. A recipe builds its network for the widths (D, C) the fitted adapter gives, which is the
/// factory <see cref="Workflows.BasicWorkflow"/> asks for.
/// </summary>
/// <example>
/// <code>
/// NetworkRecipe recipe = NetworkCatalog.Get("affine_coupling_flow");
/// using var workflow = new BasicWorkflow(simulator, adapter, ["mu", "sigma"], ["y"],
///     (d, c) => recipe.Build(d, c, new NetworkOverrides(Widths: [128, 128])));   // null overrides keep the recipe's
/// </code>
/// </example>
public static class NetworkCatalog
{
    /// <summary>Every recipe, in the tutorial's order.</summary>
    public static IReadOnlyList<NetworkRecipe> All { get; } =
    [
        FlowMatching.Recipe,
        ConsistencyModel.Recipe,
        CouplingFlow.AffineRecipe,
        CouplingFlow.SplineRecipe,
    ];

    /// <summary>Looks a recipe up, listing the valid names when it is unknown.</summary>
    public static NetworkRecipe Get(string name)
        => All.FirstOrDefault(r => r.Name == name)
           ?? throw new ArgumentException($"Unknown network '{name}'. Valid networks: {string.Join(", ", All.Select(r => r.Name))}.");
}
