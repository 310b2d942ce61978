using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Adapters;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Reference;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's lotka_volterra task: the <see cref="LotkaVolterra"/> simulator (failed solves kept as NaN rows), an
/// adapter that trains in log θ and on log x, a budget of 10⁴ simulations, and a reference posterior from slice
/// sampling plus rejection on the exact likelihood (<see cref="LotkaVolterraPosterior"/>).
/// </summary>
public sealed class LotkaVolterraTask : SbiTask
{
    /// <summary>The task's name on the command line.</summary>
    public const string TaskName = "lotka_volterra";

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Title => "Lotka–Volterra";

    /// <inheritdoc/>
    public override string ParameterName => LotkaVolterra.Parameters;

    /// <inheritdoc/>
    public override int ParameterDim => LotkaVolterra.ParameterDim;

    /// <inheritdoc/>
    public override string ObservationName => LotkaVolterra.Observations;

    /// <inheritdoc/>
    public override int ObservationDim => LotkaVolterra.ObservationDim;

    /// <summary>10,000 simulations (100 batches of 100), sbibm's middle budget, and 300 validation sets.</summary>
    public override TrainingBudget SeedBudget { get; } = new(Batches: 100, BatchSize: 100, ValidationSets: 300);

    /// <inheritdoc/>
    public override int NumTestObservations => LotkaVolterra.NumTestObservations;

    /// <summary>
    /// The <see cref="LotkaVolterra"/> simulator with <see cref="Simulator.KeepNonFiniteRows"/>: a failed ODE solve
    /// (prior-tail rates whose cycles exhaust the step cap) is a NaN row, which training skips and counts or stops
    /// at (<c>--skip-bad-rows</c>), as sbi drops sbibm's NaN rows.
    /// </summary>
    public override Simulator CreateSimulator(ulong seed) => LotkaVolterra.CreateSimulator(seed).KeepNonFiniteRows();

    /// <summary>
    /// to_array → convert float64 to float32 → log θ → standardize log θ with the prior's fixed moments → log x →
    /// standardize x (fitted) → rename theta to inference_variables and x to inference_conditions.
    /// </summary>
    /// <remarks>
    /// The prior is log-normal, so (log θ − μ)/σ is exactly N(0, I) under it: β and δ, whose prior medians are
    /// e⁻³ ≈ 0.05, get the same scale as α and γ, and the inverse (exp) keeps every draw inside θ &gt; 0. The
    /// observations are log-normal around populations that span 10⁻¹⁰ to 10⁴; in log x the noise is additive
    /// N(0, 0.1²) and the populations' orders of magnitude become a range a network can read, where z-scored x
    /// would be ruled by a few peaks near 10⁴ and flatten every trough to the same value. sbibm's algorithms
    /// z-score θ and x only; the extra steps are invertible and change no posterior.
    /// </remarks>
    public override Adapter CreateAdapter() => Adapter.Create()
        .ToArray()
        .ConvertDtype(Dtype.Float64, Dtype.Float32)
        .Log(LotkaVolterra.Parameters)
        .Standardize(LotkaVolterra.Parameters, LotkaVolterra.PriorLogMean.ToArray(), LotkaVolterra.PriorLogStd.ToArray())
        .Log(LotkaVolterra.Observations)
        .Standardize(exclude: [LotkaVolterra.Parameters])
        .Rename(LotkaVolterra.Parameters, Adapter.InferenceVariables)
        .Rename(LotkaVolterra.Observations, Adapter.InferenceConditions);

    /// <summary>Exact draws by slice sampling in log θ and rejection on the exact likelihood (one ODE solve per evaluation).</summary>
    public override double[] SampleReferencePosterior(ReadOnlySpan<double> observation, int draws, ulong seed)
        => SampleReferenceRun(observation, draws, seed).Draws;

    /// <inheritdoc/>
    public override ReferenceRun SampleReferenceRun(ReadOnlySpan<double> observation, int draws, ulong seed)
    {
        ValidateObservation(observation);
        return LotkaVolterraPosterior.Sample(observation, draws, seed);
    }

    /// <summary>The first test observation.</summary>
    public override double[] PrimaryObservation() => TestObservations()[..ObservationDim];

    /// <inheritdoc/>
    public override double[] TestObservations() => LotkaVolterra.TestObservations();

    /// <summary>The true parameters θ* the test observations were simulated from, row-major [10 × 4].</summary>
    public double[] TrueParameters() => LotkaVolterra.TrueParameters();
}
