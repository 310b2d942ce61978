using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Trainer.Export;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Workflows;

/// <summary>
/// Simulations + adapter + network, trained offline or online and exported as a bundle: the C#
/// counterpart of BayesFlow's BasicWorkflow. Simulations come from an in-process <see cref="Runtime.Simulators.Simulator"/>,
/// from arrays the caller already holds, or from any (batch size, seed) → arrays function. The network is built once
/// the adapter is fitted, when the network-side widths D and C are known.
/// </summary>
/// <remarks>
/// BayesFlow's <c>BasicWorkflow(simulator, adapter, inference_network, inference_variables, inference_conditions)</c>
/// maps onto the constructor; <c>fit_offline</c> and <c>fit_online</c> onto <see cref="FitOffline(int, int, TrainingOptions, ITrainingObserver?, CancellationToken)"/>
/// and <see cref="FitOnline(int, TrainingOptions, int, ITrainingObserver?, CancellationToken)"/>. The network factory
/// receives the network-side widths (D, C) once the adapter is fitted; a recipe of <see cref="NetworkCatalog"/> or any
/// <see cref="PosteriorNetwork"/> constructor fits it, and <c>AdapterRecipe</c> builds the common adapter. The exported bundle is what <c>PosteriorModel.Load</c> samples
/// from (samples/OwnModel is a complete program).
/// </remarks>
/// <example>
/// <code>
/// Adapter adapter = new AdapterRecipe(["theta"], ["x"]).Build();   // standardize x, rename both
/// using var workflow = new BasicWorkflow(TwoMoons.CreateSimulator(seed: 1), adapter, ["theta"], ["x"],
///     (d, c) => new FlowMatching(d, c, FlowMatchingOptions.Default));
/// workflow.FitOffline(numSimulations: 32_768, validationSets: 300, new TrainingOptions { Epochs = 50 });
/// workflow.Export("flow_matching.onnxsbi", "two moons, flow matching");
/// </code>
/// </example>
public sealed partial class BasicWorkflow : IDisposable
{
    private readonly Func<int, int, PosteriorNetwork> networkFactory;
    private PosteriorNetwork? network;
    private object configuration = new { };
    private (int D, int C)? widths;

    /// <summary>Creates a workflow that trains on simulations the caller provides (<see cref="FitOffline(ArrayBatch, ArrayBatch?, TrainingOptions, ITrainingObserver?, CancellationToken)"/>, <see cref="FitOnline(Func{int, ulong, ArrayBatch}, ArrayBatch?, TrainingOptions, int, ITrainingObserver?, CancellationToken)"/>).</summary>
    /// <param name="adapter">The data pipeline; fitted on the training data if it is not yet.</param>
    /// <param name="inferenceVariables">User-side names of the parameters (e.g. "theta").</param>
    /// <param name="conditionVariables">User-side names of the observations (e.g. "x").</param>
    /// <param name="networkFactory">Builds the network for (D, C).</param>
    public BasicWorkflow(Adapter adapter, IReadOnlyList<string> inferenceVariables, IReadOnlyList<string> conditionVariables, Func<int, int, PosteriorNetwork> networkFactory)
    {
        Adapter = adapter;
        InferenceVariables = inferenceVariables;
        ConditionVariables = conditionVariables;
        this.networkFactory = networkFactory;
    }

    /// <summary>Creates a workflow around an in-process simulator.</summary>
    /// <param name="simulator">Produces the training data (parameters and observations).</param>
    /// <param name="adapter">The data pipeline; fitted on the training data if it is not yet.</param>
    /// <param name="inferenceVariables">User-side names of the parameters (e.g. "theta").</param>
    /// <param name="conditionVariables">User-side names of the observations (e.g. "x").</param>
    /// <param name="networkFactory">Builds the network for (D, C).</param>
    public BasicWorkflow(Simulator simulator, Adapter adapter, IReadOnlyList<string> inferenceVariables, IReadOnlyList<string> conditionVariables, Func<int, int, PosteriorNetwork> networkFactory)
        : this(adapter, inferenceVariables, conditionVariables, networkFactory)
    {
        Simulator = simulator;
    }

    /// <summary>The in-process simulator, or null when the caller provides the simulations.</summary>
    public Simulator? Simulator { get; }

    /// <summary>The adapter.</summary>
    public Adapter Adapter { get; }

    /// <summary>User-side parameter names.</summary>
    public IReadOnlyList<string> InferenceVariables { get; }

    /// <summary>User-side observation names.</summary>
    public IReadOnlyList<string> ConditionVariables { get; }

