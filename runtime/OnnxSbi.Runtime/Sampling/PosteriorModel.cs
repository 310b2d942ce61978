using Microsoft.ML.OnnxRuntime;
using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Bundles;
using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Samplers;

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
    private readonly int deviceId;

    private PosteriorModel(BundleContents bundle, Adapter adapter, NetworkSampler sampler, CompiledPlan plan, long maxDraws, int deviceId)
    {
        this.maxDraws = maxDraws;
        this.deviceId = deviceId;
        SourcePath = bundle.SourcePath;
        Manifest = bundle.Manifest;
        Description = bundle.Description;
        Plan = plan;
        this.adapter = adapter;
        this.sampler = sampler;
        gate = new CallGate(sampler.Dispose);
    }

    /// <summary>The bundle file the model came from (or the name given when it was loaded from a stream or memory).</summary>
    public string SourcePath { get; }

    /// <summary>The bundle's manifest as read (the protobuf object), for the project's own tools.</summary>
    internal BundleManifest Manifest { get; }

    /// <summary>What the bundle says about the model: variables, network family, sampler defaults, training record, metrics, description.</summary>
    public ModelDescription Description { get; }

    /// <summary>What loading compiled the bundle into: the graph passes applied, the block layout, provider, precision and execution strategy.</summary>
    public CompiledPlan Plan { get; }

    /// <summary>The execution provider actually in use (CPU when CUDA was asked for but unavailable and fallback is on).</summary>
    public ExecutionProvider Provider => Plan.Provider;

    /// <summary>Rows per network evaluation.</summary>
    public int ChunkSize => sampler.ChunkSize;

    /// <summary>The arithmetic of the hidden layers.</summary>
    public NetworkPrecision Precision => Plan.Precision;

    /// <summary>
    /// Rows pushed through the sampling network since load, over all callers: network evaluations × rows each.
    /// Divided by the draws made it is the network work per draw; a server can export it as a counter. It only grows.
    /// </summary>
    public long NetworkRowsEvaluated => sampler.NetworkRowsEvaluated;

    /// <summary>Whether <see cref="LogProb"/> is available (coupling flows).</summary>
    public bool HasDensity => sampler is CouplingPosteriorSampler;

    /// <summary>Loads the bundle at <paramref name="path"/>: reads and validates it completely, then compiles it (see <see cref="Load(BundleContents, RuntimeOptions?)"/>).</summary>
    /// <param name="path">The <c>.onnxsbi</c> file.</param>
    /// <param name="options">How the model runs; defaults when null.</param>
    /// <param name="limits">Bounds on the bundle's size; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <exception cref="BundleFormatException">The file is missing, corrupt or inconsistent.</exception>
    public static PosteriorModel Load(string path, RuntimeOptions? options = null, BundleReadLimits? limits = null)
    {
        CheckOptions(ref options);
        return Load(BundleReader.Read(path, limits), options);
    }

    /// <summary>Loads a bundle from <paramref name="stream"/> (left open), read and validated completely before any session is created.</summary>
    /// <param name="stream">The bundle's bytes, from the current position.</param>
    /// <param name="options">How the model runs; defaults when null.</param>
    /// <param name="limits">Bounds on the bundle's size; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <param name="sourceName">What errors and <see cref="SourcePath"/> call the bundle.</param>
    /// <exception cref="BundleFormatException">The bytes are not a bundle, or an inconsistent one.</exception>
    public static PosteriorModel Load(Stream stream, RuntimeOptions? options = null, BundleReadLimits? limits = null, string? sourceName = null)
    {
        CheckOptions(ref options);
        return Load(BundleReader.Read(stream, sourceName, limits), options);
    }

    /// <summary>Loads a bundle held in memory (the bytes of a <c>.onnxsbi</c> file), read and validated completely before any session is created.</summary>
    /// <param name="bundle">The bundle's bytes.</param>
    /// <param name="options">How the model runs; defaults when null.</param>
    /// <param name="limits">Bounds on the bundle's size; <see cref="BundleReadLimits.Default"/> when null.</param>
    /// <param name="sourceName">What errors and <see cref="SourcePath"/> call the bundle.</param>
    /// <exception cref="BundleFormatException">The bytes are not a bundle, or an inconsistent one.</exception>
    public static PosteriorModel Load(ReadOnlyMemory<byte> bundle, RuntimeOptions? options = null, BundleReadLimits? limits = null, string? sourceName = null)
    {
        CheckOptions(ref options);
        return Load(BundleReader.Read(bundle, sourceName, limits), options);
    }

    /// <inheritdoc cref="Load(ReadOnlyMemory{byte}, RuntimeOptions?, BundleReadLimits?, string?)"/>
    public static PosteriorModel Load(byte[] bundle, RuntimeOptions? options = null, BundleReadLimits? limits = null, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        return Load(new ReadOnlyMemory<byte>(bundle), options, limits, sourceName);
    }

    /// <summary>
    /// Compiles a bundle already read (<see cref="BundleReader"/>) into a model: the adapter from the manifest, then the
    /// family's graphs through the compiler's passes (<see cref="Plan"/> records which applied) into ONNX Runtime sessions.
    /// </summary>
    /// <param name="bundle">The bundle, read and validated.</param>
    /// <param name="options">How the model runs; defaults when null.</param>
    /// <exception cref="BundleFormatException">The manifest's adapter is invalid, the family unknown, or a declared graph pattern does not match.</exception>
    public static PosteriorModel Load(BundleContents bundle, RuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        CheckOptions(ref options);
        Adapter adapter;
        try
        {
            adapter = Adapter.FromSpec(bundle.Manifest.Adapter ?? new AdapterSpec());
        }
        catch (OnnxSbiException e)
        {
            throw new BundleFormatException(bundle.SourcePath, $"the manifest's adapter is invalid: {e.Message}", e);
        }
        var (sampler, plan) = GraphCompiler.Compile(bundle, options);
        return new PosteriorModel(bundle, adapter, sampler, plan, options.MaxDrawsPerCall, options.DeviceId);
    }

    private static void CheckOptions([System.Diagnostics.CodeAnalysis.NotNull] ref RuntimeOptions? options)
    {
        options ??= new RuntimeOptions();
        options.Validate();
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
                adaptedConditions.AsSpan(source * c, c).CopyTo(eval.Inputs[1].Slice(r * c, c));
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
    /// An ONNX Runtime session over <paramref name="graph"/> made as this model's sessions are: the provider in use
    /// (<see cref="CompiledPlan.Provider"/>, on the device the model was loaded for), <see cref="CompiledPlan.IntraOpThreads"/>,
    /// <see cref="CompiledPlan.AllowSpinning"/>, every graph optimization and sequential execution. The graph runs as
    /// given: pass it through <see cref="GraphCompiler.Prepare(byte[], IReadOnlyList{OnnxSbi.Contracts.Manifest.ResidualBlock}, NetworkPrecision)"/>
    /// first for the model's passes. For benchmarks and profiling that compare a graph with the model's own under the
    /// same settings; sampling never needs it. The caller owns the session and disposes it; it does not depend on
    /// this model staying alive.
    /// </summary>
    /// <param name="graph">A serialized ONNX model.</param>
    /// <exception cref="OnnxSbiException">The model runs on CUDA and ONNX Runtime cannot create a CUDA session now.</exception>
    /// <exception cref="BundleFormatException">ONNX Runtime cannot load <paramref name="graph"/>.</exception>
    public InferenceSession CreateSession(byte[] graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Sessions.Create(SourcePath, graph, Plan.Provider, deviceId, fallbackToCpu: false, Plan.IntraOpThreads, Plan.AllowSpinning).Session;
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
