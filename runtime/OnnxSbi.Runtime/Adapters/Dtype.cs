namespace OnnxSbi.Runtime.Adapters;

/// <summary>A floating-point element type, as BayesFlow's <c>convert_dtype</c> names it ("float64", "float32").</summary>
public enum Dtype
{
    /// <summary>IEEE 754 double precision ("float64"): the values as the simulator produces them.</summary>
    Float64,

    /// <summary>IEEE 754 single precision ("float32"): what the exported networks compute in.</summary>
    Float32,
}

/// <summary>The manifest's names of <see cref="Dtype"/> values.</summary>
internal static class Dtypes
{
    /// <summary>The name a manifest stores ("float64", "float32").</summary>
    public static string ToName(Dtype dtype) => dtype switch
    {
        Dtype.Float64 => "float64",
        Dtype.Float32 => "float32",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Expected Dtype.Float64 or Dtype.Float32."),
    };

    /// <summary>Parses a manifest's name; throws <see cref="ArgumentException"/> naming <paramref name="parameter"/> for any other text.</summary>
    public static Dtype Parse(string name, string parameter) => name switch
    {
        "float64" => Dtype.Float64,
        "float32" => Dtype.Float32,
        _ => throw new ArgumentException($"Unsupported dtype '{name}'; expected 'float64' or 'float32'.", parameter),
    };
}
