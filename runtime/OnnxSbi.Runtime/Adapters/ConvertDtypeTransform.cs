using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Adapters;

/// <summary>
/// BayesFlow's <c>convert_dtype</c> over every variable. Values stay <c>double</c> in an
/// <see cref="ArrayBatch"/>; converting to "float32" rounds each to the nearest float, so the adapter
/// sees exactly what the float32 network will. The inverse converts back the other way, which rounds
/// only when <c>from</c> is "float32". The rounding is not a change of variables, so it adds nothing
/// to the log-Jacobian.
/// </summary>
internal sealed class ConvertDtypeTransform : AdapterTransform
{
    internal const string Float64 = "float64";
    internal const string Float32 = "float32";

    internal ConvertDtypeTransform(string from, string to)
    {
        From = CheckDtype(from, nameof(from));
        To = CheckDtype(to, nameof(to));
    }

    internal string From { get; }

    internal string To { get; }

    internal override string Kind => "convert_dtype";

    private static string CheckDtype(string dtype, string parameter) => dtype is Float64 or Float32
        ? dtype
        : throw new ArgumentException($"Unsupported dtype '{dtype}'; expected '{Float64}' or '{Float32}'.", parameter);

    internal override void Fit(ArrayBatch batch) { }

    internal override void Forward(ArrayBatch batch)
    {
        if (To == Float32) RoundAll(batch);
    }

    internal override void Inverse(ArrayBatch batch, double[]? logDet)
    {
        if (From == Float32) RoundAll(batch);
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

    internal override AdapterStep ToStep() => new() { ConvertDtype = new ConvertDtype { From = From, To = To } };

    public override string ToString() => $"convert_dtype({From} -> {To})";
}
