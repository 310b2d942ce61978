using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Onnx;
using OnnxSbi.Runtime.Compilation;

namespace OnnxSbi.Bench;

/// <summary>One matrix product of a graph, per batch row: [1, K] × [K, N].</summary>
internal readonly record struct MatrixProduct(long K, long N, bool TransposedWeight)
{
    /// <summary>Multiply-adds count twice: 2·K·N FLOPs per row.</summary>
    public long FlopsPerRow => 2 * K * N;
}

/// <summary>
/// FLOP counting from an exported graph and the "practical ceiling": the same Gemm shapes run by ONNX
/// Runtime with no activations, same rows per call and same threading.
/// </summary>
internal static class BenchGraphs
{
    /// <summary>
    /// The Gemm and MatMul nodes whose weight is an initializer, in graph order. Their left operand is a
    /// [rows, K] activation, so each costs 2·K·N FLOPs per row. Products of two activations are not
    /// counted (the exported families have none).
    /// </summary>
    public static List<MatrixProduct> Products(byte[] graph)
    {
        var model = ModelProto.Parser.ParseFrom(graph);
        var weights = model.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray(), StringComparer.Ordinal);
        var result = new List<MatrixProduct>();
        foreach (var node in model.Graph.Node)
        {
            if (node.OpType is not ("Gemm" or "MatMul") || node.Input.Count < 2) continue;
            if (!weights.TryGetValue(node.Input[1], out var dims) || dims.Length != 2) continue;
            bool transB = node.OpType == "Gemm" && node.Attribute.Any(a => a.Name == "transB" && a.I != 0);
            bool transA = node.OpType == "Gemm" && node.Attribute.Any(a => a.Name == "transA" && a.I != 0);
            if (transA) continue;
            result.Add(transB ? new MatrixProduct(dims[1], dims[0], true) : new MatrixProduct(dims[0], dims[1], false));
        }
        return result;
    }

    /// <summary>
    /// A graph of Gemms with exactly <paramref name="products"/>' shapes, chained where the widths match,
    /// with a Split where the previous output is wider than the next Gemm's K (as the network's blocks
    /// split their Gemm output), and a fresh graph input where it is narrower. No activations, no
    /// residual adds: what is left is the matrix work the network cannot avoid.
    /// </summary>
    public static (byte[] Model, List<(string Name, long Width)> Inputs, List<(string Name, long Width)> Outputs) Ceiling(IReadOnlyList<MatrixProduct> products)
    {
        var g = new GraphBuilder("gemm_ceiling");
        var inputs = new List<(string, long)>();
        var outputs = new List<(string, long)>();
        string? current = null;
        long width = 0;
        var rng = new Random(17);
        for (int i = 0; i < products.Count; i++)
        {
            var p = products[i];
            string x;
            if (current is not null && width == p.K) x = current;
            else if (current is not null && width > p.K)
            {
                var halves = g.Node("Split", [current, g.InitializerInt64("split", [p.K, width - p.K], 2)], [g.Fresh("keep"), g.Fresh("drop")], ("axis", 1L));
                x = halves[0];
            }
            else
            {
                if (current is not null) { g.Output(current, null, width); outputs.Add((current, width)); }
                x = g.Input($"x{i}", null, p.K);
                inputs.Add((x, p.K));
            }
            // Weights of scale 1/√K keep activations O(1) along the chain (no denormals, no overflow).
            float scale = (float)Math.Sqrt(3.0 / p.K);
            var w = new float[p.K * p.N];
            for (int j = 0; j < w.Length; j++) w[j] = (float)(rng.NextDouble() * 2 - 1) * scale;
            long[] dims = p.TransposedWeight ? [p.N, p.K] : [p.K, p.N];
            current = g.Node("Gemm", [x, g.Initializer("w", w, dims), g.Initializer("b", new float[p.N], p.N)], (string?)null, ("transB", p.TransposedWeight ? 1L : 0L));
            width = p.N;
        }
        if (current is null) throw new OnnxSbiException("The sampling graph has no Gemm or MatMul with an initializer weight; no ceiling to build.");
        g.Output(current, null, width);
        outputs.Add((current, width));
        return (Google.Protobuf.MessageExtensions.ToByteArray(g.Build(new OnnxModelInfo("onnxsbi-bench runtime", "1"))), inputs, outputs);
    }

    /// <summary>
    /// Median and best seconds per run of the ceiling graph on <paramref name="rows"/> rows over
    /// <paramref name="repeats"/> timed batches, in a session made as <paramref name="model"/>'s are (provider,
    /// threading, spinning; the same Gemms quantized when it runs int8). On CUDA (device <paramref name="deviceId"/>)
    /// the outputs are bound to device memory, so that a run is the Gemms and the copy of the small first input,
    /// not a copy of every output back to the host.
    /// </summary>
    public static (double Median, double Best) CeilingSecondsPerRun(IReadOnlyList<MatrixProduct> products, int rows, int repeats, PosteriorModel model, int deviceId)
    {
        var (bytes, inputs, outputs) = Ceiling(products);
        using var session = model.CreateSession(GraphCompiler.Prepare(bytes, [], model.Precision));
        using var deviceMemory = model.Provider == ExecutionProvider.Cuda ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default) : null;
        using var binding = session.CreateIoBinding();
        using var run = new RunOptions();
        var values = new List<OrtValue>();
        try
        {
            var rng = new Random(3);
            foreach (var (name, width) in inputs)
            {
                var data = new float[rows * width];
                for (int j = 0; j < data.Length; j++) data[j] = (float)(rng.NextDouble() * 2 - 1);
                var v = OrtValue.CreateTensorValueFromMemory(data, [rows, width]);
                values.Add(v);
                binding.BindInput(name, v);
            }
            foreach (var (name, width) in outputs)
            {
                if (deviceMemory is not null)
                {
                    binding.BindOutputToDevice(name, deviceMemory);
                    continue;
                }
                var v = OrtValue.CreateTensorValueFromMemory(new float[rows * width], [rows, width]);
                values.Add(v);
                binding.BindOutput(name, v);
            }
            for (int i = 0; i < 5; i++) session.RunWithBinding(run, binding);
            // Batches of about 0.2 s, so that the timer's resolution and scheduling jitter stay small.
            var probe = Stopwatch.StartNew();
            session.RunWithBinding(run, binding);
            int perBatch = Math.Max(3, (int)(0.2 / Math.Max(probe.Elapsed.TotalSeconds, 1e-6)));
            var times = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < perBatch; i++) session.RunWithBinding(run, binding);
                times[r] = clock.Elapsed.TotalSeconds / perBatch;
            }
            return (BenchStats.Median(times), times.Min());
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
}

/// <summary>Small statistics and process-memory helpers for the benchmark.</summary>
internal static class BenchStats
{
    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>A /proc/self/status field in bytes (VmHWM, VmRSS), or -1 off Linux.</summary>
    public static long ProcStatus(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return -1;
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var parts = line[(field.Length + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return -1;
    }

    /// <summary>Resets the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux ≥ 4.0: clear_refs 5).</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
