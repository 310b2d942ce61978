using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's bernoulli_glm task: the <see cref="BernoulliGlm"/> simulator, the two-moons adapter recipe, a budget of 10⁴ simulations,
/// and a reference posterior from slice sampling plus rejection on the exact likelihood (<see cref="BernoulliGlmPosterior"/>).
/// </summary>
public sealed class BernoulliGlmTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "bernoulli_glm";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "Bernoulli GLM";

    /// <inheritdoc/>
    public override string ParameterName => BernoulliGlm.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => BernoulliGlm.ParameterDim;

    /// <inheritdoc/>
    public override string ObservationName => BernoulliGlm.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => BernoulliGlm.ObservationDim;

    /// <summary>10,000 simulations (100 batches of 100), sbibm's middle budget, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 100, BatchSize: 100, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => BernoulliGlm.NumTestObservations;

    /// <inheritdoc/>
    public override Simulator CreateSimulator(ulong seed) => BernoulliGlm.CreateSimulator(seed);

    /// <summary>
    /// As two moons: to_array → convert float64 to float32 → standardize the observations (not θ) → rename theta to
    /// inference_variables and x to inference_conditions.
    /// </summary>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Standardize(exclude: [BernoulliGlm.Parameters])
        .Rename(BernoulliGlm.Parameters, Adapter.InferenceVariables)
        .Rename(BernoulliGlm.Observations, Adapter.InferenceConditions);

    /// <summary>Exact draws by slice sampling and rejection on the exact likelihood of the sufficient statistics (the posterior is log-concave).</summary>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
        => SampleReferenceRun(observation, draws, seed).Draws;

    /// <inheritdoc/>
    public override ReferenceRun SampleReferenceRun(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        ValidateObservation(observation);
        return BernoulliGlmPosterior.Sample(observation, draws, seed);
    }

    /// <summary>The first test observation.</summary>
    public override double[] PrimaryObservation() => TestObservations()[..ObservationDim];

    /// <inheritdoc/>
    public override double[] TestObservations() => BernoulliGlm.TestObservations();

    /// <summary>The true parameters θ* the test observations were simulated from, row-major [10 × 10].</summary>
    public double[] TrueParameters() => BernoulliGlm.TrueParameters();
}