    /// <summary>The network, once training has started.</summary>
    public PosteriorNetwork Network => network ?? throw new InvalidOperationException("The network is built by FitOffline or FitOnline.");

    /// <summary>The history of the last fit.</summary>
    public TrainingHistory? History { get; private set; }

    /// <summary>Variable specs (name and per-sample shape) seen in the training data.</summary>
    public IReadOnlyList<VariableSpec> InferenceSpecs { get; private set; } = [];

    /// <summary>Variable specs of the observations.</summary>
    public IReadOnlyList<VariableSpec> ConditionSpecs { get; private set; } = [];

    /// <summary>
    /// Simulates <paramref name="numSimulations"/> rows with the in-process simulator (seeded by the options' seed), fits the
    /// adapter if it is not fitted yet, and trains on those rows for the options' epochs: BayesFlow's <c>fit_offline</c>
    /// after <c>simulator.sample(num_simulations)</c>.
    /// </summary>
    /// <param name="numSimulations">Training rows; at least the batch size.</param>
    /// <param name="validationSets">Held-out simulations scored after every epoch (0 for none).</param>
    /// <param name="options">Optimization settings.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    /// <exception cref="InvalidOperationException">The workflow has no in-process simulator.</exception>
    public TrainingHistory FitOffline(int numSimulations, int validationSets, TrainingOptions options, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var simulator = RequireSimulator();
        if (numSimulations < options.BatchSize)
            throw new ArgumentException($"numSimulations ({numSimulations}) must be at least the batch size ({options.BatchSize}).");
        var validation = validationSets > 0 ? simulator.Sample(validationSets, options.Seed ^ 0xA5A5A5A5UL) : null;
        return FitOffline(simulator.Sample(numSimulations, options.Seed), validation, options, observer, cancellationToken);
    }

