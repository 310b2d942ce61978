using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// The graph conventions of docs/DESIGN.md as data: which roles each network family exports, and
/// the names and shapes of every role's inputs and outputs. The bundle reader and writer check
/// graphs against this table; samplers use the same constants to bind tensors by name.
/// </summary>
internal static class GraphRoles
{
    /// <summary>Flow matching's velocity field v(θ_t, t | x).</summary>
    public const string Velocity = "velocity";

    /// <summary>The consistency function f(θ_t, t | x) that maps a noisy point to a posterior draw.</summary>
    public const string Consistency = "consistency";

    /// <summary>A coupling flow's generative direction z → θ.</summary>
    public const string Inverse = "inverse";

    /// <summary>A coupling flow's normalizing direction θ → z with its log-determinant.</summary>
    public const string Forward = "forward";

    /// <summary>Input: the point on the path, [N, D].</summary>
    public const string ThetaT = "theta_t";

    /// <summary>Input: the time of each row, [N, 1].</summary>
    public const string Time = "t";

    /// <summary>Input: the adapted conditions, [N, C].</summary>
    public const string Conditions = "conditions";

    /// <summary>The latent (base-distribution) point, [N, D].</summary>
    public const string Z = "z";

    /// <summary>The parameters in network space, [N, D].</summary>
    public const string Theta = "theta";

    /// <summary>Output of the velocity role, [N, D].</summary>
    public const string VelocityOutput = "velocity";

    /// <summary>Output: log |det ∂z/∂θ| of each row, [N].</summary>
    public const string LogDet = "log_det";

    /// <summary>The roles a bundle of <paramref name="family"/> must hold (and the only ones it may hold).</summary>
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
            [new(ThetaT, FeatureWidth.InferenceDim), new(Time, FeatureWidth.One), new(Conditions, FeatureWidth.ConditionDim)],
            [new(VelocityOutput, FeatureWidth.InferenceDim)]),
        [Consistency] = new(Consistency,
            [new(ThetaT, FeatureWidth.InferenceDim), new(Time, FeatureWidth.One), new(Conditions, FeatureWidth.ConditionDim)],
            [new(Theta, FeatureWidth.InferenceDim)]),
        [Inverse] = new(Inverse,
            [new(Z, FeatureWidth.InferenceDim), new(Conditions, FeatureWidth.ConditionDim)],
            [new(Theta, FeatureWidth.InferenceDim)]),
        [Forward] = new(Forward,
            [new(Theta, FeatureWidth.InferenceDim), new(Conditions, FeatureWidth.ConditionDim)],
            [new(Z, FeatureWidth.InferenceDim), new(LogDet, FeatureWidth.None)]),
    };
}

/// <summary>The width of a role tensor's second dimension; <see cref="None"/> means the tensor is [N].</summary>
internal enum FeatureWidth
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
internal sealed record RoleTensor(string Name, FeatureWidth Width)
{
    /// <summary>The shape with −1 for the symbolic batch dimension, given D and C.</summary>
    public long[] Shape(int inferenceDim, int conditionDim) => Width switch
    {
        FeatureWidth.None => [-1],
        FeatureWidth.One => [-1, 1],
        FeatureWidth.InferenceDim => [-1, inferenceDim],
        FeatureWidth.ConditionDim => [-1, conditionDim],
        _ => throw new ArgumentOutOfRangeException(nameof(Width), Width, "Unknown feature width."),
    };
}

/// <summary>The inputs and outputs of one role's graph; order is the documented one, binding is by name.</summary>
internal sealed record RoleConvention(string Role, IReadOnlyList<RoleTensor> Inputs, IReadOnlyList<RoleTensor> Outputs);
