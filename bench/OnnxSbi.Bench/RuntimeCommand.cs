using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Integrators;

namespace OnnxSbi.Bench;

/// <summary>
/// <c>runtime</c>: latency, throughput, network FLOP rate against a Gemm-only ceiling, and peak memory, per bundle;
/// optionally a sweep of chunk size × threads × spinning (CPU) or chunk size × solver loop × parallel blocks (CUDA).
/// A benchmark never falls back to the CPU: CUDA numbers measured on the CPU would be wrong.
/// </summary>
internal static class RuntimeCommand
{
    public static Command Create()
    {
        var models = BenchCli.Option<string[]>("--model", "A bundle to time (.onnxsbi); repeat for several.");
        models.Required = true;
        models.AllowMultipleArgumentsPerToken = false;
        var repeats = BenchCli.IntOption("--repeats", "Timed runs per measurement; the median is reported.", 7, 1, 1000);
        var large = BenchCli.IntOption("--large-conditions", "Conditions of the throughput run (M × 1,000 draws in one call).", 1000, 1, 1_000_000);
        var memoryDraws = BenchCli.IntOption("--memory-draws", "Draws of the peak-memory run.", 1_000_000, 1, 50_000_000);
        var noMemory = BenchCli.Option<bool>("--no-memory", "Skip the peak-memory run.");
        var sweep = BenchCli.Option<bool>("--sweep", "Also time 1×3000 draws over chunk sizes × threads 1, 2 × spinning on, off (CPU) or chunk sizes × solver loop × parallel blocks 1, 2 plus M×1000 throughput (CUDA).");
        var sweepChunks = BenchCli.Option<string?>("--sweep-chunks", "Comma-separated chunk sizes of the sweep; default 128,256,512,1024,3000 on the CPU, 512,4096,16384,65536 on CUDA.");
        sweepChunks.Validators.Add(r =>
        {
            string? v = r.GetValueOrDefault<string?>();
            if (v is not null && ParseChunks(v) is null) r.AddError($"--sweep-chunks must list positive integers, e.g. 128,512; got '{v}'.");
        });
        var sweepSteps = BenchCli.IntOption("--sweep-steps", "RK4 steps of flow matching in the sweep.", 25, 1, 10_000);
        var sweepConditions = BenchCli.IntOption("--sweep-conditions", "Conditions of the CUDA sweep's throughput run.", 100, 1, 1_000_000);
        var output = BenchCli.Option<string?>("--out", "Write the results as JSON to this file.");
        var runtime = new RuntimeOptionSet();
        var command = new Command("runtime", "Latency (median of R) for 1×1000 and 1×3000 draws, throughput for M×1000, network GFLOP/s against a Gemm-only ceiling, and peak memory for N draws, per bundle.")
        {
            models, repeats, large, memoryDraws, noMemory, sweep, sweepChunks, sweepSteps, sweepConditions, output,
        };
        runtime.AddTo(command);
        command.SetAction((p, ct) => Task.FromResult(Run(p.GetValue(models)!, p.GetValue(repeats), p.GetValue(large), p.GetValue(memoryDraws), !p.GetValue(noMemory),
            p.GetValue(sweep), p.GetValue(sweepChunks), p.GetValue(sweepSteps), p.GetValue(sweepConditions), p.GetValue(output),
            runtime.Read(p) with { FallbackToCpu = false }, ct)));
        return command;
    }

