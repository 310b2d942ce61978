using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text.Json;
using OnnxSbi.Contracts.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>torch</c>: the libtorch-eager peer of the <c>runtime</c> verb. It rebuilds a flow
/// matching bundle's residual MLP from the Gemm initializers of graphs/velocity.onnx (Linear weights,
/// mish through torch.nn.functional.mish), runs the same RK4 loop with 25 steps on 1 condition × N draws,
/// and prints the median of R timed runs as JSON.
/// </summary>
internal static class TorchCommand
{
    public static Command Create()
    {
        var model = BenchCli.Option<string>("--model", "A flow matching bundle (.onnxsbi) whose velocity graph is a residual MLP.");
        model.Required = true;
        var draws = BenchCli.IntOption("--draws", "Draws per timed run (one condition, all zeros).", 3000, 1, 10_000_000);
        var repeats = BenchCli.IntOption("--repeats", "Timed runs after one warm-up; the median is reported.", 7, 1, 1000);
        var steps = BenchCli.IntOption("--steps", "RK4 steps.", 25, 1, 10_000);
        var threads = BenchCli.IntOption("--threads", "libtorch intra-op threads.", 1, 1, 1024);
        var command = new Command("torch", "libtorch-eager (TorchSharp) peer of the runtime benchmark: the bundle's velocity network rebuilt from its Gemm weights, RK4 on 1 condition × N draws; prints the median of R runs as JSON.")
        {
            model, draws, repeats, steps, threads,
        };
        command.SetAction((p, ct) => Task.FromResult(Run(p.GetValue(model)!, p.GetValue(draws), p.GetValue(repeats), p.GetValue(steps), p.GetValue(threads), ct)));
        return command;
    }

    private static int Run(string path, int draws, int repeats, int steps, int threads, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new BundleFormatException(path, "the file does not exist.");
        torch.set_num_threads(threads);
        using var noGrad = torch.no_grad();

        byte[] graph;
        using (var zip = ZipFile.OpenRead(path))
        {
            var entry = zip.GetEntry("graphs/velocity.onnx") ?? throw new BundleFormatException(path, "no graphs/velocity.onnx; the torch peer runs flow matching bundles only.");
            using var stream = entry.Open();
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            graph = memory.ToArray();
        }
        var layers = Layers(graph);
        var blocks = layers.Take(layers.Count - 1).ToArray();
        var (wOut, bOut) = layers[^1];
        long d = wOut.shape[0];
        long c = blocks[0].W.shape[1] - d - 1;

        // Each evaluation frees its intermediates where they die, as eager PyTorch's reference counting does
        // and as the trainer's ResidualMlp.forward does. A dispose scope around the evaluation does not release
        // them all (split's views outlive it until the .NET finalizer runs, and the process grows with every
        // run), so nothing here is left to the scope.
        Tensor Velocity(Tensor theta, Tensor t, Tensor cond)
        {
            var h = torch.cat([theta, t, cond], 1);
            foreach (var (w, b) in blocks)
            {
                using var y = nn.functional.linear(h, w, b);
                var parts = y.split(w.shape[0] / 2, 1);
                using (var m = nn.functional.mish(parts[0]))
                {
                    h.Dispose();
                    h = parts[1] + m;
                }
                foreach (var part in parts) part.Dispose();
            }
            var v = nn.functional.linear(h, wOut, bOut);
            h.Dispose();
            return v;
        }

        var conditions = torch.zeros(draws, c);
        void Sample(long seed, out float[] mean)
        {
            using var scope = torch.NewDisposeScope();
            var generator = new torch.Generator((ulong)seed);
            var theta = torch.randn([draws, d], generator: generator);
            float h = 1f / steps;
            for (int k = 0; k < steps; k++)
            {
                ct.ThrowIfCancellationRequested();
                using var step = torch.NewDisposeScope();
                float t0 = k * h;
                var k1 = Velocity(theta, torch.full(draws, 1, t0), conditions);
                var k2 = Velocity(theta + 0.5f * h * k1, torch.full(draws, 1, t0 + 0.5f * h), conditions);
                var k3 = Velocity(theta + 0.5f * h * k2, torch.full(draws, 1, t0 + 0.5f * h), conditions);
                var k4 = Velocity(theta + h * k3, torch.full(draws, 1, t0 + h), conditions);
                theta = (theta + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)).MoveToOuterDisposeScope();
            }
            mean = theta.mean([0]).data<float>().ToArray();
        }

        Sample(0, out _);
        var times = new List<double>();
        var cpu = new List<double>();
        float[] drawMean = [];
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            Sample(r + 1, out drawMean);
            times.Add(clock.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["peer"] = "libtorch-eager (TorchSharp)",
            ["threads"] = threads,
            ["model"] = path,
            ["draws"] = draws,
            ["sampling"] = string.Create(CultureInfo.InvariantCulture, $"rk4, {steps} steps"),
            ["median_ms"] = BenchStats.Median(times),
            ["cpu_ms"] = BenchStats.Median(cpu),
            ["all_ms"] = times,
            ["peak_rss_mb"] = PeakRssMegabytes(process),
            ["draw_mean"] = drawMean,
        }));
        return ExitCodes.Success;
    }

    /// <summary>(weight [out, in], bias [out]) of every Gemm in graph order, as torch tensors.</summary>
    private static List<(Tensor W, Tensor B)> Layers(byte[] graph)
    {
        var model = ModelProto.Parser.ParseFrom(graph);
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var result = new List<(Tensor, Tensor)>();
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Gemm"))
        {
            var w = initializers[node.Input[1]];
            var b = initializers[node.Input[2]];
            bool transB = node.Attribute.Any(a => a.Name == "transB" && a.I != 0);
            var weight = torch.tensor(Floats(w), w.Dims.ToArray());
            result.Add((transB ? weight : weight.t().contiguous(), torch.tensor(Floats(b), b.Dims.ToArray())));
        }
        if (result.Count < 2) throw new OnnxSbiException("The velocity graph has fewer than two Gemm nodes; not a residual MLP flow matching graph.");
        return result;
    }

    /// <summary>The process's peak resident set (VmHWM), which stays flat over the repeats when nothing leaks.</summary>
    private static long PeakRssMegabytes(Process process)
    {
        process.Refresh();
        return process.PeakWorkingSet64 >> 20;
    }

    private static float[] Floats(TensorProto t) =>
        t.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
}
