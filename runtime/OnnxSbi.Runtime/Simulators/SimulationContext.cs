namespace OnnxSbi.Runtime.Simulators;

/// <summary>
/// What a <see cref="SimulatorStep"/> sees: the batch size, the simulator's random number generator,
/// the outputs of the steps before it, and a place to put its own outputs. Valid only during the call.
/// </summary>
public sealed class SimulationContext
{
    private readonly ArrayBatch _batch;
    private readonly Dictionary<string, string> _producers = new(StringComparer.Ordinal);
    private readonly List<string> _currentOutputs = [];
    private string _currentStep = "";

    internal SimulationContext(int rows, SimulationRandom random)
    {
        _batch = new ArrayBatch(rows);
        Random = random;
    }

    /// <summary>The number of simulations in the batch (rows of every output).</summary>
    public int Rows => _batch.Rows;

    /// <summary>The simulator's generator; draw everything from it so that results follow the seed.</summary>
    public SimulationRandom Random { get; }

    /// <summary>True when an earlier step (or this one) has produced <paramref name="name"/>.</summary>
    public bool Contains(string name) => _batch.Contains(name);

    /// <summary>The values of an output produced earlier, row-major [Rows, width]; shared, not copied.</summary>
    /// <exception cref="UnknownVariableException">No step has produced <paramref name="name"/> yet.</exception>
    public double[] Get(string name) => _batch.Get(name);

    /// <summary>The per-sample shape of an output produced earlier.</summary>
    public IReadOnlyList<int> SampleShape(string name) => _batch.SampleShape(name);

    /// <summary>The number of values per row of an output produced earlier.</summary>
    public int Width(string name) => _batch.Width(name);

    /// <summary>
    /// Creates the output <paramref name="name"/> with per-sample shape <paramref name="sampleShape"/>
    /// (none for a scalar per row) and returns its zeroed row-major array [Rows, …] for the step to fill.
    /// </summary>
    public double[] Output(string name, params int[] sampleShape)
    {
        var data = new double[(long)Rows * ArrayBatch.WidthOf(sampleShape)];
        Set(name, data, sampleShape);
        return data;
    }

    /// <summary>Adds an output array the step has filled itself, row-major [Rows, sampleShape…]; kept, not copied.</summary>
    public void Set(string name, double[] data, params int[] sampleShape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(data);
        if (_producers.TryGetValue(name, out string? producer))
            throw new OnnxSbiException($"Output '{name}' was already produced by step '{producer}'; every output needs its own name.");
        _batch.Set(name, data, sampleShape);
        _producers[name] = _currentStep;
        _currentOutputs.Add(name);
    }

    internal void BeginStep(string step)
    {
        _currentStep = step;
        _currentOutputs.Clear();
    }

    /// <summary>Names the outputs the current step produced, for checking.</summary>
    internal IReadOnlyList<string> CurrentOutputs => _currentOutputs;

    internal ArrayBatch Batch => _batch;
}
