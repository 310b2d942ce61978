using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// The two moons benchmark (Lueckmann et al. 2021, sbibm; the BayesFlow tutorial): a two-dimensional
/// parameter whose posterior at x = (0, 0) is two crescents.
/// <list type="bullet">
/// <item>Prior "prior": θ = (θ1, θ2) ~ Uniform(−1, 1)², output <see cref="Parameters"/> with shape [2].</item>
/// <item>Likelihood "likelihood": α ~ Uniform(−π/2, π/2), r ~ Normal(0.1, 0.01),
/// x1 = −|θ1 + θ2|/√2 + r·cos α + 0.25, x2 = (−θ1 + θ2)/√2 + r·sin α; output <see cref="Observations"/> [2].</item>
/// </list>
/// </summary>
public static class TwoMoons
{
    /// <summary>The parameter output, "theta", shape [2].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x", shape [2].</summary>
    public const string Observations = "x";

    /// <summary>The composed two-moons simulator, reproducible from <paramref name="seed"/>.</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", Prior).Add("likelihood", Likelihood);

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public const int NumTestObservations = 10;

    /// <summary>
    /// The ten fixed test observations the tutorial's scores average over, row-major [10 × 2]: prior-predictive
    /// draws with a fixed seed, as sbibm fixes its observations.
    /// </summary>
    public static double[] TestObservations() => CreateSimulator(seed: 20_240_611).Sample(NumTestObservations, seed: 20_240_611).Get(Observations);

    private static void Prior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, 2);
        for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextUniform(-1, 1);
    }

    private static void Likelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, 2);
        double invSqrt2 = 1 / Math.Sqrt(2);
        for (int i = 0; i < ctx.Rows; i++)
        {
            double t1 = theta[2 * i], t2 = theta[2 * i + 1];
            double alpha = ctx.Random.NextUniform(-Math.PI / 2, Math.PI / 2);
            double r = ctx.Random.NextNormal(0.1, 0.01);
            (double sin, double cos) = Math.SinCos(alpha);
            x[2 * i] = -Math.Abs(t1 + t2) * invSqrt2 + r * cos + 0.25;
            x[2 * i + 1] = (-t1 + t2) * invSqrt2 + r * sin;
        }
    }
}
