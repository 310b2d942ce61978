using OnnxSbi.Runtime.Integrators;
using System.CommandLine;
using OnnxSbi.Tasks;

namespace OnnxSbi.Bench;

/// <summary>The verbs of <c>onnxsbi-bench</c> and the options several of them share.</summary>
internal static class BenchCli
{
    /// <summary>The root command with every verb.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("onnxsbi-bench — evaluation and benchmarks of OnnxSbi bundles: the two-moons tutorial, the sbibm benchmark, C2ST, SBC on a task, runtime and libtorch timings.")
        {
            TwoMoonsCommand.Create(),
            C2stCommand.Create(),
            DiagnoseCommand.Create(),
            RuntimeCommand.Create(),
            TorchCommand.Create(),
            FilesCommand.Create(),
            Sbibm.BenchmarkCommand.Create(),
        };
        return root;
    }

    /// <summary>An option with a description and, when <paramref name="defaultValue"/> is given, a default shown in the help.</summary>
    public static Option<T> Option<T>(string name, string description, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue();
        return option;
    }

    /// <summary>An integer option that must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> IntOption(string name, string description, int defaultValue, int min, int max)
        => Ranged(Option(name, description, () => defaultValue), min, max);

    /// <summary>Adds a range check to an integer option; the error names the option, the range and the value.</summary>
    public static Option<int> Ranged(Option<int> option, int min, int max)
    {
        option.Validators.Add(result =>
        {
            int v = result.GetValueOrDefault<int>();
            if (v < min || v > max) result.AddError($"{option.Name} must be an integer in [{min}, {max}]; got {v}.");
        });
        return option;
    }

    /// <summary>A --task option whose value must name a task of <see cref="TaskCatalog"/>.</summary>
    public static Option<string> TaskOption(string description)
    {
        var option = Option("--task", $"{description} One of: {string.Join(", ", TaskCatalog.Names)}.", () => TaskCatalog.Names[0]);
        option.AcceptOnlyFromAmong([.. TaskCatalog.Names]);
        option.HelpName = "NAME";
        return option;
    }
}

/// <summary>The runtime options of the sampling verbs: --provider, --threads, --chunk-size, --parallel-blocks, --precision, --coupling-inverse, --solver-loop.</summary>
internal sealed class RuntimeOptionSet
{
    public Option<string> Provider { get; } = Choice("--provider", "Execution provider.", "cpu", "cpu", "cuda");
    public Option<int> Threads { get; } = BenchCli.IntOption("--threads", "ONNX Runtime intra-op threads per session; 0 = the runtime's measured default.", 0, 0, 1024);
    public Option<int> ChunkSize { get; } = BenchCli.IntOption("--chunk-size", "Rows per network call; 0 = the runtime's default.", 0, 0, 1 << 24);
    public Option<int> ParallelBlocks { get; } = BenchCli.IntOption("--parallel-blocks", "Blocks of rows sampled at once; 0 = the runtime's default.", 0, 0, 1024);
    public Option<string> Precision { get; } = Choice("--precision", "Network precision.", "fp32", "fp32", "int8");
    public Option<string> CouplingInverse { get; } = Choice("--coupling-inverse", "Coupling flows' sampling pass: the runtime's native inverse or the exported inverse graph.", "native", "native", "graph");
    public Option<string> SolverLoop { get; } = Choice("--solver-loop", "Where the solver's step loop runs: one loop graph per block, host-stepped, or the runtime's choice.", "auto", "auto", "host", "graph");

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Provider, Threads, ChunkSize, ParallelBlocks, Precision, CouplingInverse, SolverLoop }) command.Options.Add(option);
    }

    /// <summary>The runtime options the command line asks for.</summary>
    public RuntimeOptions Read(ParseResult p) => new()
    {
        Provider = p.GetValue(Provider) == "cuda" ? ExecutionProvider.Cuda : ExecutionProvider.Cpu,
        IntraOpThreads = p.GetValue(Threads),
        ChunkSize = p.GetValue(ChunkSize),
        ParallelBlocks = p.GetValue(ParallelBlocks),
        Precision = p.GetValue(Precision) == "int8" ? NetworkPrecision.Int8 : NetworkPrecision.Float32,
        CouplingInverse = p.GetValue(CouplingInverse) == "graph" ? CouplingInverseMode.Graph : CouplingInverseMode.Native,
        SolverLoop = p.GetValue(SolverLoop) switch { "host" => SolverLoopMode.Host, "graph" => SolverLoopMode.Graph, _ => SolverLoopMode.Auto },
    };

    private static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = BenchCli.Option(name, description, () => defaultValue);
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}

/// <summary>The sampler options of the sampling verbs: --seed, --method, --steps, --atol, --rtol.</summary>
internal sealed class SamplingOptionSet
{
    public Option<ulong> Seed { get; } = BenchCli.Option<ulong>("--seed", "Random seed.", () => 1);
    public Option<string?> Method { get; } = BenchCli.Option<string?>("--method", "ODE method for flow matching (euler, rk4, dopri5, tsit5); default: the bundle's.");
    public Option<int?> Steps { get; } = BenchCli.Option<int?>("--steps", "Solver or consistency steps; default: the bundle's.");
    public Option<double?> Atol { get; } = BenchCli.Option<double?>("--atol", "Absolute tolerance of adaptive methods; default: the bundle's.");
    public Option<double?> Rtol { get; } = BenchCli.Option<double?>("--rtol", "Relative tolerance of adaptive methods; default: the bundle's.");

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Seed, Method, Steps, Atol, Rtol }) command.Options.Add(option);
    }

    /// <summary>The sampling options the command line asks for.</summary>
    public SamplingOptions Read(ParseResult p) => new()
    {
        Seed = p.GetValue(Seed),
        Method = p.GetValue(Method) is not { } method ? null
            : IntegratorKinds.TryParse(method, out var kind) ? kind
            : throw new UsageException($"--method must be one of {IntegratorKinds.ValidNames}; got '{method}'."),
        Steps = p.GetValue(Steps),
        Atol = p.GetValue(Atol),
        Rtol = p.GetValue(Rtol),
    };
}

/// <summary>Loading bundles for a verb.</summary>
internal static class Bundles
{
    /// <summary>Loads a bundle, telling the user when a CUDA request fell back to the CPU.</summary>
    public static PosteriorModel Load(string path, RuntimeOptions options)
    {
        var model = PosteriorModel.Load(path, options);
        if (ProviderFallback.Warning(options, model.Provider) is string warning) Console.Error.WriteLine($"warning: {warning}");
        return model;
    }
}
