using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Sampling;

namespace OnnxSbi.Runtime;

/// <summary>
/// A trained amortized posterior loaded from a <c>.onnxsbi</c> bundle: draws posterior samples (and,
/// for coupling flows, exact log densities) in the user's variable names and units. One instance is
/// thread-safe and meant to be shared by all callers; it owns ONNX Runtime sessions, so dispose it
/// when done. Disposing while other threads sample is safe: see <see cref="Dispose"/>.
/// </summary>
/// <example>
/// <code>
/// using var posterior = PosteriorModel.Load("models/two_moons/flow_matching.onnxsbi");
/// var x = new ArrayBatch(1).Set("x", [0.0, 0.0], 2);
/// PosteriorDraws draws = posterior.Sample(x, numDraws: 3000, new SamplingOptions { Seed = 1 });
/// double[] theta = draws["theta"]; // [1, 3000, 2]
/// </code>
/// </example>
public sealed class PosteriorModel : IDisposable
{
    private readonly NetworkSampler sampler;
    private readonly Adapter adapter;
    private readonly CallGate gate;

    private readonly long maxDraws;

    /// <summary>Rows per evaluation when neither the options nor the bundle say (measured, see Load).</summary>
    internal const int DefaultChunkSize = 512;

    /// <summary>
    /// Rows per block on CUDA when the options do not say. A GPU block's cost is mostly kernel launches until
    /// its Gemms fill the device, so the CPU's 512-row blocks would be launch-bound; one block of up to this many
    /// rows runs the 3,000-draw request in one pass and keeps a large request's device memory bounded
    /// (the sweep on an H100: docs/BENCHMARKS.md, "GPU").
    /// </summary>
    internal const int CudaDefaultChunkSize = 16_384;

    /// <summary>
    /// Parallel blocks when neither the options nor the bundle say: one per core. Measured on 2 cores here and on
    /// a 16-core Xeon (docs/BENCHMARKS.md, "GPU"), where 16 blocks sampled flow matching's
    /// 3,000 draws 2.1-2.3x and 20 x 1,000 draws 3.9-8.6x faster than 2.
    /// </summary>
    internal static int DefaultCores => Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// The graph a session runs for <paramref name="precision"/>: the residual blocks rewritten into fewer
    /// kernels (float: with the projection combined; int8: separate, then quantized). Parsed and written once;
    /// <paramref name="graph"/> itself when nothing changes.
    /// </summary>
    internal static byte[] Prepare(byte[] graph, NetworkPrecision precision)
    {
        var edit = new GraphEdit(graph);
        bool int8 = precision == NetworkPrecision.Int8;
        int changed = ResidualBlockRewrite.Apply(edit, combineProjection: !int8);
        if (int8) changed += Int8Quantizer.Quantize(edit, Int8Quantizer.WeightRange);
        return changed == 0 ? graph : edit.ToBytes();
    }

    private PosteriorModel(string path, BundleManifest manifest, Adapter adapter, NetworkSampler sampler, ExecutionProvider provider, long maxDraws, int threads, bool spinning, NetworkPrecision precision)
    {
        Precision = precision;
        IntraOpThreads = threads;
        AllowSpinning = spinning;
        this.maxDraws = maxDraws;
        SourcePath = path;
        Manifest = manifest;
        this.adapter = adapter;
        this.sampler = sampler;
        Provider = provider;
        gate = new CallGate(sampler.Dispose);
    }

    /// <summary>The bundle file the model came from.</summary>
    public string SourcePath { get; }

    /// <summary>The bundle's manifest: variables, network family, sampler defaults, training record, metrics.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>The execution provider actually in use (CPU when CUDA was asked for but unavailable and fallback is on).</summary>
    public ExecutionProvider Provider { get; }

    /// <summary>Rows per network evaluation.</summary>
    public int ChunkSize => sampler.ChunkSize;

    /// <summary>Blocks of <see cref="ChunkSize"/> rows evaluated at once.</summary>
    internal int ParallelBlocks => sampler.ParallelBlocks;

