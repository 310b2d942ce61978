using OnnxSbi.Contracts.Manifest;
using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Trainer.Export;
using OnnxSbi.Trainer.Networks;
using OnnxSbi.Trainer.Training;

namespace OnnxSbi.Trainer.Workflows;

/// <summary>
/// Simulator + adapter + network, trained offline or online and exported as a bundle: the C#
/// counterpart of BayesFlow's BasicWorkflow. The network is built once the adapter is fitted, when
/// the network-side widths D and C are known.
/// </summary>
/// <example>
/// <code>
/// var workflow = new BasicWorkflow(TwoMoons.CreateSimulator(seed: 1), adapter, ["theta"], ["x"],
///     (d, c) => new FlowMatching(d, c, FlowMatchingOptions.Default));
/// workflow.FitOffline(numSimulations: 32_768, validationSets: 300, new TrainingOptions { Epochs = 50 });
/// workflow.Export("flow_matching.onnxsbi", "two moons, flow matching");
/// </code>
/// </example>
public sealed class BasicWorkflow : IDisposable
{
    private readonly Func<int, int, PosteriorNetwork> networkFactory;
    private PosteriorNetwork? network;
    private object configuration = new { };

    /// <summary>Creates the workflow.</summary>
    /// <param name="simulator">Produces the training data (parameters and observations).</param>
    /// <param name="adapter">The data pipeline; fitted on the training data if it is not yet.</param>
    /// <param name="inferenceVariables">User-side names of the parameters (e.g. "theta").</param>
    /// <param name="conditionVariables">User-side names of the observations (e.g. "x").</param>
    /// <param name="networkFactory">Builds the network for (D, C).</param>
    public BasicWorkflow(Simulator simulator, Adapter adapter, IReadOnlyList<string> inferenceVariables, IReadOnlyList<string> conditionVariables, Func<int, int, PosteriorNetwork> networkFactory)
    {
        Simulator = simulator;
        Adapter = adapter;
        InferenceVariables = inferenceVariables;
        ConditionVariables = conditionVariables;
        this.networkFactory = networkFactory;
    }

    /// <summary>The simulator.</summary>
    public Simulator Simulator { get; }

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

    /// <summary>Simulates <paramref name="numSimulations"/> rows, fits the adapter, and trains on them for the options' epochs.</summary>
    public TrainingHistory FitOffline(int numSimulations, int validationSets, TrainingOptions options, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        if (numSimulations < options.BatchSize)
            throw new ArgumentException($"numSimulations ({numSimulations}) must be at least the batch size ({options.BatchSize}).");
        var raw = Simulator.Sample(numSimulations, options.Seed);
        var train = Prepare(raw);
        var validation = validationSets > 0 ? ToNetwork(Simulator.Sample(validationSets, options.Seed ^ 0xA5A5A5A5UL)) : null;
        EnsureNetwork(train.InferenceDim, train.ConditionDim, options.Seed);
        configuration = new { Mode = "offline", NumSimulations = numSimulations, ValidationSets = validationSets, Training = options, Network = network!.Describe() };
        using var source = new OfflineSource(train);
        History = NetworkTrainer.Fit(network!, source, validation, options, observer, cancellationToken);
        return History;
    }

    /// <summary>Trains on fresh simulations every batch; the adapter is fitted on a first batch of <paramref name="fitSimulations"/> rows if needed.</summary>
    public TrainingHistory FitOnline(int validationSets, TrainingOptions options, int fitSimulations = 4096, ITrainingObserver? observer = null, CancellationToken cancellationToken = default)
    {
        var first = Prepare(Simulator.Sample(fitSimulations, options.Seed));
        var validation = validationSets > 0 ? ToNetwork(Simulator.Sample(validationSets, options.Seed ^ 0xA5A5A5A5UL)) : null;
        EnsureNetwork(first.InferenceDim, first.ConditionDim, options.Seed);
        configuration = new { Mode = "online", ValidationSets = validationSets, Training = options, Network = network!.Describe() };
        var source = new OnlineSource((rows, seed) => ToNetwork(Simulator.Sample(rows, seed)));
        History = NetworkTrainer.Fit(network!, source, validation, options, observer, cancellationToken);
        return History;
    }

    /// <summary>Writes the trained network, adapter and record to a bundle (atomically).</summary>
    public BundleManifest Export(string path, string description, IReadOnlyDictionary<string, double>? metrics = null)
    {
        if (History is null) throw new InvalidOperationException("Train the network (FitOffline or FitOnline) before exporting it.");
        return BundleExporter.Export(path, Network, new BundleDescription(Adapter, InferenceSpecs, ConditionSpecs, History, configuration, description, metrics));
    }

    /// <inheritdoc />
    public void Dispose() => network?.Dispose();

    private NetworkData Prepare(ArrayBatch raw)
    {
        InferenceSpecs = Specs(raw, InferenceVariables);
        ConditionSpecs = Specs(raw, ConditionVariables);
        if (!Adapter.IsFitted) Adapter.Fit(raw);
        return ToNetwork(raw);
    }

    /// <summary>Runs the adapter forward and returns the network-side float rows.</summary>
    public NetworkData ToNetwork(ArrayBatch raw)
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
