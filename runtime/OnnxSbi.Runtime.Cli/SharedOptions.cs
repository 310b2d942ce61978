using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Bundles;
using System.CommandLine;
using OnnxSbi.Contracts.Manifest;

namespace OnnxSbi.Runtime.Cli;

/// <summary>The execution options shared by the verbs that load a bundle: provider, threads, chunking, precision and the sampler's strategies.</summary>
internal sealed class RuntimeOptionSet
{
    private readonly bool sampling;

    /// <summary>Creates the set; <paramref name="sampling"/> adds --coupling-inverse and --solver-loop, which only a sampling pass uses.</summary>
    public RuntimeOptionSet(bool sampling) => this.sampling = sampling;

    public Option<Named<ExecutionProvider>> Provider { get; } = CliOption.Choice("--provider",
        "Execution provider (gpu is an alias of cuda). Without a usable GPU, cuda falls back to the CPU with a warning.",
        "cpu", "cpu|cuda", ("cpu", ExecutionProvider.Cpu), ("cuda", ExecutionProvider.Cuda), ("gpu", ExecutionProvider.Cuda));

    public Option<int> Threads { get; } = CliOption.Int("--threads", "Intra-op threads of ONNX Runtime; 0 lets ONNX Runtime choose.", 0, 0, 1024, "T");

    public Option<int> ChunkSize { get; } = CliOption.Int("--chunk-size", "Rows per network call; 0 picks one for the provider.", 0, 0, 1 << 24, "R");

    public Option<int> ParallelBlocks { get; } = CliOption.Int("--parallel-blocks",
        "Blocks of rows run concurrently, each on its own session; 0 picks one for the provider.", 0, 0, 1024, "P");

    public Option<Named<NetworkPrecision>> Precision { get; } = CliOption.Choice("--precision",
        "Network arithmetic: fp32 (alias float32), or int8 (dynamically quantized matrix products, CPU only).",
        "fp32", "fp32|int8", ("fp32", NetworkPrecision.Float32), ("float32", NetworkPrecision.Float32), ("int8", NetworkPrecision.Int8));

    public Option<Named<CouplingInverseMode>> CouplingInverse { get; } = CliOption.Choice("--coupling-inverse",
        "Coupling flows: invert the coupling transforms natively, or run the exported inverse graph.",
        "native", "native|graph", ("native", CouplingInverseMode.Native), ("graph", CouplingInverseMode.Graph));

    public Option<Named<SolverLoopMode>> SolverLoop { get; } = CliOption.Choice("--solver-loop",
        "Flow matching: step the ODE solver on the host, in a loop graph, or let the provider decide (auto).",
        "auto", "auto|host|graph", ("auto", SolverLoopMode.Auto), ("host", SolverLoopMode.Host), ("graph", SolverLoopMode.Graph));

    /// <summary>Adds the set's options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Provider);
        command.Options.Add(Threads);
        command.Options.Add(ChunkSize);
        command.Options.Add(ParallelBlocks);
        command.Options.Add(Precision);
        if (!sampling) return;
        command.Options.Add(CouplingInverse);
        command.Options.Add(SolverLoop);
    }

    /// <summary>The runtime options the command line asks for.</summary>
    public RuntimeOptions Read(ParseResult r) => new()
    {
        Provider = r.GetValue(Provider).Value,
        IntraOpThreads = r.GetValue(Threads),
        ChunkSize = r.GetValue(ChunkSize),
        ParallelBlocks = r.GetValue(ParallelBlocks),
        Precision = r.GetValue(Precision).Value,
        CouplingInverse = sampling ? r.GetValue(CouplingInverse).Value : CouplingInverseMode.Native,
        SolverLoop = sampling ? r.GetValue(SolverLoop).Value : SolverLoopMode.Auto,
    };
}

/// <summary>The sampler options shared by the sampling verbs: --seed, --method, --steps, --atol, --rtol.</summary>
internal sealed class SamplingOptionSet
{
    public Option<ulong> Seed { get; } = CliOption.ULong("--seed", "Random seed; the same seed and options give the same draws.", 1);

    public Option<string?> Method { get; } = CliOption.Text("--method",
        "ODE method of a flow-matching bundle: euler, rk4, dopri5 (alias rk45) or tsit5. Default: the bundle's.", "euler|rk4|dopri5|tsit5");

    public Option<int?> Steps { get; } = CliOption.OptionalInt("--steps",
        "Steps of a fixed-step ODE method, or of a consistency model's multistep sampler. Default: the bundle's.", 1, helpName: "K");

    public Option<double?> Atol { get; } = CliOption.OptionalDouble("--atol", "Absolute tolerance of an adaptive ODE method. Default: the bundle's.", "A");

    public Option<double?> Rtol { get; } = CliOption.OptionalDouble("--rtol", "Relative tolerance of an adaptive ODE method. Default: the bundle's.", "R");

    /// <summary>Adds the set's options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Seed);
        command.Options.Add(Method);
        command.Options.Add(Steps);
        command.Options.Add(Atol);
        command.Options.Add(Rtol);
    }

    /// <summary>The sampling options the command line asks for.</summary>
    public SamplingOptions Read(ParseResult r) => new()
    {
        Seed = r.GetValue(Seed),
        Method = ParseMethod(r.GetValue(Method)),
        Steps = r.GetValue(Steps),
        Atol = r.GetValue(Atol),
        Rtol = r.GetValue(Rtol),
    };

    /// <summary>The one place --method's text becomes the sampler's method; an unknown name is a usage error listing the valid ones.</summary>
    private static IntegratorKind? ParseMethod(string? method) => method is null ? null
        : IntegratorKinds.TryParse(method, out var kind) ? kind
        : throw new UsageException($"--method must be one of {IntegratorKinds.ValidNames}; got '{method}'.");
}

/// <summary>The observation a verb conditions on: repeated --condition NAME=V1,V2 or a --conditions-file.</summary>
internal sealed class ConditionOptionSet
{
    public Option<string[]> Condition { get; } = new("--condition")
    {
        Description = "One condition variable's values, NAME=V1,V2,…; repeat for each variable.",
        HelpName = "NAME=V1,V2",
    };

    public Option<FileInfo?> ConditionsFile { get; }

    /// <summary>Creates the set; <paramref name="fileDescription"/> says how the verb uses the rows of --conditions-file.</summary>
    public ConditionOptionSet(string fileDescription)
        => ConditionsFile = CliOption.ExistingFile("--conditions-file", fileDescription, "F.csv");

    /// <summary>Adds the set's options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Condition);
        command.Options.Add(ConditionsFile);
    }

    /// <summary>The conditions as a batch for <paramref name="model"/>; <paramref name="many"/> is true for a conditions file.</summary>
    public ArrayBatch Read(ParseResult r, PosteriorModel model, out bool many)
    {
        var specs = model.Description.ConditionVariables;
        string[] assignments = r.GetValue(Condition) ?? [];
        if (r.GetValue(ConditionsFile) is { } file)
        {
            if (assignments.Length > 0) throw new UsageException("Give either --condition or --conditions-file, not both.");
            many = true;
            return DataFiles.ReadCsv(file.ToString(), specs, "conditions");
        }
        many = false;
        if (assignments.Length == 0)
            throw new UsageException($"Give the observation with --condition, e.g. {string.Join(" ", specs.Select(s => $"--condition {s.Name}={string.Join(",", Enumerable.Repeat("0", Width(s)))}"))}, or a --conditions-file.");
        return DataFiles.FromAssignments(assignments, specs);
    }

    private static int Width(VariableDescription spec) => (int)spec.Shape.Aggregate(1L, (p, d) => p * d);
}
