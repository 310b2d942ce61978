using System.Diagnostics;
using System.Globalization;
using System.Text;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Sampling;

namespace OnnxSbi.Runtime.Cli;

/// <summary>The verbs of the <c>onnxsbi</c> command.</summary>
internal static partial class Commands
{
    public const string Usage = """
        onnxsbi — posterior sampling from OnnxSbi bundles (ONNX Runtime, no Python, no TorchSharp)

        Verbs:
          sample    --model PATH (--condition NAME=V1,V2 … | --conditions-file F.csv) --num-samples N
                    [--seed S] [--method euler|rk4|dopri5|tsit5] [--steps K] [--atol A] [--rtol R]
                    [--provider cpu|cuda] [--threads T] [--chunk-size R] [--parallel-blocks P] [--precision fp32|int8] [--coupling-inverse native|graph] [--solver-loop auto|host|graph] --out draws.csv|draws.npy
          log-prob  --model PATH (--condition NAME=V1,V2 … | --conditions-file F.csv) --theta-file F.csv
                    [--provider cpu|cuda] [--threads T] [--chunk-size R] [--parallel-blocks P] [--precision fp32|int8]
                    --out logprob.csv
          inspect   PATH
          diagnose  --model PATH (--task two_moons | --test-set F.csv) [--datasets N] [--draws S] [--seed S]
                    [--observation I] [--confidence 0.95] [--method M] [--steps K] [--atol A] [--rtol R]
                    [--provider cpu|cuda] [--threads T] [--chunk-size R] [--parallel-blocks P] [--precision fp32|int8] [--coupling-inverse native|graph] [--solver-loop auto|host|graph] --out-dir DIR
                    SBC ranks with a simultaneous ECDF band, calibration error, coverage, contraction,
                    z-scores, NRMSE, R²; writes diagnostics.json, diagnostics.csv and PNG figures.
                    A test set has columns like theta[0],theta[1],x[0],x[1] (all rows, or the first N).
          c2st      --model PATH [--task two_moons] [--draws N] [--seed S] [--observations K] [--method M] [--steps K]
                    [--atol A] [--rtol R] [--provider cpu|cuda] [--threads T] [--chunk-size R] [--parallel-blocks P] [--precision fp32|int8] [--coupling-inverse native|graph] [--solver-loop auto|host|graph]
                    [--out scores.csv]
                    C2ST against the exact two-moons posterior at x=(0,0) and the first K of the 10 fixed test
                    observations (N model vs N exact draws each), as the two-moons tutorial scores.
          bench     --model PATH [--model PATH …] [--repeats R] [--provider cpu|cuda] [--threads T] [--chunk-size R] [--parallel-blocks P] [--precision fp32|int8] [--coupling-inverse native|graph] [--solver-loop auto|host|graph]
                    [--large-conditions M] [--memory-draws N] [--no-memory] [--sweep [--sweep-chunks 128,512] [--sweep-steps K] [--sweep-conditions M]]
                    [--out results.json]
                    Latency (median of R) for 1×1000 and 1×3000 draws, throughput for M×1000, network
                    GFLOP/s against a Gemm-only ceiling, peak memory for N draws; --sweep times 1×3000
                    over chunk sizes × threads 1, 2 × spinning on, off (on CUDA: chunk sizes × solver
                    loop graph, host × parallel blocks 1, 2, plus M×1000 throughput). Never falls back to the CPU.
        Run 'onnxsbi VERB --help' for details. README.md documents every flag with an example.
        """;

    private static readonly string[] RuntimeFlags = ["provider", "threads", "chunk-size", "parallel-blocks", "precision", "coupling-inverse", "solver-loop"];

