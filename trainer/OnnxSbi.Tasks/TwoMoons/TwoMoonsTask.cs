using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// The reference workload: BayesFlow's "Two Moons" tutorial (sbibm's two_moons): the <see cref="TwoMoons"/> simulator,
/// the tutorial's adapter and budget, and the exact posterior of <see cref="TwoMoonsPosterior"/>.
/// </summary>
public sealed class TwoMoonsTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "two_moons";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "two moons";

    /// <inheritdoc/>
    public override string ParameterName => TwoMoons.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => 2;

    /// <inheritdoc/>
    public override string ObservationName => TwoMoons.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => 2;

    /// <summary>The tutorial's offline budget: 512 batches of 64, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 512, BatchSize: 64, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => TwoMoons.NumTestObservations;

    /// <inheritdoc/>
    public override Simulator CreateSimulator(ulong seed) => TwoMoons.CreateSimulator(seed);

    /// <summary>
    /// The tutorial's adapter: to_array → convert float64 to float32 → standardize everything except
    /// theta → rename theta to inference_variables and x to inference_conditions.
    /// </summary>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Standardize(exclude: [TwoMoons.Parameters])
        .Rename(TwoMoons.Parameters, Adapter.InferenceVariables)
        .Rename(TwoMoons.Observations, Adapter.InferenceConditions);

    /// <summary>Exact draws by rejection from the prior (<see cref="TwoMoonsPosterior.SampleExact(double, double, int, ulong)"/>).</summary>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        if (observation.Length != ObservationDim)
            throw new InvalidRequestException($"Observation '{ObservationName}' of task '{Name}' has shape [{ObservationDim}]; received {observation.Length} values.");
        return TwoMoonsPosterior.SampleExact(observation[0], observation[1], draws, seed);
    }

    /// <summary>x = (0, 0), where the posterior is the two crescents of the tutorial's figure.</summary>
    public override double[] PrimaryObservation() => [0.0, 0.0];

    /// <inheritdoc/>
    public override double[] TestObservations() => TwoMoons.TestObservations();
}
