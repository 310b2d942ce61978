using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>sqrt</c>: y = √x for x ≥ 0; inverse y². dy/dx = 1/(2√x) = 1/(2y), so
/// log|dy/dx| = −log 2 − log y (−∞ at x = 0, where the square root has a vertical tangent).
/// The inverse is not one-to-one: a negative network-side value y maps to the same x as −y, and the
/// log-derivative uses |y|, i.e. it accounts for the branch the forward map produces.
/// </summary>
internal sealed class SqrtTransform(IEnumerable<string> keys) : ElementwiseTransform(keys)
{
    internal override string Kind => "sqrt";

    protected override string Domain => "x >= 0";

    protected override int ForwardInPlace(Span<double> values) => ElementwiseKernels.MapInPlace(values, new SqrtMap());

    protected override int InverseInPlace(Span<double> values) => ElementwiseKernels.MapInPlace(values, new SquareMap());

    protected override double ForwardOne(double x) => Math.Sqrt(x);

    protected override double InverseOne(double y) => y * y;

    protected override void AddLogDerivatives(ReadOnlySpan<double> y, int width, Span<double> logDet)
        => ElementwiseKernels.AddRowSums(y, width, logDet, new LogDerivativeMap());

    internal override AdapterStep ToStep() => new() { Sqrt = new Sqrt { Keys = { Keys } } };

    public override string ToString() => $"sqrt({Quote(Keys)})";

    private readonly struct SqrtMap : IScalarMap
    {
        public double Apply(double x) => Math.Sqrt(x);
    }

    private readonly struct SquareMap : IScalarMap
    {
        public double Apply(double x) => x * x;
    }

    private readonly struct LogDerivativeMap : IScalarMap
    {
        public double Apply(double y) => -Math.Log(2 * Math.Abs(y));
    }
}