    private static int[]? ParseChunks(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var chunks = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out chunks[i]) || chunks[i] <= 0) return null;
        return chunks.Length > 0 ? chunks : null;
    }

    private static int Run(string[] models, int repeats, int large, int memoryDraws, bool memory, bool sweep, string? sweepChunks, int sweepSteps,
        int sweepConditions, string? output, RuntimeOptions runtime, CancellationToken ct)
    {
        var root = new JsonObject
        {
            ["machine"] = Machine(),
            ["repeats"] = repeats,
        };
        var results = new JsonArray();
        foreach (string path in models)
        {
            var r = BenchModel(path, runtime, repeats, large, memoryDraws, memory, ct);
            results.Add(r);
            Console.Error.WriteLine($"{Path.GetFileName(path)}: done");
        }
        root["models"] = results;
        Console.WriteLine(Table(results));
        if (sweep)
        {
            bool cuda = runtime.Provider == ExecutionProvider.Cuda;
            int[] chunks = ParseChunks(sweepChunks ?? (cuda ? "512,4096,16384,65536" : "128,256,512,1024,3000"))!;
            var timings = new JsonArray();
            root["sweep_fm_rk4_steps"] = sweepSteps;
            foreach (string path in models)
            {
                if (cuda) Sweep(path, CudaSweepConfigs(runtime, chunks, BundleReader.Read(path).Manifest.Family), repeats, sweepSteps, sweepConditions, timings, ct);
                else Sweep(path, CpuSweepConfigs(chunks), repeats, sweepSteps, 0, timings, ct);
            }
            root["sweep"] = timings;
        }
        if (output is not null)
        {
            File.WriteAllText(output, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.Error.WriteLine($"→ {output}");
        }
        return ExitCodes.Success;
    }

    /// <summary>The fixed comparison settings: RK4 with 25 steps, 10 consistency steps, one coupling pass.</summary>
    private static SamplingOptions BenchSampling(NetworkFamily family, ulong seed, int fmSteps = 25) => family switch
    {
        NetworkFamily.FlowMatching => new SamplingOptions { Seed = seed, Method = IntegratorKind.Rk4, Steps = fmSteps },
        NetworkFamily.ConsistencyModel => new SamplingOptions { Seed = seed, Steps = 10 },
        _ => new SamplingOptions { Seed = seed },
    };

    private static ArrayBatch ZeroConditions(PosteriorModel model, int rows)
    {
        var batch = new ArrayBatch(rows);
        foreach (var spec in model.Description.ConditionVariables)
        {
            int width = (int)spec.Shape.Aggregate(1L, (p, d) => p * d);
            batch.Set(spec.Name, new double[rows * width], spec.Shape.Select(d => (int)d).ToArray());
        }
        return batch;
    }

    /// <summary>Median milliseconds of one Sample call after one warm-up call; also the network rows per call.</summary>
    /// <remarks>
    /// CPU time (user + system of the whole process) is returned too: on a shared, overloaded machine
    /// it tracks the work done better than wall time, though spinning worker threads inflate it.
    /// </remarks>
    private static (double Ms, long Rows, List<double> All, double CpuMs) Time(PosteriorModel model, int conditions, int draws, int repeats, CancellationToken ct, int fmSteps = 25, bool warmUp = true)
    {
        var x = ZeroConditions(model, conditions);
        if (warmUp) model.Sample(x, draws, BenchSampling(model.Description.Family, 1, fmSteps), ct);
        var times = new List<double>();
        var cpu = new List<double>();
        long rows = 0;
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            long before = model.NetworkRowsEvaluated;
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            model.Sample(x, draws, BenchSampling(model.Description.Family, (ulong)r + 2, fmSteps), ct);
            times.Add(clock.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
            rows = model.NetworkRowsEvaluated - before;
        }
        return (BenchStats.Median(times), rows, times, BenchStats.Median(cpu));
    }

    private static JsonObject BenchModel(string path, RuntimeOptions runtime, int repeats, int large, int memoryDraws, bool memory, CancellationToken ct)
    {
        using var model = PosteriorModel.Load(path, runtime);
        var contents = BundleReader.Read(path);
        // The native coupling inverse runs only the subnets as matrix products (the spline's cumulative-sum
        // MatMuls of the whole graph become additions), so its FLOPs and ceiling are the subnets'. The shapes
        // are those of the graph the sessions run: residual blocks as two w-wide Gemms, no Split (the same FLOPs
        // as the exported 2w-wide Gemm, and a ceiling without the Split's copy).
        var products = model.Plan.Strategy == ExecutionStrategy.NativeCouplingInverse
            ? GraphCompiler.CouplingSubnets(contents).SelectMany(s => BenchGraphs.Products(GraphCompiler.Prepare(s, [], NetworkPrecision.Float32))).ToList()
            : BenchGraphs.Products(GraphCompiler.Prepare(contents, model.Plan.SamplingRole, new RuntimeOptions()));
        long flopsPerRow = products.Sum(p => p.FlopsPerRow);
        var lat1k = Time(model, 1, 1000, repeats, ct);
        var lat3k = Time(model, 1, 3000, repeats, ct);
        double evaluationsPerDraw = lat3k.Rows / 3000.0;
        double gflops = lat3k.Rows * (double)flopsPerRow / (lat3k.Ms / 1000) / 1e9;
        int ceilingRows = Math.Min(model.ChunkSize, 3000);
        // Parallel blocks: P single-threaded blocks at once can at best reach P times one block's ceiling.
        var ceilingSeconds = BenchGraphs.CeilingSecondsPerRun(products, ceilingRows, repeats, model, runtime.DeviceId);
        ceilingSeconds = (ceilingSeconds.Median / model.Plan.ParallelBlocks, ceilingSeconds.Best / model.Plan.ParallelBlocks);
        double ceilingGflops = ceilingRows * (double)flopsPerRow / ceilingSeconds.Median / 1e9;
        // Best-of-R rates too: on a shared machine other jobs only ever slow a run down, so the fastest
        // run of each is the better estimate of what the code can do, and best/best the fairer ratio.
        double bestGflops = lat3k.Rows * (double)flopsPerRow / (lat3k.All.Min() / 1000) / 1e9;
        double ceilingBestGflops = ceilingRows * (double)flopsPerRow / ceilingSeconds.Best / 1e9;

        // Throughput: `large` conditions × 1,000 draws in one call, run once; the latency runs were its warm-up.
        var big = Time(model, large, 1000, 1, ct, warmUp: false);
        var result = new JsonObject
        {
            ["model"] = path,
            ["family"] = model.Description.Family.ToString(),
            ["sampling"] = model.Description.Family switch
            {
                NetworkFamily.FlowMatching => model.Plan.Strategy == ExecutionStrategy.SolverLoopGraph ? "rk4, 25 steps, one loop graph per block" : "rk4, 25 steps",
                NetworkFamily.ConsistencyModel => model.Plan.Strategy == ExecutionStrategy.SolverLoopGraph ? "10 consistency steps, one loop graph per block" : "10 consistency steps",
                _ => model.Plan.Strategy == ExecutionStrategy.NativeCouplingInverse ? "native inverse pass" : "inverse graph pass",
            },
            ["provider"] = model.Provider == ExecutionProvider.Cuda ? "cuda" : "cpu",
            ["precision"] = model.Precision == NetworkPrecision.Int8 ? "int8" : "fp32",
            ["chunk_size"] = model.ChunkSize,
            ["parallel_blocks"] = model.Plan.ParallelBlocks,
            ["intra_op_threads"] = model.Plan.IntraOpThreads,
            ["allow_spinning"] = model.Plan.AllowSpinning,
            ["gemm_shapes"] = new JsonArray(products.Select(p => (JsonNode)$"{p.K}x{p.N}").ToArray()),
            ["flops_per_row"] = flopsPerRow,
            ["evaluations_per_draw"] = evaluationsPerDraw,
            ["latency_1x1000_ms"] = lat1k.Ms,
            ["latency_1x3000_ms"] = lat3k.Ms,
            ["cpu_1x3000_ms"] = lat3k.CpuMs,
            ["latency_1x3000_all_ms"] = new JsonArray(lat3k.All.Select(t => (JsonNode)t).ToArray()),
            ["draws_per_second"] = 3000 / (lat3k.Ms / 1000),
            ["throughput_conditions"] = large,
            ["throughput_draws_per_condition"] = 1000,
            ["throughput_seconds"] = big.Ms / 1000,
            ["throughput_draws_per_second"] = large * 1000.0 / (big.Ms / 1000),
            ["network_gflops"] = gflops,
            ["ceiling_rows"] = ceilingRows,
            ["ceiling_gflops"] = ceilingGflops,
            ["percent_of_ceiling"] = 100 * gflops / ceilingGflops,
            ["network_gflops_best"] = bestGflops,
            ["ceiling_gflops_best"] = ceilingBestGflops,
            ["percent_of_ceiling_best"] = 100 * bestGflops / ceilingBestGflops,
        };
        if (memory) Memory(model, memoryDraws, result, ct);
        return result;
    }

    /// <summary>
    /// Peak working set of one call returning <paramref name="draws"/> draws (1 condition). The step count
    /// is set to its minimum because memory does not depend on it: blocks reuse their buffers, and what
    /// grows with the request is the returned draws (float network draws, then double user draws).
    /// </summary>
    private static void Memory(PosteriorModel model, int draws, JsonObject result, CancellationToken ct)
    {
        var x = ZeroConditions(model, 1);
        var cheap = model.Description.Family switch
        {
            NetworkFamily.FlowMatching => new SamplingOptions { Method = IntegratorKind.Euler, Steps = 1 },
            NetworkFamily.ConsistencyModel => new SamplingOptions { Steps = 1 },
            _ => new SamplingOptions(),
        };
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = BenchStats.ProcStatus("VmRSS");
        bool reset = BenchStats.ResetPeak();
        long managedPeakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        var clock = Stopwatch.StartNew();
        var d = model.Sample(x, draws, cheap, ct);
        double seconds = clock.Elapsed.TotalSeconds;
        long peak = reset ? BenchStats.ProcStatus("VmHWM") : Process.GetCurrentProcess().PeakWorkingSet64;
        GC.KeepAlive(d);
        result["memory_draws"] = draws;
        result["memory_sampling"] = cheap.Method is null && cheap.Steps is null ? "default" : $"{(cheap.Method is { } m ? IntegratorKinds.ToName(m) : "consistency")} {cheap.Steps} step(s)";
        result["memory_rss_before_mb"] = before / 1048576.0;
        result["memory_peak_mb"] = peak / 1048576.0;
        // On CUDA this is the host process only: the device's own allocations are not in the working set.
        result["memory_scope"] = model.Provider == ExecutionProvider.Cuda ? "host process (device memory not included)" : "process";
        result["memory_peak_is_process_lifetime"] = !reset;
        result["memory_growth_mb"] = (peak - before) / 1048576.0;
        result["memory_returned_draws_mb"] = (double)draws * model.Description.InferenceDim * (sizeof(float) + sizeof(double)) / 1048576.0;
        result["memory_call_seconds"] = seconds;
        GC.KeepAlive(managedPeakBefore);
    }

    /// <summary>One configuration of a sweep: its runtime options, its JSON labels and its console label.</summary>
    internal readonly record struct SweepConfig(RuntimeOptions Options, JsonObject Labels, string Text);

    /// <summary>
    /// The CPU sweep: chunk size × threads (1, 2) × spinning (on, off). Flow matching may use fewer RK4 steps than
    /// 25 in a sweep: chunking and threading change the cost per evaluation, not the number of evaluations, so the
    /// ranking holds and the sweep fits a busy machine.
    /// </summary>
    private static IEnumerable<SweepConfig> CpuSweepConfigs(int[] chunks) =>
        from threads in new[] { 1, 2 }
        from spinning in new[] { true, false }
        from chunk in chunks
        select new SweepConfig(new RuntimeOptions { ChunkSize = chunk, IntraOpThreads = threads, AllowSpinning = spinning },
            new JsonObject { ["chunk_size"] = chunk, ["intra_op_threads"] = threads, ["allow_spinning"] = spinning },
            string.Create(CultureInfo.InvariantCulture, $"chunk {chunk,5}  threads {threads}  spinning {(spinning ? "on " : "off")}"));

    /// <summary>
    /// The CUDA sweep: chunk size × solver loop (one loop graph per block, or host-stepped; coupling flows have no
    /// loop) × parallel blocks (1, 2). Threads and spinning are left out: on CUDA they only move the host's share,
    /// a few kernels' launch.
    /// </summary>
    internal static IEnumerable<SweepConfig> CudaSweepConfigs(RuntimeOptions runtime, int[] chunks, NetworkFamily family) =>
        from chunk in chunks
        from loop in family == NetworkFamily.CouplingFlow ? [SolverLoopMode.Host] : new[] { SolverLoopMode.Graph, SolverLoopMode.Host }
        from blocks in new[] { 1, 2 }
        let name = loop == SolverLoopMode.Graph ? "graph" : "host"
        select new SweepConfig(runtime with { ChunkSize = chunk, ParallelBlocks = blocks, IntraOpThreads = 1, SolverLoop = loop },
            new JsonObject { ["provider"] = "cuda", ["chunk_size"] = chunk, ["solver_loop"] = name, ["parallel_blocks"] = blocks },
            string.Create(CultureInfo.InvariantCulture, $"cuda chunk {chunk,6}  loop {name,-5}  blocks {blocks}"));

    /// <summary>
    /// Times 1×3000 draws for every configuration: all are loaded first and timed round-robin, one run each per
    /// round, so that load from other jobs drifting during the sweep hits every configuration alike (median of
    /// R, and the process's CPU time). With <paramref name="conditions"/> &gt; 0, each also samples that many
    /// conditions × 1,000 draws once, where the block size decides the throughput.
    /// </summary>
    private static void Sweep(string path, IEnumerable<SweepConfig> configs, int repeats, int fmSteps, int conditions, JsonArray sweep, CancellationToken ct)
    {
        var runs = new List<(SweepConfig Config, PosteriorModel Model, List<double> Wall, List<double> Cpu)>();
        try
        {
            foreach (var config in configs) runs.Add((config, PosteriorModel.Load(path, config.Options), [], []));
            var x = ZeroConditions(runs[0].Model, 1);
            foreach (var run in runs) run.Model.Sample(x, 3000, BenchSampling(run.Model.Description.Family, 1, fmSteps), ct);
            using var process = Process.GetCurrentProcess();
            for (int r = 0; r < repeats; r++)
                foreach (var run in runs)
                {
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    run.Model.Sample(x, 3000, BenchSampling(run.Model.Description.Family, (ulong)r + 2, fmSteps), ct);
                    run.Wall.Add(clock.Elapsed.TotalMilliseconds);
                    process.Refresh();
                    run.Cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
                }
            var many = conditions > 0 ? ZeroConditions(runs[0].Model, conditions) : null;
            foreach (var run in runs)
            {
                double wall = BenchStats.Median(run.Wall), cpu = BenchStats.Median(run.Cpu);
                var result = new JsonObject { ["model"] = path };
                foreach (var (key, value) in run.Config.Labels) result[key] = value?.DeepClone();
                result["latency_1x3000_ms"] = wall;
                result["cpu_1x3000_ms"] = cpu;
                result["latency_1x3000_all_ms"] = new JsonArray(run.Wall.Select(v => (JsonNode)v).ToArray());
                string line = string.Create(CultureInfo.InvariantCulture, $"sweep {Path.GetFileName(path),-28} {run.Config.Text}  1×3000: {wall,9:F2} ms (cpu {cpu:F0} ms)");
                if (many is not null)
                {
                    var clock = Stopwatch.StartNew();
                    run.Model.Sample(many, 1000, BenchSampling(run.Model.Description.Family, 7, fmSteps), ct);
                    double rate = conditions * 1000.0 / clock.Elapsed.TotalSeconds;
                    result["throughput_conditions"] = conditions;
                    result["throughput_draws_per_second"] = rate;
                    line += string.Create(CultureInfo.InvariantCulture, $"  {conditions}×1000: {rate,12:F0} draws/s");
                }
                sweep.Add(result);
                Console.WriteLine(line);
            }
        }
        finally
        {
            foreach (var run in runs) run.Model.Dispose();
        }
    }

    private static JsonObject Machine()
    {
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        return new JsonObject
        {
            ["processors"] = Environment.ProcessorCount,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["cpu"] = BenchMachine.Cpu(),
            ["loadavg_at_start"] = load,
            ["utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
    }

    private static string Table(JsonArray results)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(string.Create(inv, $"{"model",-30} {"sampling",-22} {"1×1000 ms",10} {"1×3000 ms",10} {"draws/s",11} {"large: conds",12} {"draws/s",11} {"GFLOP/s",8} {"ceiling",8} {"%",6} {"% best",6} {"peak MB",8}"));
        foreach (var n in results)
        {
            var r = n!.AsObject();
            double peak = r.TryGetPropertyValue("memory_peak_mb", out var p) && p is not null ? (double)p : double.NaN;
            sb.AppendLine(string.Create(inv,
                $"{Path.GetFileName((string)r["model"]!),-30} {(string)r["sampling"]!,-22} {(double)r["latency_1x1000_ms"]!,10:F2} {(double)r["latency_1x3000_ms"]!,10:F2} {(double)r["draws_per_second"]!,11:F0} {(int)r["throughput_conditions"]!,12} {(double)r["throughput_draws_per_second"]!,11:F0} {(double)r["network_gflops"]!,8:F1} {(double)r["ceiling_gflops"]!,8:F1} {(double)r["percent_of_ceiling"]!,6:F1} {(double)r["percent_of_ceiling_best"]!,6:F1} {peak,8:F0}"));
        }
        return sb.ToString().TrimEnd();
    }
}