    /// <summary>The arithmetic of the hidden layers.</summary>
    public NetworkPrecision Precision { get; }

    /// <summary>The intra-op thread count the sessions were created with (0: ONNX Runtime's default).</summary>
    internal int IntraOpThreads { get; }

    /// <summary>Whether the sessions' worker threads spin.</summary>
    internal bool AllowSpinning { get; }

    /// <summary>The graph role evaluated while sampling.</summary>
    internal string SamplingRole => sampler.SamplingRole;

    /// <summary>Rows pushed through the sampling graph since load (network evaluations × rows each).</summary>
    internal long NetworkRowsEvaluated => sampler.NetworkRowsEvaluated;

    /// <summary>True when sampling runs a coupling flow's inverse step by step (<see cref="CouplingInverseMode.Native"/> and a bundle that lists its steps).</summary>
    internal bool UsesNativeCouplingInverse => sampler is CouplingPosteriorSampler { Native: not null };

    /// <summary>True when fixed-step integration or consistency sampling runs each block as one solver loop graph.</summary>
    internal bool UsesSolverLoop => sampler is FlowMatchingPosteriorSampler { UsesSolverLoop: true } or ConsistencyPosteriorSampler { UsesSolverLoop: true };

    /// <summary>Whether <see cref="LogProb"/> is available (coupling flows).</summary>
    public bool HasDensity => sampler is CouplingPosteriorSampler;

