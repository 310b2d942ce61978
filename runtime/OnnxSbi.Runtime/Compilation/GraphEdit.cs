using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Compilation;

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

    /// <summary>The initializers by name: those of the parsed graph and those added since (removed ones stay until <see cref="ToBytes"/>).</summary>
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
        => AddInitializer(prefix, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(values), dims);

    /// <summary>Adds an initializer of <paramref name="type"/> from its little-endian bytes under a fresh name and returns the name.</summary>
    public string AddInitializer(string prefix, TensorProto.Types.DataType type, ReadOnlySpan<byte> raw, params long[] dims)
    {
        var t = new TensorProto { Name = Fresh(prefix), DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.Add(dims);
        Graph.Initializer.Add(t);
        Initializers[t.Name] = t;
        return t.Name;
    }

    /// <summary>
    /// A plain Gemm (alpha = beta = 1, A not transposed) whose B is a float initializer: its weights as a
    /// flat array, K (inputs) and N (outputs), and whether B is stored transposed ([N, K]).
    /// </summary>
    public bool TryReadGemm(NodeProto node, out float[] w, out long k, out long n, out bool transB)
    {
        w = []; k = n = 0; transB = false;
        if (node.OpType != "Gemm" || node.Domain.Length > 0 || node.Input.Count < 2) return false;
        foreach (var a in node.Attribute)
        {
            switch (a.Name)
            {
                case "transB": transB = a.I == 1; break;
                case "transA" when a.I != 0: return false;
                case "alpha" or "beta" when a.F != 1f: return false;
            }
        }
        if (!Initializers.TryGetValue(node.Input[1], out var b) || b.DataType != (int)TensorProto.Types.DataType.Float || b.Dims.Count != 2) return false;
        w = Floats(b);
        if (w.Length != b.Dims[0] * b.Dims[1]) return false;
        (k, n) = transB ? (b.Dims[1], b.Dims[0]) : (b.Dims[0], b.Dims[1]);
        return true;
    }

    /// <summary>
    /// A Gemm's bias C as N floats: a float initializer of shape [N] or [1, N] (broadcast along the rows), or
    /// zeros when the node has none. False for any other C (a computed tensor, another shape or type).
    /// </summary>
    public bool TryReadGemmBias(NodeProto gemm, long n, out float[] bias)
    {
        bias = [];
        if (gemm.Input.Count < 3 || gemm.Input[2].Length == 0)
        {
            bias = new float[n];
            return true;
        }
        if (!Initializers.TryGetValue(gemm.Input[2], out var c) || c.DataType != (int)TensorProto.Types.DataType.Float) return false;
        if (!(c.Dims.Count == 1 && c.Dims[0] == n) && !(c.Dims.Count == 2 && c.Dims[0] == 1 && c.Dims[1] == n)) return false;
        bias = Floats(c);
        return bias.Length == n;
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