    /// <summary>
    /// Fits the adapter on <paramref name="data"/> (if it is not fitted yet) and trains on its rows for the options'
    /// epochs, as BayesFlow's <c>fit_offline</c> does with a dict of arrays.
    /// </summary>
    /// <param name="data">The training simulations: every inference and condition variable, one row per simulation.</param>
    /// <param name="validation">Held-out simulations scored after every epoch, or null.</param>
    /// <param name="options">Optimization settings.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    public TrainingHistory FitOffline(ArrayBatch data, ArrayBatch? validation, TrainingOptions options, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rows < options.BatchSize)
            throw new ArgumentException($"The training data has {data.Rows} rows; it must have at least the batch size ({options.BatchSize}).");
        var train = Prepare(data);
        using var source = new OfflineSource(train);
        return Train(source, validation is null ? null : ValidationRows(validation), options, new { Mode = "offline", NumSimulations = data.Rows, ValidationSets = validation?.Rows ?? 0 }, observer, cancellationToken);
    }

    /// <summary>
    /// Trains on fresh simulations from the in-process simulator every batch (BayesFlow's <c>fit_online</c>); the adapter
    /// is fitted on a first batch of <paramref name="fitSimulations"/> rows if needed.
    /// </summary>
    /// <param name="validationSets">Held-out simulations scored after every epoch (0 for none).</param>
    /// <param name="options">Optimization settings; <see cref="TrainingOptions.BatchesPerEpoch"/> sets the epoch length.</param>
    /// <param name="fitSimulations">Rows simulated to fit the adapter.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    /// <exception cref="InvalidOperationException">The workflow has no in-process simulator.</exception>
    public TrainingHistory FitOnline(int validationSets, TrainingOptions options, int fitSimulations = 4096, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var simulator = RequireSimulator();
        var validation = validationSets > 0 ? simulator.Sample(validationSets, options.Seed ^ 0xA5A5A5A5UL) : null;
        return FitOnline(simulator.Sample, validation, options, fitSimulations, observer, cancellationToken);
    }

    /// <summary>
    /// Trains on fresh simulations every batch, as BayesFlow's <c>fit_online</c> does: <paramref name="simulate"/>(rows, seed)
    /// returns <c>rows</c> new simulations, deterministically for the seed, so a resumed run sees the same batches.
    /// The adapter is fitted, if it is not yet, on one first call of <paramref name="fitSimulations"/> rows.
    /// </summary>
    /// <param name="simulate">Simulates a batch: (rows, seed) → arrays with a leading dimension of <c>rows</c>.</param>
    /// <param name="validation">Held-out simulations scored after every epoch, or null.</param>
    /// <param name="options">Optimization settings; <see cref="TrainingOptions.BatchesPerEpoch"/> sets the epoch length.</param>
    /// <param name="fitSimulations">Rows simulated to fit the adapter.</param>
    /// <param name="observer">Progress receiver, or null.</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    public TrainingHistory FitOnline(Func<int, ulong, ArrayBatch> simulate, ArrayBatch? validation, TrainingOptions options, int fitSimulations = 4096, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(simulate);
        Prepare(simulate(fitSimulations, options.Seed));
        var source = new OnlineSource((rows, seed) => ToNetwork(simulate(rows, seed)));
        return Train(source, validation is null ? null : ValidationRows(validation), options, new { Mode = "online", ValidationSets = validation?.Rows ?? 0 }, observer, cancellationToken);
    }

    /// <summary>
    /// Writes the trained network, the fitted adapter and the training record to a bundle (atomically), which
    /// <c>PosteriorModel.Load(path)</c> samples from.
    /// </summary>
    /// <param name="path">The bundle to write, conventionally ending in ".onnxsbi".</param>
    /// <param name="description">A line for people, stored in the manifest (e.g. the model and the data).</param>
    /// <param name="metrics">Scores to record in the manifest (e.g. a C2ST), or null.</param>
    /// <exception cref="InvalidOperationException">Nothing was trained yet.</exception>
    public BundleManifest Export(string path, string description, IReadOnlyDictionary<string, double>? metrics = null)
    {
        if (History is null) throw new InvalidOperationException("Train the network (FitOffline or FitOnline) before exporting it.");
        return BundleExporter.Export(path, Network, new BundleDescription(Adapter, InferenceSpecs, ConditionSpecs, History, configuration, description, metrics));
    }

    /// <inheritdoc />
    public void Dispose() => network?.Dispose();

    /// <summary>Builds the network for the adapted widths and runs the trainer on <paramref name="source"/>; the record of the run keeps <paramref name="mode"/>.</summary>
    private TrainingHistory Train(TrainingSource source, NetworkData? validation, TrainingOptions options, object mode, ITrainingObserver? observer, CancellationToken cancellationToken)
    {
        var (d, c) = widths ?? throw new InvalidOperationException("No simulations were adapted yet, so the network's widths are unknown.");
        EnsureNetwork(d, c, options.Seed);
        configuration = new { Mode = mode, Training = options, Network = network!.Describe() };
        History = NetworkTrainer.Fit(network!, source, validation, options, observer, cancellationToken);
        return History;
    }

    private Simulator RequireSimulator() => Simulator
        ?? throw new InvalidOperationException("This workflow has no in-process simulator; pass the simulations to FitOffline or a simulate function to FitOnline.");

    /// <summary>Records the variables' shapes, fits the adapter if it is not fitted yet, and adapts the rows.</summary>
    private NetworkData Prepare(ArrayBatch raw)
    {
        InferenceSpecs = Specs(raw, InferenceVariables);
        ConditionSpecs = Specs(raw, ConditionVariables);
        FitAdapter(raw);
        var adapted = ToNetwork(raw);
        widths = (adapted.InferenceDim, adapted.ConditionDim);
        return adapted;
    }

    /// <summary>
    /// Fits the adapter, unless it is fitted already, on the rows of <paramref name="simulations"/> without a NaN or
    /// infinite value: the rows training fits it on. Returns the fitted adapter.
    /// </summary>
    /// <param name="simulations">User-side variables, one row per simulation.</param>
    /// <exception cref="OnnxSbiException">Every row has a non-finite value.</exception>
    public Adapter FitAdapter(ArrayBatch simulations)
    {
        ArgumentNullException.ThrowIfNull(simulations);
        if (!Adapter.IsFitted) Adapter.Fit(FiniteRows(simulations, "the adapter is fitted on"));
        return Adapter;
    }

    /// <summary>
    /// The rows of <paramref name="raw"/> whose inference and condition variables are all finite: the adapter's
    /// statistics are fitted on those, and rows that failed to simulate are left to the training's skip-or-fail policy
    /// (<see cref="TrainingOptions.SkipNonFiniteRows"/>).
    /// </summary>
    private ArrayBatch FiniteRows(ArrayBatch raw, string purpose)
    {
        var keep = FiniteRowIndices(raw);
        if (keep.Count == raw.Rows) return raw;
        if (keep.Count == 0)
            throw new OnnxSbiException($"Every one of the {raw.Rows} simulations {purpose} has a NaN or infinite value in {string.Join(", ", InferenceVariables.Concat(ConditionVariables).Select(n => $"'{n}'"))}; check the simulator.");
        return SelectRows(raw, keep);
    }

    /// <summary>Validation simulations for the network: failed ones (NaN or infinite) are left out, so the validation loss stays finite.</summary>
    private NetworkData ValidationRows(ArrayBatch raw) => ToNetwork(FiniteRows(raw, "held out for validation"));

    private List<int> FiniteRowIndices(ArrayBatch raw)
    {
        var names = InferenceVariables.Concat(ConditionVariables).ToArray();
        var keep = new List<int>(raw.Rows);
        for (int r = 0; r < raw.Rows; r++)
        {
            bool finite = true;
            foreach (string n in names)
            {
                int w = raw.Width(n);
                foreach (double v in raw.Get(n).AsSpan(r * w, w)) finite &= double.IsFinite(v);
            }
            if (finite) keep.Add(r);
        }
        return keep;
    }

    private static ArrayBatch SelectRows(ArrayBatch raw, List<int> rows)
    {
        var selected = new ArrayBatch(rows.Count);
        foreach (string n in raw.Names)
        {
            int w = raw.Width(n);
            var src = raw.Get(n);
            var dst = new double[rows.Count * w];
            for (int i = 0; i < rows.Count; i++) Array.Copy(src, rows[i] * w, dst, i * w, w);
            selected.Set(n, dst, [.. raw.SampleShape(n)]);
        }
        return selected;
    }

    /// <summary>
    /// Runs the adapter forward on <paramref name="raw"/> simulations and returns the network-side float rows (θ [N, D],
    /// conditions [N, C]). A simulation with a NaN or infinite value becomes a row of NaN, so that training skips and
    /// counts it, or stops naming it, as <see cref="TrainingOptions.SkipNonFiniteRows"/> says.
    /// </summary>
    /// <param name="raw">User-side variables, one row per simulation.</param>
    public NetworkData ToNetwork(ArrayBatch raw)
    {
        var finite = FiniteRowIndices(raw);
        if (finite.Count == raw.Rows) return Adapt(raw);
        var good = finite.Count > 0 ? Adapt(SelectRows(raw, finite)) : null;
        var (d, c) = good is not null ? (good.InferenceDim, good.ConditionDim) : widths
            ?? throw new OnnxSbiException($"Every one of the {raw.Rows} simulations has a NaN or infinite value; check the simulator.");
        var theta = new float[raw.Rows * d];
        var conditions = new float[raw.Rows * c];
        Array.Fill(theta, float.NaN);
        Array.Fill(conditions, float.NaN);
        for (int i = 0; i < finite.Count; i++)
        {
            Array.Copy(good!.Theta, i * d, theta, finite[i] * d, d);
            Array.Copy(good.Conditions, i * c, conditions, finite[i] * c, c);
        }
        return new NetworkData(theta, d, conditions, c);
    }

    private NetworkData Adapt(ArrayBatch raw)
    {
        var adapted = Adapter.Forward(raw);
        if (!adapted.Contains(Adapter.InferenceVariables))
            throw new OnnxSbiException($"The adapter must produce '{Adapter.InferenceVariables}'; it produced {string.Join(", ", adapted.Names.Select(n => $"'{n}'"))}. Rename the parameters to it.");
        var theta = Adapter.ToNetwork(adapted, Adapter.InferenceVariables);
        int d = adapted.Width(Adapter.InferenceVariables);
        int c = adapted.Contains(Adapter.InferenceConditions) ? adapted.Width(Adapter.InferenceConditions) : 0;
        var conditions = c > 0 ? Adapter.ToNetwork(adapted, Adapter.InferenceConditions) : [];
        return new NetworkData(theta, d, conditions, c);
    }

    private void EnsureNetwork(int d, int c, ulong seed)
    {
        if (network is null)
        {
            // Layer initializers (and dropout) draw from libtorch's global generator; seeding it here makes
            // the initial weights, and with them the whole run, a function of the training seed, so a
            // killed and resumed run reproduces an uninterrupted one exactly.
            TorchSharp.torch.random.manual_seed(unchecked((long)seed));
            network = networkFactory(d, c);
        }
        else if (network.InferenceDim != d || network.ConditionDim != c)
            throw new ShapeMismatchException("network", $"D={network.InferenceDim}, C={network.ConditionDim}", $"D={d}, C={c}");
    }

    private static List<VariableSpec> Specs(ArrayBatch raw, IReadOnlyList<string> names) => names.Select(n =>
    {
        if (!raw.Contains(n)) throw new UnknownVariableException(n, raw.Names, "simulator output");
        var spec = new VariableSpec { Name = n };
        spec.Shape.Add(raw.SampleShape(n).Select(d => (long)d));
        return spec;
    }).ToList();
}
