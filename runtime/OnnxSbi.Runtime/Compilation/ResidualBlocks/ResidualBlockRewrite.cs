using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Contracts.Onnx;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// Rewrites, at load, the residual mish blocks the trainer exports into fewer ONNX Runtime kernels with the
/// same function. An exported block is
/// <code>
/// [x | p] = Split(Gemm(h, W, b))                       W = [W_d; W_p], b = [b_d; b_p] (one 2w-wide product)
/// q = Sigmoid(Neg(x));  h' = p + x · (1 − q²) / (1 + q²)   mish(x) = x · tanh(softplus(x))
/// </code>
/// eight elementwise kernels around one Gemm, each a full pass over a [rows, w] tensor. With u = −x (the
/// dense half's weights and bias negated) and q = σ(u), mish(x) = u (q² − 1)/(1 + q²) = u − u / s, where
/// s = (1 + q²)/2 is one <c>HardSigmoid</c> (α = β = ½; q² ∈ [0, 1] never reaches its clip). The block becomes
/// <code>
/// u = Gemm(h, −W_d, −b_d);  q = Sigmoid(u);  v = Div(u, HardSigmoid(Mul(q, q)))
/// h' = Sub(Gemm(h, W_p − W_d, b_p − b_d), v)            (combined projection: P + u − v)
/// h' = Add(Gemm(h, W_p, b_p), Sub(u, v))                (separate projection)
/// </code>
/// two Gemms of width w (no Split copy) and four or five elementwise kernels. The combined form folds u into
/// the projection's weights, which is exact algebra in float; it is not used for int8, where W_p − W_d and W_d
/// would be quantized separately and u would not cancel exactly; the separate form quantizes exactly the weights
/// the exported graph had, and its velocity stays closer to float (measured: docs/BENCHMARKS.md, "MLP families:
/// fewer kernels per residual block, and parallel blocks").
/// </summary>
/// <remarks>
/// Only blocks the exporter declares (the manifest's <c>residual_blocks</c> of the graph's entry, written by the
/// trainer's ResidualMlp.Emit) are rewritten, and each must be exactly the documented pattern: every value inside the
/// block must have the consumers the pattern says and none may be a graph output. A declared block that does not
/// match is a <see cref="BundleFormatException"/> naming the bundle, the graph and the block, so a change to the
/// exporter cannot silently turn the rewrite off; a graph without declarations runs as it is.
/// </remarks>
internal static class ResidualBlockRewrite
{
    /// <summary>The number of nodes of a declared block.</summary>
    public const int NodesPerBlock = 10;

