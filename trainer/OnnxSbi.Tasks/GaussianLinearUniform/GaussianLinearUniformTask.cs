using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's gaussian_linear_uniform: the <see cref="GaussianLinearUniform"/> simulator (θ ~ U[−1, 1]¹⁰,
/// x ~ N(θ, 0.1·I₁₀)), and its exact posterior, ten independent N(xᵢ, 0.1) truncated to [−1, 1], as the reference.
/// </summary>
public sealed class GaussianLinearUniformTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "gaussian_linear_uniform";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "Gaussian linear uniform";

    /// <inheritdoc/>
    public override string ParameterName => GaussianLinearUniform.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => GaussianLinearUniform.Dim;

    /// <inheritdoc/>
    public override string ObservationName => GaussianLinearUniform.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => GaussianLinearUniform.Dim;

    /// <summary>sbibm's middle budget, 10,000 simulations: 100 batches of 100, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 100, BatchSize: 100, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => GaussianLinearUniform.NumTestObservations;

    /// <inheritdoc/>
    public override Simulator CreateSimulator(ulong seed) => GaussianLinearUniform.CreateSimulator(seed);

    /// <summary>
    /// to_array → convert float64 to float32 → standardize x only → rename theta to inference_variables and x to
    /// inference_conditions (the two-moons tutorial's adapter).
    /// </summary>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Standardize(exclude: [GaussianLinearUniform.Parameters])
        .Rename(GaussianLinearUniform.Parameters, Adapter.InferenceVariables)
        .Rename(GaussianLinearUniform.Observations, Adapter.InferenceConditions);

    /// <summary>Unique iid draws of the exact posterior: each coordinate N(xᵢ, 0.1) truncated to [−1, 1].</summary>
    /// <exception cref="InvalidRequestException">The observation does not have 10 finite values, or draws is negative.</exception>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        ReferenceDraws.CheckRequest(this, observation, draws);
        return GaussianLinearUniformPosterior.Sample(this, observation, draws, seed);
    }

    /// <summary>The first test observation.</summary>
    public override double[] PrimaryObservation() => TestObservations()[..ObservationDim];

    /// <inheritdoc/>
    public override double[] TestObservations() => GaussianLinearUniform.TestObservations();
}
