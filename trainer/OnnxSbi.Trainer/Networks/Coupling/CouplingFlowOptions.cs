namespace OnnxSbi.Trainer.Networks;

/// <summary>
/// Options of a coupling flow (docs/algorithms.md#coupling-flows). The defaults are BayesFlow's <c>CouplingFlow</c>:
/// depth 6, affine couplings, random permutations, ActNorm on, subnets of widths (128, 128) with
/// dropout 0.05 (SiLU standing in for hard_silu) and, for the spline, 16 bins on (−3, 3) with minimum bin width and height 0.1.
/// </summary>
/// <param name="Depth">Number of levels, each [ActNorm] → [permutation] → dual coupling.</param>
/// <param name="Transform">"affine" (Dinh et al. 2017) or "spline" (rational-quadratic, Durkan et al. 2019).</param>
/// <param name="Permutation">"random" (a fixed shuffle drawn from <paramref name="Seed"/>), "swap" (roll by ⌊D/2⌋), "orthogonal" (a learnable invertible matrix) or "none".</param>
/// <param name="UseActNorm">Put an ActNorm layer (learnable per-dimension scale and shift) first in every level.</param>
/// <param name="SubnetWidths">Hidden widths of each coupling subnet; null means (128, 128).</param>
/// <param name="SubnetActivation">
/// Hidden activation of the subnets. BayesFlow's newest default is hard_silu, a piecewise SiLU that
/// <see cref="Activation"/> does not offer; SiLU is the smooth original, and ONNX Runtime fuses it into one
/// kernel (docs/algorithms.md#silu), where mish stays a chain of element-wise kernels (docs/algorithms.md#mish).
/// </param>
/// <param name="SubnetDropout">Dropout rate after every hidden layer of the subnets, in [0, 1).</param>
/// <param name="Bins">Spline bins K (at least 2).</param>
/// <param name="Bound">The spline acts on (−B, B) in x and y and is the identity outside.</param>
/// <param name="MinBinSize">Minimum bin width and height, in the units of x; Bins·MinBinSize must stay below 2·Bound.</param>
/// <param name="Seed">Seed of the random permutations and of the orthogonal permutations' initial rotations.</param>
public sealed record CouplingFlowOptions(
    int Depth = 6,
    string Transform = "affine",
    string Permutation = "random",
    bool UseActNorm = true,
    IReadOnlyList<int>? SubnetWidths = null,
    Activation SubnetActivation = Activation.Silu,
    double SubnetDropout = 0.05,
    int Bins = 16,
    double Bound = 3.0,
    double MinBinSize = 0.1,
    ulong Seed = 1)
{
    /// <summary>The transforms a coupling can apply.</summary>
    public static IReadOnlyList<string> Transforms { get; } = ["affine", "spline"];

    /// <summary>The permutations between couplings.</summary>
    public static IReadOnlyList<string> Permutations { get; } = ["random", "swap", "orthogonal", "none"];

    /// <summary>BayesFlow's defaults.</summary>
    public static CouplingFlowOptions Default { get; } = new();

    /// <summary>The subnet widths in effect: <see cref="SubnetWidths"/> or (128, 128).</summary>
    public IReadOnlyList<int> Widths => SubnetWidths ?? [128, 128];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first impossible value and the valid choices.</summary>
    public void Validate()
    {
        if (Depth <= 0) throw new ArgumentException($"Depth must be positive; got {Depth}.");
        if (!Transforms.Contains(Transform))
            throw new ArgumentException($"Unknown coupling transform '{Transform}'. Valid: {string.Join(", ", Transforms)}.");
        if (!Permutations.Contains(Permutation))
            throw new ArgumentException($"Unknown permutation '{Permutation}'. Valid: {string.Join(", ", Permutations)}.");
        if (Widths.Count == 0) throw new ArgumentException("SubnetWidths must not be empty, e.g. [128, 128].");
        if (Widths.Any(w => w <= 0)) throw new ArgumentException($"SubnetWidths must be positive; got [{string.Join(", ", Widths)}].");
        if (SubnetDropout is < 0 or >= 1 || double.IsNaN(SubnetDropout))
            throw new ArgumentException($"SubnetDropout must be in [0, 1); got {SubnetDropout}.");
        if (!Enum.IsDefined(SubnetActivation))
            throw new ArgumentException($"Unknown SubnetActivation {SubnetActivation}. Valid: {string.Join(", ", Enum.GetNames<Activation>())}.");
        if (Bins < 2) throw new ArgumentException($"Bins must be at least 2; got {Bins}.");
        if (!(Bound > 0) || double.IsInfinity(Bound)) throw new ArgumentException($"Bound must be positive and finite; got {Bound}.");
        if (!(MinBinSize > 0) || Bins * MinBinSize >= 2 * Bound)
            throw new ArgumentException(
                $"MinBinSize must be positive with Bins·MinBinSize < 2·Bound (the spline's domain (−{Bound}, {Bound}) must hold {Bins} bins); " +
                $"got MinBinSize {MinBinSize}, so Bins·MinBinSize = {Bins * MinBinSize}.");
    }
}
