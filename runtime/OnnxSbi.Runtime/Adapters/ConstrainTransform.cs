using OnnxSbi.Contracts.Manifest;
using static OnnxSbi.Runtime.Adapters.ElementwiseKernels;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>constrain</c>: maps a bounded variable to the whole real line so the network never
/// has to respect the bounds.
/// <list type="bullet">
/// <item>Both bounds l &lt; u: y = logit((x − l)/(u − l)); inverse x = (u − l)·σ(y) + l.
/// log|dy/dx| = −log(u − l) − log σ(y) − log(1 − σ(y)) = −log(u − l) + softplus(−y) + softplus(y).</item>
/// <item>Lower bound only: y = softplus⁻¹(x − l); inverse x = softplus(y) + l.
/// dx/dy = σ(y), so log|dy/dx| = −log σ(y) = softplus(−y).</item>
/// <item>Upper bound only, mirrored: y = softplus⁻¹(u − x); inverse x = u − softplus(y); log|dy/dx| = softplus(−y).</item>
/// </list>
/// The bounds themselves are outside the domain (they map to ±∞).
/// </summary>
internal sealed class ConstrainTransform : ElementwiseTransform
{
    internal ConstrainTransform(IEnumerable<string> keys, double? lower, double? upper) : base(keys)
    {
        if (lower is null && upper is null) throw new ArgumentException("Constrain needs a lower bound, an upper bound or both.");
        if (lower is { } l && !double.IsFinite(l)) throw new ArgumentOutOfRangeException(nameof(lower), l, "The lower bound must be finite.");
        if (upper is { } u && !double.IsFinite(u)) throw new ArgumentOutOfRangeException(nameof(upper), u, "The upper bound must be finite.");
        if (lower is { } lo && upper is { } hi && !(lo < hi))
            throw new ArgumentException($"The lower bound ({lo}) must be below the upper bound ({hi}).");
        Lower = lower;
        Upper = upper;
    }

    internal double? Lower { get; }

    internal double? Upper { get; }

    internal override string Kind => "constrain";

    protected override string Domain => (Lower, Upper) switch
    {
        ({ } l, { } u) => $"{l} < x < {u}",
        ({ } l, null) => $"x > {l}",
        _ => $"x < {Upper}",
    };

    protected override int ForwardInPlace(Span<double> values) => (Lower, Upper) switch
    {
        ({ } l, { } u) => MapInPlace(values, new LogitMap(l, u - l)),
        ({ } l, null) => MapInPlace(values, new LowerForwardMap(l)),
        _ => MapInPlace(values, new UpperForwardMap(Upper!.Value)),
    };

    protected override int InverseInPlace(Span<double> values) => (Lower, Upper) switch
    {
        ({ } l, { } u) => MapInPlace(values, new SigmoidMap(l, u - l)),
        ({ } l, null) => MapInPlace(values, new LowerInverseMap(l)),
        _ => MapInPlace(values, new UpperInverseMap(Upper!.Value)),
    };

    protected override double ForwardOne(double x) => (Lower, Upper) switch
    {
        ({ } l, { } u) => new LogitMap(l, u - l).Apply(x),
        ({ } l, null) => new LowerForwardMap(l).Apply(x),
        _ => new UpperForwardMap(Upper!.Value).Apply(x),
    };

    protected override double InverseOne(double y) => (Lower, Upper) switch
    {
        ({ } l, { } u) => new SigmoidMap(l, u - l).Apply(y),
        ({ } l, null) => new LowerInverseMap(l).Apply(y),
        _ => new UpperInverseMap(Upper!.Value).Apply(y),
    };

    protected override void AddLogDerivatives(ReadOnlySpan<double> y, int width, Span<double> logDet)
    {
        if (Lower is { } l && Upper is { } u) AddRowSums(y, width, logDet, new TwoBoundLogDerivativeMap(-Math.Log(u - l)));
        else AddRowSums(y, width, logDet, new OneBoundLogDerivativeMap());
    }

    internal override AdapterStep ToStep()
    {
        var step = new Constrain { Keys = { Keys } };
        if (Lower is { } l) step.Lower = l;
        if (Upper is { } u) step.Upper = u;
        return new AdapterStep { Constrain = step };
    }

    public override string ToString() => $"constrain({Quote(Keys)}, {Domain})";

    private readonly struct LogitMap(double lower, double range) : IScalarMap
    {
        public double Apply(double x) => Logit((x - lower) / range);
    }

    private readonly struct SigmoidMap(double lower, double range) : IScalarMap
    {
        public double Apply(double y) => range * Sigmoid(y) + lower;
    }

    private readonly struct LowerForwardMap(double lower) : IScalarMap
    {
        public double Apply(double x) => InverseSoftplus(x - lower);
    }

    private readonly struct LowerInverseMap(double lower) : IScalarMap
    {
        public double Apply(double y) => Softplus(y) + lower;
    }

    private readonly struct UpperForwardMap(double upper) : IScalarMap
    {
        public double Apply(double x) => InverseSoftplus(upper - x);
    }

    private readonly struct UpperInverseMap(double upper) : IScalarMap
    {
        public double Apply(double y) => upper - Softplus(y);
    }

    private readonly struct TwoBoundLogDerivativeMap(double minusLogRange) : IScalarMap
    {
        public double Apply(double y) => minusLogRange + Softplus(y) + Softplus(-y);
    }

    private readonly struct OneBoundLogDerivativeMap : IScalarMap
    {
        public double Apply(double y) => Softplus(-y);
    }
}
