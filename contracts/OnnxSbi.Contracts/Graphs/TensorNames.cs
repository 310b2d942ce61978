namespace OnnxSbi.Contracts.Graphs;

/// <summary>
/// The names of the tensors a network's graphs read and write (docs/DESIGN.md, "Graph conventions"). The trainer's
/// exporters name their inputs and outputs with these constants and the runtime binds them by the same constants,
/// so the two cannot disagree on a spelling.
/// </summary>
public static class TensorNames
{
    /// <summary>Input of the velocity and consistency roles: the point on the path, [N, D].</summary>
    public const string ThetaT = "theta_t";

    /// <summary>Input of the velocity and consistency roles: the time of each row, [N, 1].</summary>
    public const string Time = "t";

    /// <summary>Input of every role: the adapted conditions, [N, C].</summary>
    public const string Conditions = "conditions";

    /// <summary>The latent (base-distribution) point, [N, D]: the inverse role's input, the forward role's output.</summary>
    public const string Z = "z";

    /// <summary>The parameters in network space, [N, D]: output of the consistency and inverse roles, input of the forward role.</summary>
    public const string Theta = "theta";

    /// <summary>Output of the velocity role, [N, D].</summary>
    public const string Velocity = "velocity";

    /// <summary>Output of the forward role: log |det ∂z/∂θ| of each row, [N].</summary>
    public const string LogDet = "log_det";
}