    /// <summary>Loads a bundle, validating it completely before any session is created.</summary>
    /// <exception cref="BundleFormatException">The file is missing, corrupt or inconsistent.</exception>
    public static PosteriorModel Load(string path, RuntimeOptions? options = null)
    {
        options ??= new RuntimeOptions();
        options.Validate();
        var contents = BundleReader.Read(path);
        var manifest = contents.Manifest;
        Adapter adapter;
        try
        {
            adapter = Adapter.FromSpec(manifest.Adapter ?? new AdapterSpec());
        }
        catch (OnnxSbiException e)
        {
            throw new BundleFormatException(path, $"the manifest's adapter is invalid: {e.Message}", e);
        }
        var hints = manifest.RuntimeHints;
        // Defaults measured on the 2-core machine (docs/BENCHMARKS.md, `onnxsbi bench`), every family alike:
        // 512-row blocks, one single-threaded block per core, no spinning. Intra-op threads split a graph's
        // elementwise kernels badly (a residual block's eight passes over [rows, 256] took as long on two threads as
        // on one); two blocks side by side keep both cores busy in every kernel. Against one 1,024-row block on two
        // threads this was 1.1-1.3x faster for flow matching and the consistency model (fp32 and int8) and 1.7-1.8x
        // for the coupling flows (against one 4,096-row block). Spinning workers fight other processes for the cores.
        int chunk = options.ChunkSize > 0 ? options.ChunkSize : hints?.ChunkSize > 0 ? hints.ChunkSize : DefaultChunkSize;
        int? chosenThreads = options.IntraOpThreads > 0 ? options.IntraOpThreads : hints?.IntraOpThreads > 0 ? hints.IntraOpThreads : null;
        int threads = chosenThreads ?? 1;
        // Threads chosen by the caller or the bundle without a block count keep blocks sequential: the
        // two settings share the same cores.
        int blocks = options.ParallelBlocks > 0 ? options.ParallelBlocks : hints?.ParallelBlocks > 0 ? hints.ParallelBlocks : chosenThreads is null ? DefaultCores : 1;
        bool spinning = options.AllowSpinning ?? (hints is not null && hints.ChunkSize > 0 && hints.AllowSpinning);
        var provider = options.Provider;
        // The bundle's hints are CPU measurements: on CUDA only the caller's options override the defaults.
        // Decided after the first session, when the provider in use is known (a CUDA request may fall back).
        Blocking Blocks() => provider == ExecutionProvider.Cuda
            ? new Blocking(options.ChunkSize > 0 ? options.ChunkSize : CudaDefaultChunkSize, options.ParallelBlocks > 0 ? options.ParallelBlocks : 1)
            : new Blocking(chunk, blocks);
        var created = new List<IDisposable>();
        try
        {
            // BundleReader has already parsed and checked every graph, so the rewrites cannot meet a bad one.
            // A role's rewritten graph is kept: the solver loop graph is built from the same one.
            var rewritten = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            byte[] Graph(string role, byte[]? model = null)
            {
                if (model is not null) return Prepare(model, options.Precision);
                lock (rewritten)
                {
                    if (!rewritten.TryGetValue(role, out var graph)) rewritten[role] = graph = Prepare(contents.Graphs[role], options.Precision);
                    return graph;
                }
            }
            OnnxFunction Function(string role, (string, int)[] inputs, (string, int)[] outputs, byte[]? model = null)
            {
                var (session, actual) = Sessions.Create(path, Graph(role, model), provider, options.DeviceId, options.FallbackToCpu, threads, spinning);
                provider = actual;
                var f = new OnnxFunction(session, inputs, outputs) { CopiesInputsAtBind = actual != ExecutionProvider.Cpu };
                created.Add(f);
                return f;
            }
            int d = manifest.InferenceDim, c = manifest.ConditionDim;
            // Decided after the first session: a CUDA request that fell back to the CPU steps from the host.
            bool UseLoop() => options.SolverLoop == SolverLoopMode.Graph || (options.SolverLoop == SolverLoopMode.Auto && provider == ExecutionProvider.Cuda);
            OnnxFunction? Loop(Func<byte[]> model, bool consistency, int evaluationsPerStep)
            {
                try
                {
                    var (session, _) = Sessions.Create(path, model(), provider, options.DeviceId, fallbackToCpu: false, threads, spinning);
                    var (inputs, outputs) = SolverLoopGraph.Ports(d, c, consistency);
                    return new OnnxFunction(session, inputs, outputs, evaluationsPerStep) { CopiesInputsAtBind = provider != ExecutionProvider.Cpu };
                }
                catch (Exception e) when (options.SolverLoop == SolverLoopMode.Auto && e is OnnxSbiException or OnnxRuntimeException)
                {
                    // Auto on a provider that cannot run the loop graph: the host loop does the same work.
                    return null;
                }
            }
            NetworkSampler FlowMatching()
            {
                var velocity = Function(GraphRoles.Velocity, [("theta_t", d), ("t", 1), ("conditions", c)], [("velocity", d)]);
                Func<IntegratorKind, OnnxFunction?>? loops = UseLoop()
                    ? kind => Loop(() => SolverLoopGraph.FixedStep(Graph(GraphRoles.Velocity), ButcherTableau.For(kind), d), consistency: false, ButcherTableau.For(kind).Stages)
                    : null;
                return new FlowMatchingPosteriorSampler(velocity, FlowMatchingDefaults.From(manifest.FlowMatching), d, c, Blocks(), loops, options.SolverLoop == SolverLoopMode.Graph);
            }
            NetworkSampler Consistency()
            {
                var f = Function(GraphRoles.Consistency, [("theta_t", d), ("t", 1), ("conditions", c)], [("theta", d)]);
                var spec = manifest.Consistency ?? throw new BundleFormatException(path, "a consistency bundle's manifest has no 'consistency' sampler parameters.");
                OnnxFunction? loop = UseLoop() ? Loop(() => SolverLoopGraph.Consistency(Graph(GraphRoles.Consistency), d), consistency: true, 1) : null;
                if (loop is not null) created.Add(loop);
                return new ConsistencyPosteriorSampler(f, spec, d, c, Blocks(), loop);
            }
            NetworkSampler Coupling()
            {
                var forward = Function(GraphRoles.Forward, [("theta", d), ("conditions", c)], [("z", d), ("log_det", 0)]);
                // The whole inverse graph gets a session only when sampling runs it.
                if (options.CouplingInverse == CouplingInverseMode.Native && contents.CouplingPlan is { } plan)
                {
                    // The forward session decided the provider: the subnets' thin layers go to the host on the CPU only.
                    var native = NativeCouplingInverse.Open(plan, s => Function(GraphRoles.Inverse, [(s.Input, s.InputWidth)], [(s.Output, s.OutputWidth)], s.Model), d, c,
                        hostLayers: provider == ExecutionProvider.Cpu);
                    return new CouplingPosteriorSampler(null, forward, native, d, c, Blocks());
                }
                return new CouplingPosteriorSampler(Function(GraphRoles.Inverse, [("z", d), ("conditions", c)], [("theta", d)]), forward, null, d, c, Blocks());
            }
            NetworkSampler sampler = manifest.Family switch
            {
                NetworkFamily.FlowMatching => FlowMatching(),
                NetworkFamily.ConsistencyModel => Consistency(),
                NetworkFamily.CouplingFlow => Coupling(),
                _ => throw new BundleFormatException(path, $"unsupported network family {manifest.Family}."),
            };
            return new PosteriorModel(path, manifest, adapter, sampler, provider, options.MaxDrawsPerCall, threads, spinning, options.Precision);
        }
        catch
        {
            foreach (var f in created) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Draws <paramref name="numDraws"/> posterior samples for each row of <paramref name="conditions"/>
    /// (one observation, or a batch of many) in one call. Everything is validated before any native
    /// call: unknown or missing condition names, shapes, non-finite values and draw counts.
    /// </summary>
    /// <param name="conditions">The observed variables, named as in training (e.g. "x" [rows, 2]).</param>
    /// <param name="numDraws">Draws per condition row, at least 1.</param>
    /// <param name="options">Seed and sampler settings; unset values take the bundle's defaults.</param>
    /// <param name="cancellationToken">Checked between solver steps and row blocks.</param>
    /// <returns>Draws in the user's variables and units, shape [conditions, draws, …].</returns>
    /// <exception cref="NonFiniteDrawsException">The network produced NaN or infinite draws.</exception>
    /// <exception cref="ObjectDisposedException">The call started after <see cref="Dispose"/>.</exception>
    public PosteriorDraws Sample(ArrayBatch conditions, int numDraws, SamplingOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var call = gate.Enter(this);
        options ??= new SamplingOptions();
        float[] adapted = PrepareConditions(conditions);
        int m = conditions.Rows;
        CheckDrawCount(m, numDraws);
        var warnings = sampler.Check(options);
        int d = Manifest.InferenceDim;
        long total = (long)m * numDraws;
        var network = new float[total * d];
        sampler.Sample(adapted, m, numDraws, network, options, cancellationToken);

        long bad = 0;
        int firstBad = -1;
        for (long r = 0; r < total; r++)
        {
            var row = network.AsSpan((int)(r * d), d);
            foreach (float v in row)
            {
                if (float.IsFinite(v)) continue;
                bad++;
                if (firstBad < 0) firstBad = (int)(r / numDraws);
                break;
            }
        }
        if (bad > 0) throw new NonFiniteDrawsException(SourcePath, bad, total, firstBad);

        var values = new double[network.Length];
        for (int i = 0; i < network.Length; i++) values[i] = network[i];
        var batch = new ArrayBatch((int)total).Set(Adapter.InferenceVariables, values, d);
        var user = adapter.Inverse(batch);
        return new PosteriorDraws(m, numDraws, user, warnings);
    }

    /// <summary>
    /// The exact log posterior density log q(θ | x) in the user's units (the adapter's log-Jacobian
    /// included), for each row of <paramref name="theta"/> paired with the same row of
    /// <paramref name="conditions"/>, or with its single row when it has one. Coupling flows only.
    /// </summary>
    /// <param name="theta">The inference variables, named as in training (e.g. "theta" [rows, 2]).</param>
    /// <param name="conditions">The observed variables: one row per row of <paramref name="theta"/>, or a single shared row.</param>
    /// <returns>One log density per row of <paramref name="theta"/>.</returns>
    /// <exception cref="InvalidRequestException">The model is not a coupling flow.</exception>
    /// <exception cref="ObjectDisposedException">The call started after <see cref="Dispose"/>.</exception>
    public double[] LogProb(ArrayBatch theta, ArrayBatch conditions)
    {
        using var call = gate.Enter(this);
        if (sampler is not CouplingPosteriorSampler coupling)
            throw new InvalidRequestException($"Model '{SourcePath}' is a {Manifest.Family} model, which has no tractable density; log-prob needs a coupling flow.");
        CheckVariables(theta, Manifest.InferenceVariables, "inference variable");
        int n = theta.Rows;
        if (conditions.Rows != n && conditions.Rows != 1)
            throw new ShapeMismatchException("conditions", $"[{n}, …] or [1, …] (one per theta row, or one shared)", $"[{conditions.Rows}, …]");
        float[] adaptedConditions = PrepareConditions(conditions);
        var adaptedTheta = adapter.Forward(theta.Clone());
        double[] networkTheta = adaptedTheta.Get(Adapter.InferenceVariables);
        double[] logJacobian = adapter.LogDetJacobian(adaptedTheta);
        int d = Manifest.InferenceDim, c = Manifest.ConditionDim;
        var result = new double[n];
        int chunk = coupling.ChunkSize;
        NetworkSampler.ForEachBlock((n + chunk - 1) / chunk, coupling.ParallelBlocks, CancellationToken.None, block =>
        {
            int first = block * chunk;
            int rows = Math.Min(chunk, n - first);
            using var eval = coupling.Forward.Rent(rows);
            for (int i = 0; i < rows * d; i++) eval.Inputs[0][i] = (float)networkTheta[first * d + i];
            for (int r = 0; r < rows; r++)
            {
                int source = conditions.Rows == 1 ? 0 : first + r;
                adaptedConditions.AsSpan(source * c, c).CopyTo(eval.Inputs[1].AsSpan(r * c, c));
            }
            eval.Run();
            for (int r = 0; r < rows; r++)
            {
                double sq = 0;
                for (int j = 0; j < d; j++) { double z = eval.Outputs[0][r * d + j]; sq += z * z; }
                result[first + r] = -0.5 * sq - 0.5 * d * Math.Log(2 * Math.PI) + eval.Outputs[1][r] + logJacobian[first + r];
            }
        });
        return result;
    }

    /// <summary>
    /// Releases the ONNX Runtime sessions and their bound buffers. Safe while other threads are inside
    /// <see cref="Sample"/> or <see cref="LogProb"/>: it does not wait for them and does not cut them short.
    /// Calls already running finish normally and the last of them to return releases the sessions; when none
    /// is running, this call releases them before it returns. Every call that starts after it throws
    /// <see cref="ObjectDisposedException"/>. Calling it again does nothing.
    /// </summary>
    public void Dispose() => gate.Close();

    private float[] PrepareConditions(ArrayBatch conditions)
    {
        if (conditions.Rows <= 0)
            throw new InvalidRequestException("At least one condition row is needed; the batch has 0 rows.");
        CheckVariables(conditions, Manifest.ConditionVariables, "condition variable");
        var adapted = adapter.Forward(conditions.Clone());
        int c = Manifest.ConditionDim;
        if (c == 0) return [];
        double[] values = adapted.Get(Adapter.InferenceConditions);
        if (values.Length != (long)conditions.Rows * c)
            throw new ShapeMismatchException(Adapter.InferenceConditions, $"[{conditions.Rows}, {c}]", $"{values.Length} values after the adapter");
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)values[i];
        return result;
    }

    private void CheckDrawCount(int conditions, int draws)
    {
        if (draws <= 0) throw new InvalidRequestException($"numDraws must be at least 1; got {draws}.");
        long total = (long)conditions * draws;
        if (total > maxDraws)
            throw new InvalidRequestException($"{conditions} conditions × {draws} draws = {total} draws exceeds the limit of {maxDraws} per call (RuntimeOptions.MaxDrawsPerCall); split the request.");
        // One float array holds all network-space draws, so even a lifted cap cannot exceed Array.MaxLength values.
        if (total * Manifest.InferenceDim > Array.MaxLength)
            throw new InvalidRequestException($"{conditions} conditions × {draws} draws × {Manifest.InferenceDim} dimensions = {total * Manifest.InferenceDim} values exceeds the {Array.MaxLength} one call can return; split the request.");
    }

    private void CheckVariables(ArrayBatch batch, IEnumerable<VariableSpec> specs, string role)
    {
        var known = specs.ToList();
        foreach (string name in batch.Names)
            if (!known.Any(s => s.Name == name))
                throw new UnknownVariableException(name, known.Select(s => s.Name), role);
        foreach (var spec in known)
        {
            if (!batch.Contains(spec.Name))
                throw new OnnxSbiException($"Missing {role} '{spec.Name}' (shape [{string.Join(", ", spec.Shape)}]). Given: {(batch.Names.Count == 0 ? "(none)" : string.Join(", ", batch.Names.Select(n => $"'{n}'")))}.");
            var shape = batch.SampleShape(spec.Name);
            if (!shape.SequenceEqual(spec.Shape.Select(x => (int)x)))
                throw new ShapeMismatchException(spec.Name, $"[rows, {string.Join(", ", spec.Shape)}]", $"[{batch.Rows}, {string.Join(", ", shape)}]");
            var values = batch.Get(spec.Name);
            int w = batch.Width(spec.Name);
            for (int i = 0; i < values.Length; i++)
                if (!double.IsFinite(values[i]))
                    throw new NonFiniteValueException(spec.Name, w == 0 ? 0 : i / w, values[i]);
        }
    }
}

/// <summary>Creates ONNX Runtime sessions with the requested provider and threading.</summary>
internal static class Sessions
{
    private static readonly Lazy<string?> CudaMissing = new(() =>
    {
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            return e.Message.Split('\n')[0];
        }
    });

