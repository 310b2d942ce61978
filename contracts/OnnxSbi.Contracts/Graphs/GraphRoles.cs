using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Contracts.Graphs;

/// <summary>
/// The graph conventions of docs/DESIGN.md as data: which roles each network family exports, and the names and
/// shapes of every role's inputs and outputs. The trainer writes graphs under these role names, the bundle reader
/// and writer check graphs against this table, and the runtime's samplers bind tensors by the same names.
/// </summary>
public static class GraphRoles
{
    /// <summary>Flow matching's velocity field v(θ_t, t | x).</summary>
    public const string Velocity = "velocity";

    /// <summary>The consistency function f(θ_t, t | x) that maps a noisy point to a posterior draw.</summary>
    public const string Consistency = "consistency";

    /// <summary>A coupling flow's generative direction z → θ.</summary>
    public const string Inverse = "inverse";

    /// <summary>A coupling flow's normalizing direction θ → z with its log-determinant.</summary>
    public const string Forward = "forward";

    /// <summary>The roles a bundle of <paramref name="family"/> must hold (and the only ones it may hold); empty for an unknown family.</summary>
    public static IReadOnlyList<string> RequiredFor(NetworkFamily family) => family switch
    {
        NetworkFamily.FlowMatching => [Velocity],
        NetworkFamily.ConsistencyModel => [Consistency],
        NetworkFamily.CouplingFlow => [Inverse, Forward],
        _ => [],
    };

    /// <summary>Every role the conventions define, keyed by role name.</summary>
    public static IReadOnlyDictionary<string, RoleConvention> All { get; } = new Dictionary<string, RoleConvention>(StringComparer.Ordinal)
    {
        [Velocity] = new(Velocity,
            [new(TensorNames.ThetaT, FeatureWidth.InferenceDim), new(TensorNames.Time, FeatureWidth.One), new(TensorNames.Conditions, FeatureWidth.ConditionDim)],
            [new(TensorNames.Velocity, FeatureWidth.InferenceDim)]),
        [Consistency] = new(Consistency,
            [new(TensorNames.ThetaT, FeatureWidth.InferenceDim), new(TensorNames.Time, FeatureWidth.One), new(TensorNames.Conditions, FeatureWidth.ConditionDim)],
            [new(TensorNames.Theta, FeatureWidth.InferenceDim)]),
        [Inverse] = new(Inverse,
            [new(TensorNames.Z, FeatureWidth.InferenceDim), new(TensorNames.Conditions, FeatureWidth.ConditionDim)],
            [new(TensorNames.Theta, FeatureWidth.InferenceDim)]),
        [Forward] = new(Forward,
            [new(TensorNames.Theta, FeatureWidth.InferenceDim), new(TensorNames.Conditions, FeatureWidth.ConditionDim)],
            [new(TensorNames.Z, FeatureWidth.InferenceDim), new(TensorNames.LogDet, FeatureWidth.None)]),
    };
}

/// <summary>The width of a role tensor's second dimension; <see cref="None"/> means the tensor is [N].</summary>
public enum FeatureWidth
{
    /// <summary>Rank 1: one value per batch row.</summary>
    None,

    /// <summary>[N, 1].</summary>
    One,

    /// <summary>[N, D], D = the manifest's inference_dim.</summary>
    InferenceDim,

    /// <summary>[N, C], C = the manifest's condition_dim.</summary>
    ConditionDim,
}

/// <summary>One named tensor of a role and the shape it must have.</summary>
/// <param name="Name">The tensor's name (a <see cref="TensorNames"/> constant).</param>
/// <param name="Width">Its second dimension.</param>
public sealed record RoleTensor(string Name, FeatureWidth Width)
{
    /// <summary>The shape with −1 for the symbolic batch dimension, given D and C.</summary>
    public long[] Shape(int inferenceDim, int conditionDim) => Width switch
    {
        FeatureWidth.None => [-1],
        FeatureWidth.One => [-1, 1],
        FeatureWidth.InferenceDim => [-1, inferenceDim],
        FeatureWidth.ConditionDim => [-1, conditionDim],
        _ => throw new ArgumentOutOfRangeException(nameof(inferenceDim), Width, "Unknown feature width."),
    };
}

/// <summary>The inputs and outputs of one role's graph; order is the documented one, binding is by name.</summary>
/// <param name="Role">The role's name (a <see cref="GraphRoles"/> constant).</param>
/// <param name="Inputs">Its inputs in documented order.</param>
/// <param name="Outputs">Its outputs in documented order.</param>
public sealed record RoleConvention(string Role, IReadOnlyList<RoleTensor> Inputs, IReadOnlyList<RoleTensor> Outputs);
