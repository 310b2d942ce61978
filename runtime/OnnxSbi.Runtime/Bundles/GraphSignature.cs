using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Bundles;

/// <summary>
/// One graph input or output as the ONNX model declares it. <see cref="Shape"/> uses −1 for a
/// symbolic or unknown dimension and is null when the model declares no shape at all.
/// </summary>
internal sealed record SignatureTensor(string Name, TensorProto.Types.DataType ElementType, long[]? Shape)
{
    /// <summary>The manifest form of this tensor; only valid when <see cref="Shape"/> is known.</summary>
    public TensorSpec ToSpec()
    {
        var spec = new TensorSpec { Name = Name };
        spec.Shape.Add(Shape ?? throw new InvalidOperationException($"Tensor '{Name}' has no declared shape."));
        return spec;
    }
}

/// <summary>The runtime-facing inputs and outputs of an ONNX model.</summary>
internal sealed record GraphSignature(IReadOnlyList<SignatureTensor> Inputs, IReadOnlyList<SignatureTensor> Outputs)
{
    /// <summary>
    /// Reads the signature of <paramref name="model"/>. Inputs that an initializer backs are
    /// weights with defaults, not values a caller binds, so they are left out (ONNX IR ≥ 4).
    /// </summary>
    public static GraphSignature Of(ModelProto model)
    {
        var graph = model.Graph ?? new GraphProto();
        var weights = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        return new GraphSignature(
            graph.Input.Where(v => !weights.Contains(v.Name)).Select(Read).ToArray(),
            graph.Output.Select(Read).ToArray());
    }

    /// <summary>Writes a shape the way the design notes do: −1 as N, e.g. [N, 2].</summary>
    public static string Format(IEnumerable<long>? shape)
        => shape is null ? "(no shape)" : "[" + string.Join(", ", shape.Select(d => d == -1 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    private static SignatureTensor Read(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        var type = (TensorProto.Types.DataType)(tensor?.ElemType ?? 0);
        long[]? shape = tensor?.Shape is { } s
            ? s.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1L).ToArray()
            : null;
        return new SignatureTensor(value.Name, type, shape);
    }
}