    public static int Run(string verb, string[] args, CancellationToken ct)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        return verb switch
        {
            "sample" => Sample(args, ct),
            "log-prob" => LogProb(args),
            "inspect" => Inspect(args),
            "diagnose" => Diagnose(args, ct),
            "c2st" => C2stVerb(args, ct),
            "bench" => Bench(args, ct),
            _ => throw new UsageException($"Unknown verb '{verb}'. Valid verbs: sample, log-prob, inspect, diagnose, c2st, bench."),
        };
    }


    private static RuntimeOptions ParseRuntime(CliArgs a)
    {
        string provider = a.Get("provider") ?? "cpu";
        return new RuntimeOptions
        {
            Provider = provider.ToLowerInvariant() switch
            {
                "cpu" => ExecutionProvider.Cpu,
                "cuda" or "gpu" => ExecutionProvider.Cuda,
                _ => throw new UsageException($"--provider must be 'cpu' or 'cuda'; got '{provider}'."),
            },
            IntraOpThreads = a.Int("threads", 0, 1024) ?? 0,
            ChunkSize = a.Int("chunk-size", 0, 1 << 24) ?? 0,
            ParallelBlocks = a.Int("parallel-blocks", 0, 1024) ?? 0,
            Precision = ParsePrecision(a.Get("precision")),
            CouplingInverse = ParseCouplingInverse(a.Get("coupling-inverse")),
            SolverLoop = ParseSolverLoop(a.Get("solver-loop")),
        };
    }

    private static SolverLoopMode ParseSolverLoop(string? value)
    {
        return (value ?? "auto").ToLowerInvariant() switch
        {
            "auto" => SolverLoopMode.Auto,
            "host" => SolverLoopMode.Host,
            "graph" => SolverLoopMode.Graph,
            _ => throw new UsageException($"--solver-loop must be 'auto', 'host' or 'graph'; got '{value}'."),
        };
    }

    private static CouplingInverseMode ParseCouplingInverse(string? value)
    {
        return (value ?? "native").ToLowerInvariant() switch
        {
            "native" => CouplingInverseMode.Native,
            "graph" => CouplingInverseMode.Graph,
            _ => throw new UsageException($"--coupling-inverse must be 'native' or 'graph'; got '{value}'."),
        };
    }

    /// <summary>The sampler flags shared by the sampling verbs: --seed, --method, --steps, --atol, --rtol.</summary>
    private static SamplingOptions ParseSampling(CliArgs a) => new()
    {
        Seed = a.ULong("seed") ?? 1,
        Method = a.Get("method") is { } method ? IntegratorKinds.Parse(method) : null,
        Steps = a.Int("steps"),
        Atol = a.Double("atol"),
        Rtol = a.Double("rtol"),
    };

    private static NetworkPrecision ParsePrecision(string? value)
    {
        return (value ?? "fp32").ToLowerInvariant() switch
        {
            "fp32" or "float32" => NetworkPrecision.Float32,
            "int8" => NetworkPrecision.Int8,
            _ => throw new UsageException($"--precision must be 'fp32' or 'int8'; got '{value}'."),
        };
    }

    private static ArrayBatch ParseConditions(CliArgs a, PosteriorModel model, out bool many)
    {
        var specs = model.Manifest.ConditionVariables;
        if (a.Has("conditions-file"))
        {
            if (a.Has("condition")) throw new UsageException("Give either --condition or --conditions-file, not both.");
            many = true;
            return DataFiles.ReadCsv(a.Require("conditions-file"), specs, "conditions");
        }
        many = false;
        var assignments = a.GetAll("condition");
        if (assignments.Count == 0)
            throw new UsageException($"Give the observation with --condition, e.g. {string.Join(" ", specs.Select(s => $"--condition {s.Name}={string.Join(",", Enumerable.Repeat("0", (int)s.Shape.Aggregate(1L, (p, d) => p * d)))}"))}, or a --conditions-file.");
        return DataFiles.FromAssignments(assignments, specs);
    }

    /// <summary>Loads a bundle for a verb, telling the user when a CUDA request fell back to the CPU.</summary>
    private static PosteriorModel Load(string path, RuntimeOptions options)
    {
        var model = PosteriorModel.Load(path, options);
        if (FallbackWarning(options, model.Provider) is string warning) Console.Error.WriteLine($"warning: {warning}");
        return model;
    }

    /// <summary>The warning for a provider other than the one asked for, or null.</summary>
    internal static string? FallbackWarning(RuntimeOptions requested, ExecutionProvider actual) =>
        requested.Provider == ExecutionProvider.Cuda && actual != ExecutionProvider.Cuda
            ? "the CUDA execution provider is not available here (no GPU, driver or CUDA libraries); running on the CPU."
            : null;

    private static int Sample(string[] args, CancellationToken ct)
    {
        var a = new CliArgs("sample", args,
            ["model", "condition", "conditions-file", "num-samples", "seed", "method", "steps", "atol", "rtol", "out", .. RuntimeFlags], []);
        string output = a.Require("out");
        if (!output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) && !output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            throw new UsageException($"--out must end in .csv or .npy; got '{output}'.");
        int n = a.Int("num-samples", int.MinValue, int.MaxValue) ?? throw new UsageException("'sample': missing required option '--num-samples'.");
        var options = ParseSampling(a);
        using var model = Load(a.Require("model"), ParseRuntime(a));
        var conditions = ParseConditions(a, model, out bool many);
        var clock = Stopwatch.StartNew();
        var draws = model.Sample(conditions, n, options, ct);
        clock.Stop();
        foreach (string w in draws.Warnings) Console.Error.WriteLine($"warning: {w}");
        DataFiles.WriteDraws(output, draws, many);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{draws.NumConditions} condition(s) × {draws.NumDraws} draws in {clock.Elapsed.TotalMilliseconds:F1} ms ({model.Provider}) → {output}"));
        return 0;
    }

    private static int LogProb(string[] args)
    {
        var a = new CliArgs("log-prob", args, ["model", "condition", "conditions-file", "theta-file", "out", .. RuntimeFlags.Where(f => f is not ("coupling-inverse" or "solver-loop"))], []);
        string output = a.Require("out");
        // Densities use the forward graph only: no subnets are cut out for a sampling pass that never runs.
        using var model = Load(a.Require("model"), ParseRuntime(a) with { CouplingInverse = CouplingInverseMode.Graph });
        var conditions = ParseConditions(a, model, out _);
        var theta = DataFiles.ReadCsv(a.Require("theta-file"), model.Manifest.InferenceVariables, "theta");
        double[] lp = model.LogProb(theta, conditions);
        DataFiles.WriteAtomically(output, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.WriteLine("log_prob");
            foreach (double v in lp) w.WriteLine(v.ToString("R", CultureInfo.InvariantCulture));
        });
        Console.Error.WriteLine($"{lp.Length} log densities → {output}");
        return 0;
    }

    private static int Inspect(string[] args)
    {
        var a = new CliArgs("inspect", args, [], []);
        if (a.Positional.Count != 1) throw new UsageException("'inspect' takes one bundle path: onnxsbi inspect PATH.");
        using var model = PosteriorModel.Load(a.Positional[0]);
        Console.WriteLine(Describe(model));
        return 0;
    }

    internal static string Describe(PosteriorModel model)
    {
        var m = model.Manifest;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"bundle:      {model.SourcePath}");
        sb.AppendLine($"schema:      {m.SchemaVersion}, produced by {m.Producer?.Name} {m.Producer?.Version} at {m.Producer?.CreatedUtc}");
        sb.AppendLine($"description: {m.Description}");
        sb.AppendLine($"network:     {m.Family}");
        sb.AppendLine($"parameters:  {string.Join(", ", m.InferenceVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network D = {m.InferenceDim})");
        sb.AppendLine($"conditions:  {string.Join(", ", m.ConditionVariables.Select(v => $"{v.Name} [{string.Join(", ", v.Shape)}]"))}  (network C = {m.ConditionDim})");
        sb.AppendLine($"graphs:      {string.Join(", ", m.Graphs.Select(g => $"{g.Role} ({g.Path})"))}");
        switch (m.SamplerCase)
        {
            case BundleManifest.SamplerOneofCase.FlowMatching:
                var f = m.FlowMatching;
                sb.AppendLine(string.Create(inv, $"sampler:     ODE {f.DefaultMethod}, steps {f.DefaultSteps} (fixed-step methods), atol {f.Atol:G3}, rtol {f.Rtol:G3}, min steps {f.MinSteps}, max steps {f.MaxSteps}"));
                break;
            case BundleManifest.SamplerOneofCase.Consistency:
                var c = m.Consistency;
                sb.AppendLine(string.Create(inv, $"sampler:     multistep consistency, default steps {c.DefaultSteps}; T = {c.MaxTime:G4}, eps = {c.Eps:G4}, sigma2 = {c.Sigma2:G4}, s0 = {c.S0}, s1 = {c.S1}, rho = {c.Rho}, total steps {c.TotalSteps}"));
                sb.AppendLine($"             discretizations seen in training: {string.Join(", ", c.TrainedDiscretizations)}");
                break;
            case BundleManifest.SamplerOneofCase.CouplingFlow:
                sb.AppendLine($"sampler:     one pass of the inverse flow ({m.CouplingFlow.Transform}, depth {m.CouplingFlow.Depth}); exact log density available");
                break;
        }
        if (m.Training is { } t)
        {
            sb.AppendLine(string.Create(inv, $"training:    {t.Mode}, {t.Epochs} epochs, {t.OptimizerSteps} steps, {t.NumSimulations} simulations/epoch, {t.Seconds:F1} s"));
            if (t.Loss.Count > 0) sb.AppendLine(string.Create(inv, $"losses:      final loss {t.Loss[^1]:G5}, final validation loss {(t.ValLoss.Count > 0 ? t.ValLoss[^1] : double.NaN):G5}"));
        }
        if (m.Metrics.Count > 0)
        {
            sb.AppendLine("metrics:");
            foreach (var (k, v) in m.Metrics.OrderBy(p => p.Key, StringComparer.Ordinal)) sb.AppendLine(string.Create(inv, $"  {k,-28} {v:G5}"));
        }
        return sb.ToString().TrimEnd();
    }
}
