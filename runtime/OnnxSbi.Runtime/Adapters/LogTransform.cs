using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>log</c>: y = log x (or y = log(1 + x) with <c>p1</c>), for positive quantities such as
/// scales. Inverse: exp (expm1). In both variants dy/dx = e^−y, so log|dy/dx| = −y.
/// </summary>
internal sealed class LogTransform(IEnumerable<string> keys, bool p1) : ElementwiseTransform(keys)
{
    internal bool P1 { get; } = p1;

    internal override string Kind => "log";

    protected override string Domain => P1 ? "x > -1" : "x > 0";

    protected override int ForwardInPlace(Span<double> values)
        => P1 ? ElementwiseKernels.MapInPlace(values, new Log1pMap()) : ElementwiseKernels.MapInPlace(values, new LogMap());

    protected override int InverseInPlace(Span<double> values)
        => P1 ? ElementwiseKernels.MapInPlace(values, new Expm1Map()) : ElementwiseKernels.MapInPlace(values, new ExpMap());

    protected override double ForwardOne(double x) => P1 ? ElementwiseKernels.Log1p(x) : Math.Log(x);

    protected override double InverseOne(double y) => P1 ? ElementwiseKernels.Expm1(y) : Math.Exp(y);

    protected override void AddLogDerivatives(ReadOnlySpan<double> y, int width, Span<double> logDet)
        => ElementwiseKernels.AddRowSums(y, width, logDet, new NegateMap());

    internal override AdapterStep ToStep() => new() { Log = new Log { Keys = { Keys }, P1 = P1 } };

    public override string ToString() => $"{(P1 ? "log1p" : "log")}({Quote(Keys)})";

    private readonly struct LogMap : IScalarMap
    {
        public double Apply(double x) => Math.Log(x);
    }

    private readonly struct Log1pMap : IScalarMap
    {
        public double Apply(double x) => ElementwiseKernels.Log1p(x);
    }

    private readonly struct ExpMap : IScalarMap
    {
        public double Apply(double x) => Math.Exp(x);
    }

    private readonly struct Expm1Map : IScalarMap
    {
        public double Apply(double x) => ElementwiseKernels.Expm1(x);
    }

    private readonly struct NegateMap : IScalarMap
    {
        public double Apply(double x) => -x;
    }
}
