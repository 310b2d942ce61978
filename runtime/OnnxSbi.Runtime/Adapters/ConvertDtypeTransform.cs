using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>convert_dtype</c> over every variable. Values stay <c>double</c> in an
/// <see cref="ArrayBatch"/>; converting to float32 rounds each to the nearest float, so the adapter
/// sees exactly what the float32 network will. The inverse converts back the other way, which rounds
/// only when <c>from</c> is float32. The rounding is not a change of variables, so it adds nothing
/// to the log-Jacobian.
/// </summary>
internal sealed class ConvertDtypeTransform : AdapterTransform
{
    internal ConvertDtypeTransform(Dtype from, Dtype to)
    {
        From = Enum.IsDefined(from) ? from : throw new ArgumentOutOfRangeException(nameof(from), from, "Expected Dtype.Float64 or Dtype.Float32.");
        To = Enum.IsDefined(to) ? to : throw new ArgumentOutOfRangeException(nameof(to), to, "Expected Dtype.Float64 or Dtype.Float32.");
    }

    /// <summary>The step as a manifest stores it; a name other than "float64" or "float32" throws <see cref="ArgumentException"/>.</summary>
    internal static ConvertDtypeTransform FromSpec(ConvertDtype spec) => new(Dtypes.Parse(spec.From, "from"), Dtypes.Parse(spec.To, "to"));

    internal Dtype From { get; }

    internal Dtype To { get; }

    internal override string Kind => "convert_dtype";

    internal override void Fit(ArrayBatch batch) { }

    internal override void Forward(ArrayBatch batch)
    {
        if (To == Dtype.Float32) RoundAll(batch);
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet)
    {
        if (From == Dtype.Float32) RoundAll(batch);
    }

    private void RoundAll(ArrayBatch batch)
    {
        foreach (string name in batch.Names)
        {
            double[] data = batch.Get(name);
            for (int i = 0; i < data.Length; i++)
            {
                float f = (float)data[i];
                if (float.IsInfinity(f) && double.IsFinite(data[i]))
                    throw new NonFiniteValueException(name, i / batch.Width(name), f, $"after {Where}: {data[i]} is beyond the float32 range");
                data[i] = f;
            }
        }
    }

    internal override AdapterStep ToStep() => new() { ConvertDtype = new ConvertDtype { From = Dtypes.ToName(From), To = Dtypes.ToName(To) } };

    public override string ToString() => $"convert_dtype({Dtypes.ToName(From)} -> {Dtypes.ToName(To)})";
}
