using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's gaussian_linear task (Lueckmann et al. 2021): a ten-dimensional Gaussian location parameter observed
/// once with Gaussian noise.
/// <list type="bullet">
/// <item>Prior "prior": θ ~ N(0, 0.1·I₁₀), output <see cref="Parameters"/> with shape [10]. The 0.1 is each
/// coordinate's variance (sd ≈ 0.316), as sbibm's code uses its <c>prior_scale</c>.</item>
/// <item>Likelihood "likelihood": x = θ + ε with ε ~ N(0, 0.1·I₁₀), output <see cref="Observations"/> [10], in
/// θ's order; marginally x ~ N(0, 0.2·I₁₀).</item>
/// </list>
/// </summary>
public static class GaussianLinear
{
    /// <summary>The parameter output, "theta", shape [10].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x", shape [10].</summary>
    public const string Observations = "x";

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public const int NumTestObservations = 10;

    internal const int Dim = 10;
    internal const double PriorVariance = 0.1;
    internal const double NoiseVariance = 0.1;

    /// <summary>The seed of the prior-predictive draw that makes the test observations.</summary>
    internal const ulong ObservationSeed = 101;

    /// <summary>The composed gaussian_linear simulator, reproducible from <paramref name="seed"/>.</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", Prior).Add("likelihood", Likelihood);

    /// <summary>
    /// The ten fixed test observations, row-major [10 × 10]: x* simulated from θ* = <see cref="TrueParameters"/>,
    /// one prior-predictive batch of 10 rows with seed 101, as sbibm fixes its observations.
    /// </summary>
    public static double[] TestObservations() => ObservationDraw().Get(Observations);

    /// <summary>The true parameters θ* behind <see cref="TestObservations"/>, row-major [10 × 10], row k for observation k.</summary>
    public static double[] TrueParameters() => ObservationDraw().Get(Parameters);

    private static ArrayBatch ObservationDraw() => CreateSimulator(ObservationSeed).Sample(NumTestObservations, ObservationSeed);

    private static void Prior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, Dim);
        double sd = Math.Sqrt(PriorVariance);
        for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextNormal(0, sd);
    }

    private static void Likelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, Dim);
        double sd = Math.Sqrt(NoiseVariance);
        for (int i = 0; i < x.Length; i++) x[i] = theta[i] + ctx.Random.NextNormal(0, sd);
    }
}
