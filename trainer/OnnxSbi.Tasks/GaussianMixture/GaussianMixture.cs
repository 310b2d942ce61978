using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's gaussian_mixture task (Lueckmann et al. 2021; Sisson et al. 2007): a two-dimensional location observed
/// through a scale mixture, so that the posterior is a broad and a narrow Gaussian around the observation.
/// <list type="bullet">
/// <item>Prior "prior": θ ~ U[−10, 10]², output <see cref="Parameters"/> with shape [2].</item>
/// <item>Likelihood "likelihood": one component k per simulation, each with probability ½ and shared by both
/// coordinates; x ~ N(θ, I₂) for k = 1 and x ~ N(θ, 0.01·I₂) (sd 0.1) for k = 2; output
/// <see cref="Observations"/> [2], in θ's order. For fixed θ each coordinate has variance ½·1 + ½·0.01 = 0.505.</item>
/// </list>
/// </summary>
public static class GaussianMixture
{
    /// <summary>The parameter output, "theta", shape [2].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x", shape [2].</summary>
    public const string Observations = "x";

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public const int NumTestObservations = 10;

    internal const int Dim = 2;
    internal const double PriorLow = -10;
    internal const double PriorHigh = 10;

    /// <summary>The components' standard deviations, σ₁ = 1 and σ₂ = 0.1, each chosen with probability ½.</summary>
    internal static readonly double[] ComponentSds = [1.0, 0.1];

    /// <summary>The seed of the prior-predictive draw that makes the test observations.</summary>
    internal const ulong ObservationSeed = 104;

    /// <summary>The composed gaussian_mixture simulator, reproducible from <paramref name="seed"/>.</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", Prior).Add("likelihood", Likelihood);

    /// <summary>
    /// The ten fixed test observations, row-major [10 × 2]: x* simulated from θ* = <see cref="TrueParameters"/>,
    /// one prior-predictive batch of 10 rows with seed 104, as sbibm fixes its observations.
    /// </summary>
    public static double[] TestObservations() => ObservationDraw().Get(Observations);

    /// <summary>The true parameters θ* behind <see cref="TestObservations"/>, row-major [10 × 2], row k for observation k.</summary>
    public static double[] TrueParameters() => ObservationDraw().Get(Parameters);

    private static ArrayBatch ObservationDraw() => CreateSimulator(ObservationSeed).Sample(NumTestObservations, ObservationSeed);

    private static void Prior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, Dim);
        for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextUniform(PriorLow, PriorHigh);
    }

    private static void Likelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, Dim);
        for (int i = 0; i < ctx.Rows; i++)
        {
            // The component is drawn per simulation (sbibm ≥ 1.1.0), not once per batch.
            double sd = ComponentSds[ctx.Random.NextDouble() < 0.5 ? 0 : 1];
            for (int d = 0; d < Dim; d++) x[i * Dim + d] = theta[i * Dim + d] + ctx.Random.NextNormal(0, sd);
        }
    }
}
