using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Samplers;

namespace OnnxSbi.Runtime.Compilation;

/// <summary>
/// One load's compilation state: the bundle read, the options, the graphs as the graph passes left them, the sessions
/// opened so far (the first one decides the provider in use: a CUDA request may fall back to the CPU) and what every
/// pass did. A family's compiler (<see cref="NetworkFamilyDescriptor.Compile"/>) opens its functions through it.
/// </summary>
internal sealed class CompilationContext
{
    /// <summary>
    /// Rows per block on the CPU when neither the options nor the bundle say (see <see cref="BlockLayout"/>; measured:
    /// docs/BENCHMARKS.md, "Parallel blocks" and "Tuning: chunk size, threads, spinning").
    /// </summary>
    internal const int DefaultChunkSize = 512;

    /// <summary>
    /// Rows per block on CUDA when the options do not say. A GPU block's cost is mostly kernel launches until
    /// its Gemms fill the device, so the CPU's 512-row blocks would be launch-bound; one block of up to this many
    /// rows runs the 3,000-draw request in one pass and keeps a large request's device memory bounded
    /// (the sweep: docs/BENCHMARKS.md, "GPU").
    /// </summary>
    internal const int CudaDefaultChunkSize = 16_384;

    /// <summary>What the plan says of a pass that <see cref="RuntimeOptions.DisabledPasses"/> names.</summary>
    internal const string DisabledReason = "disabled by RuntimeOptions.DisabledPasses";

    private readonly Dictionary<string, byte[]> prepared = new(StringComparer.Ordinal);
    private readonly List<IDisposable> created = [];
    private readonly Dictionary<string, List<(bool Applied, string Detail)>> records = new(StringComparer.Ordinal);
    private readonly HashSet<string> disabled;
    private readonly IReadOnlyList<CompilerPass> graphPasses;
    private readonly int chunk;
    private readonly int blocks;

    public CompilationContext(BundleContents bundle, RuntimeOptions options, IReadOnlyList<CompilerPass> passes)
    {
        Bundle = bundle;
        Options = options;
        Passes = passes;
        disabled = new HashSet<string>(options.DisabledPasses, StringComparer.Ordinal);
        graphPasses = passes.Where(Enabled).ToArray();
        Provider = options.Provider;
        var hints = bundle.Manifest.RuntimeHints;
        // The CPU defaults, every family alike: 512-row blocks, one single-threaded block per core, no spinning.
        // Intra-op threads split a graph's elementwise kernels badly (a residual block's passes over [rows, 256]
        // gain little from a second thread), while blocks running side by side keep every core busy in every
        // kernel; spinning workers fight other processes for the cores (measured with `onnxsbi-bench runtime`:
        // docs/BENCHMARKS.md, "Parallel blocks", "MLP families: fewer kernels per residual block, and parallel
        // blocks" and "Tuning: chunk size, threads, spinning").
        chunk = options.ChunkSize > 0 ? options.ChunkSize : hints?.ChunkSize > 0 ? hints.ChunkSize : DefaultChunkSize;
        int? chosenThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : hints?.IntraOpThreads > 0 ? hints.IntraOpThreads : null;
        IntraOpThreads = chosenThreads ?? 1;
        // Threads chosen by the caller or the bundle without a block count keep blocks sequential: the
        // two settings share the same cores.
        blocks = options.ParallelBlocks > 0 ? options.ParallelBlocks : hints?.ParallelBlocks > 0 ? hints.ParallelBlocks : chosenThreads is null ? DefaultCores : 1;
        AllowSpinning = options.AllowSpinning ?? (hints is not null && hints.ChunkSize > 0 && hints.AllowSpinning);
    }

    /// <summary>
    /// Parallel blocks when neither the options nor the bundle say: one per core, so that every core samples a
    /// block of its own (measured on 2 and on 16 cores: docs/BENCHMARKS.md, "Parallel blocks" and "GPU").
    /// </summary>
    internal static int DefaultCores => Math.Max(1, Environment.ProcessorCount);

    public BundleContents Bundle { get; }

    public RuntimeOptions Options { get; }

    /// <summary>The compiler's passes, in order.</summary>
    public IReadOnlyList<CompilerPass> Passes { get; }

    /// <summary>
    /// Whether <paramref name="pass"/> may run: false when <see cref="RuntimeOptions.DisabledPasses"/> names it. Every
    /// pass asks before it decides anything (the graph passes through <see cref="Prepare"/>); the plan then shows a
    /// disabled pass as skipped with <see cref="DisabledReason"/>, whatever else was recorded for it.
    /// </summary>
    public bool Enabled(CompilerPass pass) => !disabled.Contains(pass.Name);

    public string Path => Bundle.SourcePath;

    public BundleManifest Manifest => Bundle.Manifest;

    /// <summary>D, the width of the network-side parameters.</summary>
    public int D => Manifest.InferenceDim;

    /// <summary>C, the width of the network-side conditions.</summary>
    public int C => Manifest.ConditionDim;

    /// <summary>The provider asked for until the first session is opened, then the one in use.</summary>
    public ExecutionProvider Provider { get; private set; }

    public int IntraOpThreads { get; }

