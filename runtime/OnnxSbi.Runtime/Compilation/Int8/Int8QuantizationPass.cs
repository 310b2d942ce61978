namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Quantizes the hidden layers' Gemms to int8 (<see cref="Int8Quantizer"/>): applies when
/// <see cref="NetworkPrecision.Int8"/> is asked for. Runs after the residual block rewrite, on its separate projections.
/// </summary>
internal sealed class Int8QuantizationPass : GraphPass
{
    public static Int8QuantizationPass Instance { get; } = new();

    public override string Name => "int8";

    public override string? SkipReason(GraphTarget target)
        => target.Precision != NetworkPrecision.Int8 ? $"{target.Label}: precision {target.Precision}" : null;

    public override PassResult Apply(GraphEdit edit, GraphTarget target)
    {
        int replaced = Int8Quantizer.Quantize(edit, Int8Quantizer.WeightRange);
        return new(replaced, replaced > 0
            ? $"{target.Label}: {replaced} Gemms quantized (weights in [−{Int8Quantizer.WeightRange}, {Int8Quantizer.WeightRange}])"
            : $"{target.Label}: no Gemm with constant weights and at least {Int8Quantizer.MinDimension} inputs and outputs");
    }
}
