using Google.Protobuf;

namespace OnnxSbi.Contracts.Onnx;

/// <summary>Descriptive fields written into an ONNX model's header.</summary>
/// <param name="ProducerName">The <c>producer_name</c> field, e.g. "OnnxSbi.Trainer".</param>
/// <param name="ProducerVersion">The <c>producer_version</c> field.</param>
/// <param name="DocString">Free text describing the model.</param>
/// <param name="Metadata">Key/value pairs written as <c>metadata_props</c>.</param>
public sealed record OnnxModelInfo(
    string ProducerName,
    string ProducerVersion,
    string DocString = "",
    IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>
/// The one small API every exporter uses to write an ONNX graph: named inputs and outputs with a
/// symbolic batch dimension, float initializers, nodes with attributes, opset imports and metadata.
/// Node outputs get unique names automatically, so exporters can compose helper calls freely.
/// </summary>
public sealed class GraphBuilder
{
    /// <summary>The symbolic name used for the leading batch dimension of inputs and outputs.</summary>
    public const string BatchDim = "N";

    /// <summary>The default ONNX opset: 17 (LayerNormalization, all ops used by OnnxSbi).</summary>
    public const int DefaultOpset = 17;

    private readonly GraphProto _graph;
    // Names handed out (by Fresh, inputs, initializers or node outputs) and names that have a producer.
    // A name from Fresh is reserved but not yet produced: one node may then produce it.
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string> _produced = new(StringComparer.Ordinal);
    private readonly int _opset;
    private int _counter;

    /// <summary>Starts an empty graph.</summary>
    /// <param name="graphName">The graph's name.</param>
    /// <param name="opset">The default-domain opset version to import.</param>
    public GraphBuilder(string graphName, int opset = DefaultOpset)
    {
        _graph = new GraphProto { Name = graphName };
        _opset = opset;
    }

    /// <summary>Declares a float input. A null dimension is written as the symbolic batch dimension.</summary>
    /// <returns>The input's name, for use as a node input.</returns>
    public string Input(string name, params long?[] shape)
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, shape));
        return name;
    }

    /// <summary>Declares a graph output. The value named <paramref name="name"/> must be produced by a node.</summary>
    public void Output(string name, params long?[] shape) => Output(name, TensorProto.Types.DataType.Float, shape);

    /// <summary>Declares a graph output of the given element type.</summary>
    public void Output(string name, TensorProto.Types.DataType type, params long?[] shape)
        => _graph.Output.Add(ValueInfo(name, type, shape));

    /// <summary>Adds a float initializer holding <paramref name="data"/> in row-major order.</summary>
    /// <returns>The initializer's (unique) name.</returns>
    public string Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        CheckSize(name, data.Length, dims);
        string unique = Fresh(name);
        _produced.Add(unique);
        var tensor = new TensorProto { Name = unique, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        byte[] raw = new byte[data.Length * sizeof(float)];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(data).CopyTo(raw);
        tensor.RawData = ByteString.CopyFrom(raw);
        _graph.Initializer.Add(tensor);
        return unique;
    }

    /// <summary>Adds a scalar float constant (rank 0).</summary>
    public string Scalar(string name, float value) => Initializer(name, [value]);

    /// <summary>Adds an int64 initializer (shapes, axes, indices).</summary>
    public string InitializerInt64(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        CheckSize(name, data.Length, dims);
        string unique = Fresh(name);
        _produced.Add(unique);
        var tensor = new TensorProto { Name = unique, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(dims);
        foreach (long v in data) tensor.Int64Data.Add(v);
        _graph.Initializer.Add(tensor);
        return unique;
    }

    /// <summary>
    /// Adds a node with one output and returns that output's name. Attribute values may be
    /// <see cref="long"/>, <see cref="int"/>, <see cref="float"/>, <see cref="string"/>,
    /// <see cref="long"/>[], <see cref="float"/>[] or <see cref="TensorProto"/>.
    /// </summary>
    /// <param name="opType">The ONNX operator, e.g. "Gemm".</param>
    /// <param name="inputs">Input value names; an empty string marks an omitted optional input.</param>
    /// <param name="output">The output's name; a unique one is made when null.</param>
    /// <param name="attributes">Attribute name/value pairs.</param>
    /// <exception cref="ArgumentException">An explicit <paramref name="output"/> names a value the graph already has.</exception>
    public string Node(string opType, string[] inputs, string? output = null, params (string Name, object Value)[] attributes)
    {
        return Node(opType, inputs, [output ?? Fresh(opType.ToLowerInvariant())], attributes)[0];
    }

    /// <summary>Adds a node with several outputs (e.g. Split) and returns their names.</summary>
    /// <exception cref="ArgumentException">An output names a value the graph already has.</exception>
    public string[] Node(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        // ONNX graphs are in single static assignment form: a second producer of a name makes an
        // invalid model that only fails later, inside ONNX Runtime, far from the exporter's mistake.
        for (int i = 0; i < outputs.Length; i++)
        {
            if (_produced.Contains(outputs[i]) || outputs.Take(i).Contains(outputs[i]))
                throw new ArgumentException($"The graph already has a value named '{outputs[i]}'.", nameof(outputs));
        }
        foreach (string o in outputs)
        {
            _names.Add(o);
            _produced.Add(o);
        }
        return AddNode(opType, inputs, outputs, attributes);
    }

    private string[] AddNode(string opType, string[] inputs, string[] outputs, (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Fresh("n_" + opType) };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>The node that produces <paramref name="value"/>, for declarations that list nodes by name. Read it; do not change it.</summary>
    /// <exception cref="ArgumentException">No node of the graph produces <paramref name="value"/>.</exception>
    public NodeProto ProducerOf(string value)
    {
        for (int i = _graph.Node.Count - 1; i >= 0; i--)
            if (_graph.Node[i].Output.Contains(value)) return _graph.Node[i];
        throw new ArgumentException($"No node of graph '{_graph.Name}' produces '{value}'.", nameof(value));
    }

    /// <summary>Makes a name that no value in the graph uses yet, starting from <paramref name="prefix"/>.</summary>
    public string Fresh(string prefix)
    {
        string name = prefix;
        while (!_names.Add(name)) name = $"{prefix}_{++_counter}";
        return name;
    }

    /// <summary>Assembles the model: IR version 8, the default-domain opset and the header fields.</summary>
    public ModelProto Build(OnnxModelInfo info)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = info.ProducerName,
            ProducerVersion = info.ProducerVersion,
            DocString = info.DocString,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        if (info.Metadata is not null)
            foreach (var (k, v) in info.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                model.MetadataProps.Add(new StringStringEntryProto { Key = k, Value = v });
        return model;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"The graph already has a value named '{name}'.", nameof(name));
        _produced.Add(name);
    }

    private static void CheckSize(string name, int length, long[] dims)
    {
        long expected = 1;
        foreach (long d in dims) expected *= d;
        if (expected != length)
            throw new ArgumentException($"Initializer '{name}': shape [{string.Join(", ", dims)}] holds {expected} values but {length} were given.");
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long?[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (long? d in shape)
            tensorShape.Dim.Add(d is long v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = BatchDim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    /// <summary>
    /// An attribute from a value: <see cref="long"/> or <see cref="int"/> (INT), <see cref="float"/> or
    /// <see cref="double"/> (FLOAT), <see cref="string"/>, <see cref="long"/>[] or <see cref="int"/>[] (INTS),
    /// <see cref="float"/>[] (FLOATS), <see cref="TensorProto"/> (TENSOR) or <see cref="GraphProto"/> (GRAPH, e.g. a Loop body).
    /// </summary>
    /// <exception cref="ArgumentException">Any other value type.</exception>
    public static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.Add(ls); break;
            case int[] iss: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.Add(iss.Select(x => (long)x)); break;
            case float[] fs: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.Add(fs); break;
            case TensorProto t: a.Type = AttributeProto.Types.AttributeType.Tensor; a.T = t; break;
            case GraphProto g: a.Type = AttributeProto.Types.AttributeType.Graph; a.G = g; break;
            default: throw new ArgumentException($"Attribute '{name}': unsupported value type {value?.GetType().Name ?? "null"}.");
        }
        return a;
    }
}
