using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's gaussian_mixture: the <see cref="GaussianMixture"/> simulator (θ ~ U[−10, 10]², x ~ ½·N(θ, I₂) +
/// ½·N(θ, 0.01·I₂)), and its exact posterior, the two components centred on x truncated to the box, as the reference.
/// </summary>
public sealed class GaussianMixtureTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "gaussian_mixture";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "Gaussian mixture";

    /// <inheritdoc/>
    public override string ParameterName => GaussianMixture.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => GaussianMixture.Dim;

    /// <inheritdoc/>
    public override string ObservationName => GaussianMixture.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => GaussianMixture.Dim;

    /// <summary>sbibm's middle budget, 10,000 simulations: 100 batches of 100, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 100, BatchSize: 100, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => GaussianMixture.NumTestObservations;

    /// <inheritdoc/>
    public override Simulator CreateSimulator(ulong seed) => GaussianMixture.CreateSimulator(seed);

    /// <summary>
    /// to_array → convert float64 to float32 → standardize x only → rename theta to inference_variables and x to
    /// inference_conditions (the two-moons tutorial's adapter).
    /// </summary>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Standardize(exclude: [GaussianMixture.Parameters])
        .Rename(GaussianMixture.Parameters, Adapter.InferenceVariables)
        .Rename(GaussianMixture.Observations, Adapter.InferenceConditions);

    /// <summary>Unique iid draws of the exact posterior, the box-truncated mixture of N(x, I₂) and N(x, 0.01·I₂).</summary>
    /// <exception cref="InvalidRequestException">The observation does not have 2 finite values, or draws is negative.</exception>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        ReferenceDraws.CheckRequest(this, observation, draws);
        return GaussianMixturePosterior.Sample(this, observation, draws, seed);
    }

    /// <summary>The first test observation.</summary>
    public override double[] PrimaryObservation() => TestObservations()[..ObservationDim];

    /// <inheritdoc/>
    public override double[] TestObservations() => GaussianMixture.TestObservations();
}
