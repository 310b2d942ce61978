using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Sampling;

/// <summary>
/// What the load-time graph rewrites (<see cref="Int8Quantizer"/>, <see cref="ResidualBlockRewrite"/>) share: the
/// parsed model, its initializers by name, names no value of the graph has yet, and the clean-up at the end.
/// </summary>
internal sealed class GraphEdit
{
    private readonly HashSet<string> taken = new(StringComparer.Ordinal);

    /// <exception cref="InvalidProtocolBufferException">The bytes are not an ONNX model.</exception>
    public GraphEdit(byte[] model)
    {
        Model = ModelProto.Parser.ParseFrom(model);
        foreach (var t in Graph.Initializer)
        {
            Initializers[t.Name] = t;
            taken.Add(t.Name);
        }
        foreach (var n in Graph.Node) foreach (string o in n.Output) taken.Add(o);
        foreach (var v in Graph.Input) taken.Add(v.Name);
    }

    public ModelProto Model { get; }

    public GraphProto Graph => Model.Graph;

    /// <summary>The initializers as the graph had them when parsed, by name.</summary>
    public Dictionary<string, TensorProto> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>A name no value, initializer or node output of the graph has: <paramref name="prefix"/>, else prefix_1, prefix_2, ….</summary>
    public string Fresh(string prefix)
    {
        string name = prefix;
        for (int i = 1; !taken.Add(name); i++) name = $"{prefix}_{i}";
        return name;
    }

    /// <summary>Adds a float initializer under a fresh name and returns the name.</summary>
    public string AddFloats(string prefix, ReadOnlySpan<float> values, params long[] dims)
    {
        var t = new TensorProto { Name = Fresh(prefix), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.Add(dims);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        Graph.Initializer.Add(t);
        return t.Name;
    }

    /// <summary>
    /// The rewritten model's bytes, without the initializers no node reads any more (they would be loaded for
    /// nothing, and ONNX Runtime warns about each).
    /// </summary>
    public byte[] ToBytes()
    {
        var used = new HashSet<string>(Graph.Node.SelectMany(x => x.Input), StringComparer.Ordinal);
        foreach (var unused in Graph.Initializer.Where(t => !used.Contains(t.Name)).ToList()) Graph.Initializer.Remove(unused);
        return Model.ToByteArray();
    }

    /// <summary>A float tensor's values, from float_data or raw_data.</summary>
    public static float[] Floats(TensorProto t) => t.FloatData.Count > 0 ? t.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
}