    /// <summary>Why ONNX Runtime cannot use the CUDA provider here (no GPU, driver or CUDA libraries), or null when it can.</summary>
    public static string? CudaUnavailableReason => CudaMissing.Value;

    public static (InferenceSession Session, ExecutionProvider Provider) Create(
        string path, byte[] model, ExecutionProvider provider, int deviceId, bool fallbackToCpu, int intraOpThreads, bool allowSpinning)
    {
        if (provider == ExecutionProvider.Cuda)
        {
            try
            {
                using var cuda = Options(intraOpThreads, allowSpinning);
                cuda.AppendExecutionProvider_CUDA(deviceId);
                return (new InferenceSession(model, cuda), ExecutionProvider.Cuda);
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                if (!fallbackToCpu)
                    throw new OnnxSbiException($"Bundle '{path}': the CUDA execution provider is not available ({e.Message}). Use the CPU provider, or install a GPU build of ONNX Runtime with CUDA.", e);
            }
        }
        try
        {
            using var cpu = Options(intraOpThreads, allowSpinning);
            return (new InferenceSession(model, cpu), ExecutionProvider.Cpu);
        }
        catch (OnnxRuntimeException e)
        {
            throw new BundleFormatException(path, $"ONNX Runtime cannot load a graph: {e.Message}", e);
        }
    }

    private static SessionOptions Options(int intraOpThreads, bool allowSpinning)
    {
        var o = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // Errors only: on CUDA every session otherwise prints warnings that ONNX Runtime placed shape
            // computations on the CPU (its own choice, nothing the caller can act on).
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (intraOpThreads > 0) o.IntraOpNumThreads = intraOpThreads;
        o.AddSessionConfigEntry("session.intra_op.allow_spinning", allowSpinning ? "1" : "0");
        return o;
    }
}
