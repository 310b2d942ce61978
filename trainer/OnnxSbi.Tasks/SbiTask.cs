using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>The budget a task's reference configuration trains with (offline simulation, as the BayesFlow tutorials do).</summary>
/// <param name="Batches">Batches per epoch; the offline training set holds <paramref name="Batches"/> × <paramref name="BatchSize"/> simulations.</param>
/// <param name="BatchSize">Simulations per batch.</param>
/// <param name="ValidationSets">Simulations held out for the validation loss.</param>
public sealed record TrainingBudget(int Batches, int BatchSize, int ValidationSets);

/// <summary>
/// A simulation-based inference task: a simulator of (θ, x), the adapter that prepares its variables for a network,
/// the budget its reference configuration trains with, and a reference posterior to score trained models against at
/// fixed observations (as sbibm defines its tasks, Lueckmann et al. 2021). A new task is one subclass plus one line
/// in <see cref="TaskCatalog"/>.
/// </summary>
/// <remarks>
/// A task has one parameter variable and one observation variable, both vectors; arrays of several draws or
/// observations are row-major, one row per draw or observation.
/// </remarks>
public abstract class SbiTask
{
    /// <summary>The task's name on the command line, e.g. "two_moons".</summary>
    public abstract string Name { get; }

    /// <summary>The task's display name, e.g. "two moons".</summary>
    public abstract string Title { get; }

    /// <summary>The parameter variable the simulator outputs, e.g. "theta".</summary>
    public abstract string ParameterName { get; }

    /// <summary>The length of the parameter vector.</summary>
    public abstract int ParameterDim { get; }

    /// <summary>The observation variable the simulator outputs, e.g. "x".</summary>
    public abstract string ObservationName { get; }

    /// <summary>The length of the observation vector.</summary>
    public abstract int ObservationDim { get; }

    /// <summary>The user-side variables a posterior is over: <see cref="ParameterName"/>.</summary>
    public IReadOnlyList<string> InferenceVariables => [ParameterName];

    /// <summary>The user-side variables a posterior is conditioned on: <see cref="ObservationName"/>.</summary>
    public IReadOnlyList<string> ConditionVariables => [ObservationName];

    /// <summary>The budget the task's reference configuration trains with.</summary>
    public abstract TrainingBudget SeedBudget { get; }

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public abstract int NumTestObservations { get; }

    /// <summary>The task's simulator, reproducible from <paramref name="seed"/>.</summary>
    public abstract Simulator CreateSimulator(ulong seed);

    /// <summary>A new instance of the adapter recipe that maps the simulator's variables to a network's inputs.</summary>
    public abstract Adapter CreateAdapter();

    /// <summary>
    /// <paramref name="draws"/> draws of the reference posterior p(θ | x) at <paramref name="observation"/>, row-major
    /// [draws × <see cref="ParameterDim"/>]; deterministic for a seed.
    /// </summary>
    /// <exception cref="InvalidRequestException">The observation has the wrong length or is not finite, or draws is negative.</exception>
    public abstract double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed);

    /// <summary>
    /// <see cref="SampleReferencePosterior"/> with a record of how the draws were made: the wall time, and for
    /// MCMC-based references the chains' R̂ and effective sample sizes and the rejection step's statistics. The
    /// default wraps <see cref="SampleReferencePosterior"/> and reports no diagnostics (exact methods have none).
    /// </summary>
    /// <exception cref="InvalidRequestException">The observation has the wrong length or is not finite, or draws is negative.</exception>
    public virtual ReferenceRun SampleReferenceRun(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        double[] result = SampleReferencePosterior(observation, draws, seed);
        return new ReferenceRun(result, ParameterDim, clock.Elapsed);
    }

    /// <summary>Throws unless <paramref name="observation"/> has <see cref="ObservationDim"/> finite values.</summary>
    /// <exception cref="InvalidRequestException">The length is wrong or a value is not finite.</exception>
    internal void ValidateObservation(ReadOnlySpan<double> observation)
    {
        if (observation.Length != ObservationDim)
            throw new InvalidRequestException($"Observation '{ObservationName}' of task '{Name}' has shape [{ObservationDim}]; received {observation.Length} values.");
        for (int i = 0; i < observation.Length; i++)
        {
            if (!double.IsFinite(observation[i]))
                throw new InvalidRequestException($"Observation '{ObservationName}' of task '{Name}' must be finite; received {observation[i]} at index {i}.");
        }
    }

    /// <summary>The observation the task's figures and headline score use, length <see cref="ObservationDim"/>.</summary>
    public abstract double[] PrimaryObservation();

    /// <summary>The fixed test observations, row-major [<see cref="NumTestObservations"/> × <see cref="ObservationDim"/>].</summary>
    public abstract double[] TestObservations();

    /// <summary>
    /// The observations a model is scored at, row-major: <see cref="PrimaryObservation"/> first, then the first
    /// <paramref name="testObservations"/> of <see cref="TestObservations"/>.
    /// </summary>
    /// <exception cref="InvalidRequestException"><paramref name="testObservations"/> is outside [0, <see cref="NumTestObservations"/>].</exception>
    public double[] ScoringObservations(int testObservations)
    {
        if (testObservations < 0 || testObservations > NumTestObservations)
            throw new InvalidRequestException($"Argument 'testObservations' must be in [0, {NumTestObservations}] for task '{Name}'; received {testObservations}.");
        return [.. PrimaryObservation(), .. TestObservations().AsSpan(0, ObservationDim * testObservations)];
    }

    /// <summary>A batch of observations for sampling: <paramref name="observations"/> row-major, one row per observation.</summary>
    /// <exception cref="InvalidRequestException">The length is not a multiple of <see cref="ObservationDim"/>.</exception>
    public ArrayBatch ObservationBatch(double[] observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        if (observations.Length % ObservationDim != 0)
            throw new InvalidRequestException($"Observations of task '{Name}' have {ObservationDim} values per row; received {observations.Length} values.");
        return new ArrayBatch(observations.Length / ObservationDim).Set(ObservationName, observations, ObservationDim);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
