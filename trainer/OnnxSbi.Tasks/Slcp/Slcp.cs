using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// SLCP, "simple likelihood, complex posterior" (Papamakarios, Sterratt &amp; Murray 2019; sbibm's slcp, Lueckmann
/// et al. 2021): five parameters set the mean and covariance of a 2-D Gaussian from which four points are drawn.
/// <list type="bullet">
/// <item>Prior "prior": θ ~ U[−3, 3]⁵, output <see cref="Parameters"/> with shape [5].</item>
/// <item>Likelihood "likelihood": m = (θ1, θ2), s1 = θ3², s2 = θ4², ρ = tanh θ5,
/// S = [[s1² + 10⁻⁶, ρ·s1·s2], [ρ·s1·s2, s2² + 10⁻⁶]]; four iid x_j ~ N(m, S), output <see cref="Observations"/>
/// [8] interleaved per point: (x_{1,1}, x_{1,2}, …, x_{4,1}, x_{4,2}).</item>
/// </list>
/// The likelihood depends on θ3 and θ4 only through their squares, so the posterior has four sign-symmetric modes.
/// </summary>
public static class Slcp
{
    /// <summary>The parameter output, "theta", shape [5].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x", shape [8].</summary>
    public const string Observations = "x";

    /// <summary>The length of θ.</summary>
    public const int ParameterDim = 5;

    /// <summary>The length of x: four 2-D points.</summary>
    public const int ObservationDim = 8;

    /// <summary>The prior box's half-width: θ ~ U[−3, 3]⁵.</summary>
    internal const double PriorBound = 3;

    /// <summary>The jitter on the covariance's diagonal that keeps it positive definite.</summary>
    internal const double Jitter = 1e-6;

    /// <summary>The number of fixed test observations.</summary>
    public const int NumTestObservations = 10;

    /// <summary>
    /// The seed of the test observations: the simulator created with it draws, in one call with it, the true
    /// parameters θ* from the prior and one observation from each.
    /// </summary>
    public const ulong TestSeed = 20_240_612;

    /// <summary>The composed SLCP simulator, reproducible from <paramref name="seed"/>.</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", Prior).Add("likelihood", Likelihood);

    /// <summary>The true parameters θ* of the test observations, row-major [10 × 5].</summary>
    public static double[] TrueParameters() => TestBatch().Get(Parameters);

    /// <summary>The fixed test observations, row-major [10 × 8]: one simulation at each of <see cref="TrueParameters"/>.</summary>
    public static double[] TestObservations() => TestBatch().Get(Observations);

    private static Runtime.ArrayBatch TestBatch() => CreateSimulator(TestSeed).Sample(NumTestObservations, TestSeed);

    private static void Prior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, ParameterDim);
        for (int i = 0; i < theta.Length; i++) theta[i] = ctx.Random.NextUniform(-PriorBound, PriorBound);
    }

    private static void Likelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, ObservationDim);
        for (int i = 0; i < ctx.Rows; i++)
        {
            var (m1, m2, s11, s12, s22) = Moments(theta.AsSpan(i * ParameterDim, ParameterDim));
            // S = LLᵀ with L = [[√S11, 0], [S12/√S11, √(det S/S11)]].
            double l11 = Math.Sqrt(s11), l21 = s12 / l11, l22 = Math.Sqrt(Determinant(theta.AsSpan(i * ParameterDim, ParameterDim)) / s11);
            for (int j = 0; j < 4; j++)
            {
                double z1 = ctx.Random.NextNormal(), z2 = ctx.Random.NextNormal();
                x[i * ObservationDim + 2 * j] = m1 + l11 * z1;
                x[i * ObservationDim + 2 * j + 1] = m2 + l21 * z1 + l22 * z2;
            }
        }
    }

    /// <summary>The mean and covariance entries (m1, m2, S11, S12, S22) of the points under θ.</summary>
    internal static (double M1, double M2, double S11, double S12, double S22) Moments(ReadOnlySpan<double> theta)
    {
        double s1 = theta[2] * theta[2], s2 = theta[3] * theta[3];
        return (theta[0], theta[1], s1 * s1 + Jitter, Math.Tanh(theta[4]) * s1 * s2, s2 * s2 + Jitter);
    }

    /// <summary>
    /// det S = s1²s2²(1 − ρ²) + ε(s1² + s2²) + ε², the expansion of S11·S22 − S12² that does not cancel as |ρ| → 1;
    /// 1 − tanh²θ5 = 1/cosh²θ5.
    /// </summary>
    internal static double Determinant(ReadOnlySpan<double> theta)
    {
        double s1 = theta[2] * theta[2], s2 = theta[3] * theta[3];
        double c = Math.Cosh(theta[4]);
        return s1 * s1 * s2 * s2 / (c * c) + Jitter * (s1 * s1 + s2 * s2) + Jitter * Jitter;
    }

    /// <summary>
    /// log p(x | θ) = Σ_j [−log 2π − ½ log det S − ½ (x_j − m)ᵀS⁻¹(x_j − m)], with the 2 × 2 inverse written out.
    /// </summary>
    internal static double LogLikelihood(ReadOnlySpan<double> theta, ReadOnlySpan<double> x)
    {
        var (m1, m2, s11, s12, s22) = Moments(theta);
        double det = Determinant(theta);
        double quadratic = 0;
        for (int j = 0; j < 4; j++)
        {
            double d1 = x[2 * j] - m1, d2 = x[2 * j + 1] - m2;
            quadratic += s22 * d1 * d1 - 2 * s12 * d1 * d2 + s11 * d2 * d2;
        }
        return -4 * Math.Log(2 * Math.PI) - 2 * Math.Log(det) - 0.5 * quadratic / det;
    }
}
