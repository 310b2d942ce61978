using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's sir task: the <see cref="Sir"/> simulator (failed solves kept as NaN rows), an adapter that trains in
/// log θ and on √x, a budget of 10⁴ simulations, and a reference posterior from slice sampling plus rejection on
/// the exact likelihood (<see cref="SirPosterior"/>).
/// </summary>
public sealed class SirTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "sir";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "SIR";

    /// <inheritdoc/>
    public override string ParameterName => Sir.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => Sir.ParameterDim;

    /// <inheritdoc/>
    public override string ObservationName => Sir.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => Sir.ObservationDim;

    /// <summary>10,000 simulations (100 batches of 100), sbibm's middle budget, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 100, BatchSize: 100, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => Sir.NumTestObservations;

    /// <summary>
    /// The <see cref="Sir"/> simulator with <see cref="Simulator.KeepNonFiniteRows"/>: a failed ODE solve is a NaN
    /// row, which training skips and counts or stops at (<c>--skip-bad-rows</c>), as sbi drops sbibm's NaN rows.
    /// </summary>
    public override Simulator CreateSimulator(ulong seed) => Sir.CreateSimulator(seed).KeepNonFiniteRows();

    /// <summary>
    /// to_array → convert float64 to float32 → log θ → standardize log θ with the prior's fixed moments → √x →
    /// standardize x (fitted) → rename theta to inference_variables and x to inference_conditions.
    /// </summary>
    /// <remarks>
    /// The prior is log-normal, so (log θ − μ)/σ is exactly N(0, I) under it: the network learns a density on ℝ²
    /// near its latent's scale, and the inverse (exp) keeps every draw inside the support θ &gt; 0. The counts
    /// are Binomial(1000, p) with small p, whose variance grows with the mean; √x makes it nearly constant
    /// (Anscombe 1948), so the small counts of the epidemic's rise and tail, which carry most of the information
    /// on β and γ, are not squashed by the peak's hundreds. √x, unlike log x, is defined at the frequent zeros.
    /// sbibm's algorithms z-score θ and x only; the extra steps are invertible and change no posterior.
    /// </remarks>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Log(Sir.Parameters)
        .Standardize(Sir.Parameters, Sir.PriorLogMean.ToArray(), Sir.PriorLogStd.ToArray())
        .Sqrt(Sir.Observations)
        .Standardize(exclude: [Sir.Parameters])
        .Rename(Sir.Parameters, Adapter.InferenceVariables)
        .Rename(Sir.Observations, Adapter.InferenceConditions);

    /// <summary>Exact draws by slice sampling in log θ and rejection on the exact likelihood (one ODE solve per evaluation).</summary>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
        => SampleReferenceRun(observation, draws, seed).Draws;

    /// <inheritdoc/>
    public override ReferenceRun SampleReferenceRun(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        ValidateObservation(observation);
        return SirPosterior.Sample(observation, draws, seed);
    }

    /// <summary>The first test observation.</summary>
    public override double[] PrimaryObservation() => TestObservations()[..ObservationDim];

    /// <inheritdoc/>
    public override double[] TestObservations() => Sir.TestObservations();

    /// <summary>The true parameters θ* the test observations were simulated from, row-major [10 × 2].</summary>
    public double[] TrueParameters() => Sir.TrueParameters();
}