    public bool AllowSpinning { get; }

    /// <summary>
    /// How requests are cut into blocks, once the provider in use is known. The bundle's hints are CPU measurements:
    /// on CUDA only the caller's options override the defaults.
    /// </summary>
    public Blocking BlockLayout => Provider == ExecutionProvider.Cuda
        ? new Blocking(Options.ChunkSize > 0 ? Options.ChunkSize : CudaDefaultChunkSize, Options.ParallelBlocks > 0 ? Options.ParallelBlocks : 1)
        : new Blocking(chunk, blocks);

    /// <summary>
    /// The graph of <paramref name="role"/> after the graph passes; prepared once and kept (a solver loop graph is built
    /// from the same one, possibly later, from a sampling thread).
    /// </summary>
    public byte[] Graph(string role)
    {
        lock (prepared)
        {
            if (!prepared.TryGetValue(role, out var graph))
                prepared[role] = graph = Prepare(Bundle.Graphs[role], role, role, isPart: false);
            return graph;
        }
    }

    /// <summary>
    /// Runs the graph passes over <paramref name="model"/>, a graph of <paramref name="role"/> or a part cut out of it,
    /// recording each pass under <paramref name="label"/>. Returns <paramref name="model"/> itself when nothing changes.
    /// BundleReader has already parsed and checked every graph, so the passes cannot meet one that does not parse; a
    /// declared pattern the graph does not have is a <see cref="BundleFormatException"/>.
    /// </summary>
    public byte[] Prepare(byte[] model, string role, string label, bool isPart)
    {
        var entry = Manifest.Graphs.First(g => g.Role == role);
        var target = new GraphTarget(Path, role, label, entry.ResidualBlocks, isPart, Options.Precision);
        return GraphCompiler.RunGraphPasses(model, target, graphPasses, Record);
    }

    /// <summary>
    /// Opens a session over the prepared graph of <paramref name="role"/> (or over <paramref name="model"/>, a graph
    /// already prepared) as a function with the given ports. The first session fixes <see cref="Provider"/>. The
    /// function is disposed with the others if compilation fails later.
    /// </summary>
    public OnnxFunction Function(string role, (string, int)[] inputs, (string, int)[] outputs, byte[]? model = null)
    {
        var (session, actual) = Sessions.Create(Path, model ?? Graph(role), Provider, Options.DeviceId, Options.FallbackToCpu, IntraOpThreads, AllowSpinning);
        Provider = actual;
        var f = new OnnxFunction(session, inputs, outputs) { CopiesInputsAtBind = actual != ExecutionProvider.Cpu };
        Track(f);
        return f;
    }

    /// <summary>
    /// Opens a session over a solver loop graph made by <paramref name="model"/> on the provider in use, without
    /// falling back. Null when the loop mode is Auto and the provider cannot run it (the host loop does the same work).
    /// </summary>
    public OnnxFunction? LoopFunction(Func<byte[]> model, bool consistency, int evaluationsPerStep)
    {
        try
        {
            var (session, _) = Sessions.Create(Path, model(), Provider, Options.DeviceId, fallbackToCpu: false, IntraOpThreads, AllowSpinning);
            var (inputs, outputs) = SolverLoopGraph.Ports(D, C, consistency);
            return new OnnxFunction(session, inputs, outputs, evaluationsPerStep) { CopiesInputsAtBind = Provider != ExecutionProvider.Cpu };
        }
        catch (Exception e) when (Options.SolverLoop == SolverLoopMode.Auto && e is OnnxSbiException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return null;
        }
    }

    /// <summary>Disposes <paramref name="resource"/> if compilation fails.</summary>
    public void Track(IDisposable resource)
    {
        lock (created) created.Add(resource);
    }

    /// <summary>Records what <paramref name="pass"/> did (or why it did not apply).</summary>
    public void Record(CompilerPass pass, bool applied, string detail)
    {
        lock (records)
        {
            if (!records.TryGetValue(pass.Name, out var list)) records[pass.Name] = list = [];
            list.Add((applied, detail));
        }
    }

    /// <summary>Disposes every session opened, after a failure.</summary>
    public void DisposeCreated()
    {
        lock (created)
            foreach (var f in created) f.Dispose();
    }

    /// <summary>
    /// The plan: every pass in compiler order, applied when it applied to any graph, with its details; a disabled pass
    /// as skipped with <see cref="DisabledReason"/>.
    /// </summary>
    public CompiledPlan Plan(NetworkSampler sampler)
    {
        lock (records)
        {
            var passes = Passes.Select(p => !Enabled(p)
                ? new CompiledPass(p.Name, false, DisabledReason)
                : records.TryGetValue(p.Name, out var list)
                ? new CompiledPass(p.Name, list.Any(r => r.Applied), string.Join("; ", list.Select(r => r.Detail)))
                : new CompiledPass(p.Name, false, $"not used by {Manifest.Family}")).ToArray();
            return new CompiledPlan(passes, sampler.ChunkSize, sampler.ParallelBlocks, IntraOpThreads, AllowSpinning, Provider, Options.Precision, sampler.Strategy, sampler.SamplingRole);
        }
    }
}