    /// <summary>
    /// Rewrites the <paramref name="declared"/> blocks of the graph of <paramref name="edit"/> in place, in graph order;
    /// returns how many were rewritten. With <paramref name="part"/> the graph is a part cut out of the declared graph
    /// (a coupling subnet): blocks wholly outside it are skipped, and one only partly inside it is an error.
    /// </summary>
    /// <exception cref="BundleFormatException">A declared block is not in the graph or does not match the pattern.</exception>
    public static int Apply(GraphEdit edit, IReadOnlyList<ResidualBlock> declared, bool combineProjection, string bundlePath, string graph, bool part = false)
    {
        var byName = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        var duplicated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in edit.Graph.Node)
            if (node.Name.Length > 0 && !byName.TryAdd(node.Name, node)) duplicated.Add(node.Name);
        var splits = new List<(int Index, int Declared, NodeProto Split)>();
        for (int i = 0; i < declared.Count; i++)
        {
            var nodes = declared[i].Nodes;
            BundleFormatException Bad(string why) => new(bundlePath,
                $"graph '{graph}' declares residual block {i} ({(nodes.Count > 0 ? $"'{nodes[0]}' … '{nodes[^1]}'" : "no nodes")}), but {why}. The exporter and the graph disagree; re-export the bundle.");
            if (nodes.Count != NodesPerBlock) throw Bad($"it lists {nodes.Count} nodes where a block has {NodesPerBlock}");
            int present = nodes.Count(byName.ContainsKey);
            if (part && present == 0) continue;
            if (present < NodesPerBlock) throw Bad($"the graph has no node named '{nodes.First(n => !byName.ContainsKey(n))}'");
            if (nodes.FirstOrDefault(duplicated.Contains) is { } twice) throw Bad($"the graph has more than one node named '{twice}'");
            var split = byName[nodes[1]];
            splits.Add((edit.Graph.Node.IndexOf(split), i, split));
        }
        // Graph order, as the blocks are chained: each fresh name then depends only on the blocks before it.
        foreach (var (_, i, split) in splits.OrderBy(s => s.Index))
        {
            var nodes = declared[i].Nodes;
            string? why = TryMatch(edit, split, out var block);
            if (why is null && !block.Removed.Select(n => n.Name).SequenceEqual(nodes))
                why = $"the pattern at its Split is the nodes [{string.Join(", ", block.Removed.Select(n => n.Name))}], not the declared [{string.Join(", ", nodes)}]";
            if (why is not null)
                throw new BundleFormatException(bundlePath,
                    $"graph '{graph}' declares residual block {i} ('{nodes[0]}' … '{nodes[^1]}'), but {why}. The exporter and the graph disagree; re-export the bundle.");
            Rewrite(edit, block, combineProjection);
        }
        return splits.Count;
    }

    /// <summary>Returns the model with <paramref name="declared"/> rewritten and their number (the input itself when none is declared).</summary>
    /// <exception cref="BundleFormatException">A declared block is not in the graph or does not match the pattern.</exception>
    public static (byte[] Model, int Rewritten) Apply(byte[] model, IReadOnlyList<ResidualBlock> declared, bool combineProjection, string bundlePath = "(graph)", string graph = "graph")
    {
        if (declared.Count == 0) return (model, 0);
        var edit = new GraphEdit(model);
        int rewritten = Apply(edit, declared, combineProjection, bundlePath, graph);
        return (edit.ToBytes(), rewritten);
    }

    /// <summary>
    /// Finds every block of the exporter's pattern by its structure, in graph order, as declarations: for tests and
    /// for declaring the blocks of a bundle whose manifest lacks them, never at load.
    /// </summary>
    public static List<ResidualBlock> Discover(byte[] model)
    {
        var edit = new GraphEdit(model);
        var found = new List<ResidualBlock>();
        foreach (var split in edit.Graph.Node.Where(n => n.OpType == "Split" && n.Domain.Length == 0))
        {
            if (TryMatch(edit, split, out var block) is not null) continue;
            var declaration = new ResidualBlock();
            declaration.Nodes.Add(block.Removed.Select(n => n.Name));
            found.Add(declaration);
        }
        return found;
    }

    private sealed record Block(
        NodeProto Gemm, float[] Weight, float[] Bias, long K, long Width, NodeProto[] Removed, string Input, string Output);

    /// <summary>Matches the block whose Split is <paramref name="split"/>; null on a match, else what does not match.</summary>
    private static string? TryMatch(GraphEdit edit, NodeProto split, out Block block)
    {
        block = null!;
        var graph = edit.Graph;
        var initializers = edit.Initializers;
        if (split.OpType != "Split" || split.Domain.Length > 0) return $"node '{split.Name}' is a {split.OpType}, not a Split";
        if (split.Output.Count != 2 || split.Input.Count != 2 || Attribute(split, "axis") is not { I: 1 }) return "its Split does not cut two halves along axis 1 with constant sizes";
        var gemm = Producer(graph, split.Input[0]);
        if (gemm is null || !edit.TryReadGemm(gemm, out float[] w, out long k, out long n, out bool transB) || !transB) return "its Split does not read a plain Gemm with constant, transposed weights";
        if (n % 2 != 0 || !edit.TryReadGemmBias(gemm, n, out float[] bias)) return $"its Gemm has an odd width ({n}) or a bias that is not a constant [{n}]";
        long width = n / 2;
        if (!initializers.TryGetValue(split.Input[1], out var sizes) || !Int64s(sizes).SequenceEqual([width, width])) return $"its Split's sizes are not the constant [{width}, {width}]";

        string x = split.Output[0], p = split.Output[1];
        var neg = Single(graph, x, "Neg", sole: false);
        var last = Single(graph, x, "Mul", sole: false);
        if (neg is null || last is null || Consumers(graph, x).Count != 2) return "the dense half does not feed exactly one Neg and one Mul";
        var sigmoid = Single(graph, neg.Output[0], "Sigmoid");
        var square = sigmoid is null ? null : Single(graph, sigmoid.Output[0], "Mul");
        if (square is null || square.Input[0] != sigmoid!.Output[0] || square.Input[1] != sigmoid.Output[0]) return "the Neg does not feed a Sigmoid squared by one Mul";
        var squareUsers = Consumers(graph, square.Output[0]);
        var sub = squareUsers.FirstOrDefault(c => c.OpType == "Sub");
        var add = squareUsers.FirstOrDefault(c => c.OpType == "Add");
        if (squareUsers.Count != 2 || sub is null || add is null) return "the square does not feed exactly one Sub and one Add";
        if (!IsOne(initializers, sub.Input[0]) || sub.Input[1] != square.Output[0]) return "the Sub is not 1 − q²";
        if (!(IsOne(initializers, add.Input[0]) && add.Input[1] == square.Output[0]) && !(IsOne(initializers, add.Input[1]) && add.Input[0] == square.Output[0])) return "the Add is not 1 + q²";
        var div = Single(graph, sub.Output[0], "Div");
        if (div is null || Consumers(graph, add.Output[0]) is not [var divToo] || divToo != div || div.Input[0] != sub.Output[0] || div.Input[1] != add.Output[0]) return "the Sub and the Add do not feed one Div (1 − q²)/(1 + q²)";
        if (Single(graph, div.Output[0], "Mul") != last || !last.Input.Contains(x)) return "the Div does not feed the Mul with the dense half";
        var residual = Single(graph, last.Output[0], "Add");
        if (residual is null || Consumers(graph, p) is not [var residualToo] || residualToo != residual || !residual.Input.Contains(p)) return "the activation and the projection half do not meet in one residual Add";
        if (Consumers(graph, gemm.Output[0]).Count != 1) return "the Gemm's output is read by more than the Split";
        NodeProto[] removed = [gemm, split, neg, sigmoid, square, sub, add, div, last, residual];
        var outputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        if (removed.SkipLast(1).Any(r => r.Output.Any(outputs.Contains)) || removed.Any(r => r.Output.Count != 1 && r != split)) return "a value inside the block is a graph output, or a node has more than one output";
        block = new Block(gemm, w, bias, k, width, removed, gemm.Input[0], residual.Output[0]);
        return null;
    }

    private static void Rewrite(GraphEdit edit, Block block, bool combineProjection)
    {
        var graph = edit.Graph;
        long k = block.K, w = block.Width;
        // W is [2w, K] (transB): rows 0..w−1 are the dense half, rows w..2w−1 the projection.
        var dense = new float[w * k];
        var denseBias = new float[w];
        var projection = block.Weight.AsSpan((int)(w * k), (int)(w * k)).ToArray();
        var projectionBias = block.Bias.AsSpan((int)w, (int)w).ToArray();
        for (long i = 0; i < w * k; i++) dense[i] = -block.Weight[i];
        for (long i = 0; i < w; i++) denseBias[i] = -block.Bias[i];
        if (combineProjection)
        {
            for (long i = 0; i < w * k; i++) projection[i] += dense[i];
            for (long i = 0; i < w; i++) projectionBias[i] += denseBias[i];
        }
        string prefix = block.Gemm.Name.Length > 0 ? block.Gemm.Name : block.Gemm.Output[0];
        string Weight(string suffix, float[] values, params long[] dims) => edit.AddFloats($"{prefix}_{suffix}", values, dims);
        var nodes = new List<NodeProto>();
        string Node(string op, string output, string[] inputs, params (string Name, object Value)[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = edit.Fresh($"{prefix}_{op.ToLowerInvariant()}") };
            node.Input.Add(inputs);
            node.Output.Add(output.Length > 0 ? output : edit.Fresh($"{prefix}_{op.ToLowerInvariant()}_out"));
            node.Attribute.Add(attributes.Select(a => GraphBuilder.Attribute(a.Name, a.Value)));
            nodes.Add(node);
            return node.Output[0];
        }
        var transB = ("transB", (object)1L);
        string u = Node("Gemm", "", [block.Input, Weight("dense_neg_W", dense, w, k), Weight("dense_neg_b", denseBias, w)], transB);
        string g = Node("Gemm", "", [block.Input, Weight(combineProjection ? "proj_minus_dense_W" : "proj_W", projection, w, k),
            Weight(combineProjection ? "proj_minus_dense_b" : "proj_b", projectionBias, w)], transB);
        string q = Node("Sigmoid", "", [u]);
        string half = Node("HardSigmoid", "", [Node("Mul", "", [q, q])], ("alpha", 0.5f), ("beta", 0.5f));
        string v = Node("Div", "", [u, half]);
        if (combineProjection) Node("Sub", block.Output, [g, v]);
        else Node("Add", block.Output, [g, Node("Sub", "", [u, v])]);

        int at = graph.Node.IndexOf(block.Gemm);
        foreach (var r in block.Removed) graph.Node.Remove(r);
        for (int i = 0; i < nodes.Count; i++) graph.Node.Insert(at + i, nodes[i]);
    }

    private static NodeProto? Producer(GraphProto graph, string value) => graph.Node.FirstOrDefault(n => n.Output.Contains(value));

    private static List<NodeProto> Consumers(GraphProto graph, string value) => graph.Node.Where(n => n.Input.Contains(value)).ToList();

    /// <summary>The consumer of <paramref name="value"/> of type <paramref name="op"/>; with <paramref name="sole"/>, also its only consumer.</summary>
    private static NodeProto? Single(GraphProto graph, string value, string op, bool sole = true)
    {
        var users = Consumers(graph, value);
        var matching = users.Where(u => u.OpType == op && u.Domain.Length == 0).ToList();
        return matching.Count == 1 && (!sole || users.Count == 1) ? matching[0] : null;
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static bool IsOne(Dictionary<string, TensorProto> initializers, string name)
        => initializers.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Aggregate(1L, (a, b) => a * b) == 1
           && GraphEdit.Floats(t) is [1f];

    private static long[] Int64s(TensorProto t)
        => t.DataType != (int)TensorProto.Types.DataType.Int64 ? [] : t.Int64Data.Count > 0 ? t.Int64Data.ToArray() : MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray();
}
