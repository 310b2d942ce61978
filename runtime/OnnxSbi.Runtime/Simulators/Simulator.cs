namespace OnnxSbi.Runtime.Simulators;

/// <summary>
/// A simulator composed of named steps run in order, each seeing the outputs of those before it, in
/// the spirit of BayesFlow's <c>make_simulator([prior, likelihood])</c>. Batched and reproducible: the
/// results are a function of the seed and the sequence of calls.
/// </summary>
/// <example>
/// <code>
/// var simulator = Simulator.Create(seed: 42)
///     .Add("prior", ctx =>
///     {
///         double[] mu = ctx.Output("mu");                // a scalar per row
///         for (int i = 0; i &lt; ctx.Rows; i++) mu[i] = ctx.Random.NextNormal(0, 1);
///     })
///     .Add("likelihood", ctx =>
///     {
///         double[] mu = ctx.Get("mu");
///         double[] y = ctx.Output("y", 3);               // three observations per row
///         for (int i = 0; i &lt; ctx.Rows; i++)
///             for (int j = 0; j &lt; 3; j++) y[i * 3 + j] = ctx.Random.NextNormal(mu[i], 0.5);
///     });
/// ArrayBatch batch = simulator.Sample(1024);            // "mu" [1024], "y" [1024, 3]
/// ArrayBatch chunk = simulator.Sample(1024, seed: 7);   // the same for every call with seed 7
/// </code>
/// </example>
/// <remarks>
/// A step that throws is reported as an <see cref="OnnxSbiException"/> naming the step, and an output
/// holding NaN or infinity as a <see cref="NonFiniteValueException"/> naming the variable, the row and
/// the step; no simulation is silently dropped. Not thread-safe: use one simulator per thread, or the
/// seeded <see cref="Sample(int, ulong)"/>, which keeps no state between calls (thread-safe as long as
/// the steps are).
/// </remarks>
public sealed class Simulator
{
    private readonly List<(string Name, SimulatorStep Step)> _steps = [];
    private readonly SimulationRandom _random;

    private Simulator(ulong seed)
    {
        Seed = seed;
        _random = new SimulationRandom(seed);
    }

    /// <summary>An empty simulator whose unseeded <see cref="Sample(int)"/> calls draw from one stream seeded by <paramref name="seed"/>.</summary>
    public static Simulator Create(ulong seed) => new(seed);

    /// <summary>The seed given to <see cref="Create"/>.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// Whether an output holding NaN or infinity stops <c>Sample</c> with a <see cref="NonFiniteValueException"/>:
    /// true unless <see cref="KeepNonFiniteRows"/> was called.
    /// </summary>
    public bool RejectsNonFinite { get; private set; } = true;

    /// <summary>
    /// Lets outputs hold NaN or infinity, for a simulator whose simulations can fail (an ODE solve that does not
    /// converge) and that marks a failed row NaN. Training then skips and counts such rows, or stops naming the
    /// first, as <c>TrainingOptions.SkipNonFiniteRows</c> says, which is how sbi and BayesFlow treat failed simulations.
    /// </summary>
    public Simulator KeepNonFiniteRows()
    {
        RejectsNonFinite = false;
        return this;
    }

    /// <summary>The step names, in the order they run.</summary>
    public IReadOnlyList<string> StepNames => _steps.Select(s => s.Name).ToArray();

    /// <summary>Appends a step; it runs after every step added before it.</summary>
    public Simulator Add(string name, SimulatorStep step)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(step);
        if (_steps.Any(s => s.Name == name)) throw new ArgumentException($"A step named '{name}' already exists.", nameof(name));
        _steps.Add((name, step));
        return this;
    }

    /// <summary>
    /// Simulates <paramref name="batchSize"/> rows, continuing the simulator's own random stream, so
    /// that a sequence of calls is reproducible from <see cref="Seed"/>.
    /// </summary>
    public ArrayBatch Sample(int batchSize) => Run(batchSize, _random);

    /// <summary>
    /// Simulates <paramref name="batchSize"/> rows from a fresh stream seeded by <paramref name="seed"/>,
    /// independent of earlier calls: chunk k of a large simulation can use seed <c>base + k</c> and be
    /// recomputed alone (SplitMix64 seeding makes nearby seeds unrelated).
    /// </summary>
    public ArrayBatch Sample(int batchSize, ulong seed) => Run(batchSize, new SimulationRandom(seed));

    private ArrayBatch Run(int batchSize, SimulationRandom random)
    {
        if (batchSize < 0) throw new InvalidRequestException($"The batch size must be zero or more; received {batchSize}.");
        if (_steps.Count == 0) throw new InvalidRequestException("The simulator has no steps; add at least one with Simulator.Add.");
        var context = new SimulationContext(batchSize, random);
        foreach (var (name, step) in _steps)
        {
            context.BeginStep(name);
            try
            {
                step(context);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new OnnxSbiException($"Simulator step '{name}' failed: {ex.Message}", ex);
            }
            if (RejectsNonFinite)
                foreach (string output in context.CurrentOutputs) RequireFinite(context.Batch, output, name);
        }
        return context.Batch;
    }

    private static void RequireFinite(ArrayBatch batch, string output, string step)
    {
        double[] data = batch.Get(output);
        for (int i = 0; i < data.Length; i++)
        {
            if (!double.IsFinite(data[i]))
                throw new NonFiniteValueException(output, i / batch.Width(output), data[i], $"produced by simulator step '{step}'");
        }
    }
}
