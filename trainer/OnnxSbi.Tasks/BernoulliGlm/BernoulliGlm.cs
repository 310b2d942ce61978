using OnnxSbi.Runtime.Simulators;

namespace OnnxSbi.Tasks;

/// <summary>
/// sbibm's bernoulli_glm (Lueckmann et al. 2021): a generalised linear model of a neuron's spikes, y_t ~
/// Bernoulli(σ(ψ_t)) with ψ = Xθ over T = 100 time bins of a fixed white-noise stimulus, summarised by its
/// sufficient statistics x = Xᵀy.
/// <list type="bullet">
/// <item>Prior "prior": θ1 (the offset) ~ N(0, 2); the filter θ2…θ10 (weights of stimulus lags 0…8) ~ N(0, (FᵀF)⁻¹)
/// with F = D² + diag(√(k/9)), k = 0…8, D the 9 × 9 first-difference matrix (1 on the diagonal, −1 below it), so
/// that smooth filters are favoured. Output <see cref="Parameters"/> with shape [10].</item>
/// <item>Likelihood "likelihood": X[t, 0] = 1 and X[t, j + 1] = I[t − j] for t ≥ j (else 0), I the stimulus;
/// y_t = 1[u_t &lt; σ(ψ_t)], u_t ~ U(0, 1); output <see cref="Observations"/> [10]: the spike count Σ y_t, then
/// the spike-triggered sums Σ_t y_t·I[t − j] for lags j = 0…8.</item>
/// </list>
/// </summary>
public static class BernoulliGlm
{
    /// <summary>The parameter output, "theta", shape [10].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x", shape [10].</summary>
    public const string Observations = "x";

    /// <summary>The length of θ: the offset and 9 filter weights.</summary>
    public const int ParameterDim = 10;

    /// <summary>The length of x.</summary>
    public const int ObservationDim = 10;

    /// <summary>The number of time bins.</summary>
    internal const int TimeBins = 100;

    /// <summary>The filter's length, stimulus lags 0…8.</summary>
    internal const int FilterLength = 9;

    /// <summary>The offset's prior variance.</summary>
    internal const double OffsetVariance = 2;

    /// <summary>The number of fixed test observations.</summary>
    public const int NumTestObservations = 10;

    /// <summary>
    /// The seed of the test observations: the simulator created with it draws, in one call with it, the true
    /// parameters θ* from the prior and one observation from each.
    /// </summary>
    public const ulong TestSeed = 20_240_613;

    /// <summary>
    /// The stimulus I_t, t = 0…99: numpy's RandomState(42).randn(100) stored as float32, as sbibm fixes it for every
    /// simulation (the values of sbibm's stored design matrix).
    /// </summary>
    internal static readonly double[] Stimulus = Array.ConvertAll(new float[]
    {
        0.496714145f, -0.138264298f, 0.647688568f, 1.5230298f, -0.234153375f, -0.234136954f, 1.57921278f, 0.767434716f, -0.469474375f, 0.542560041f,
        -0.463417679f, -0.465729743f, 0.241962269f, -1.91328025f, -1.72491789f, -0.562287509f, -1.01283109f, 0.31424734f, -0.908024073f, -1.41230369f,
        1.46564877f, -0.2257763f, 0.0675282031f, -1.42474818f, -0.544382751f, 0.11092259f, -1.15099359f, 0.37569803f, -0.600638688f, -0.291693747f,
        -0.601706624f, 1.85227823f, -0.013497225f, -1.05771089f, 0.822544932f, -1.22084367f, 0.208863601f, -1.95967007f, -1.32818604f, 0.196861237f,
        0.738466561f, 0.171368286f, -0.115648285f, -0.301103681f, -1.47852194f, -0.719844222f, -0.460638762f, 1.05712223f, 0.343618304f, -1.76304018f,
        0.324083984f, -0.385082275f, -0.676922023f, 0.611676276f, 1.03099954f, 0.931280136f, -0.839217544f, -0.309212387f, 0.331263423f, 0.975545108f,
        -0.479174227f, -0.185658976f, -1.10633492f, -1.19620657f, 0.812525809f, 1.35624003f, -0.0720101222f, 1.00353289f, 0.361636013f, -0.645119727f,
        0.361395597f, 1.53803658f, -0.0358260386f, 1.56464362f, -2.61974502f, 0.821902514f, 0.0870470703f, -0.299007356f, 0.0917607769f, -1.98756886f,
        -0.21967189f, 0.357112557f, 1.47789407f, -0.518270195f, -0.808493614f, -0.501757026f, 0.915402114f, 0.328751117f, -0.529760182f, 0.513267457f,
        0.0970775485f, 0.968644977f, -0.70205307f, -0.32766214f, -0.392108142f, -1.46351492f, 0.296120286f, 0.261055261f, 0.00511345686f, -0.234587133f,    }, v => (double)v);

    /// <summary>The design matrix X, row-major [100 × 10]: a column of ones, then the stimulus delayed by 0…8 bins.</summary>
    internal static readonly double[] Design = BuildDesign();

    /// <summary>F's entries: F[k, k] = 1 + √(k/9), F[k, k − 1] = −2, F[k, k − 2] = 1 (D² plus the diagonal).</summary>
    internal static double FilterFactor(int row, int column) => (row - column) switch
    {
        0 => 1 + Math.Sqrt(row / 9.0),
        1 => -2,
        2 => 1,
        _ => 0,
    };

    /// <summary>The composed Bernoulli GLM simulator, reproducible from <paramref name="seed"/>.</summary>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", Prior).Add("likelihood", Likelihood);

    /// <summary>The true parameters θ* of the test observations, row-major [10 × 10].</summary>
    public static double[] TrueParameters() => TestBatch().Get(Parameters);

    /// <summary>The fixed test observations, row-major [10 × 10]: one simulation at each of <see cref="TrueParameters"/>.</summary>
    public static double[] TestObservations() => TestBatch().Get(Observations);

    private static Runtime.ArrayBatch TestBatch() => CreateSimulator(TestSeed).Sample(NumTestObservations, TestSeed);

    private static double[] BuildDesign()
    {
        var x = new double[TimeBins * ParameterDim];
        for (int t = 0; t < TimeBins; t++)
        {
            x[t * ParameterDim] = 1;
            for (int j = 0; j < FilterLength && j <= t; j++) x[t * ParameterDim + j + 1] = Stimulus[t - j];
        }
        return x;
    }

    /// <summary>One prior draw: θ1 = √2·z0 and the filter F⁻¹z by forward substitution (F is lower-triangular).</summary>
    internal static void SamplePrior(SimulationRandom random, Span<double> theta)
    {
        theta[0] = Math.Sqrt(OffsetVariance) * random.NextNormal();
        for (int k = 0; k < FilterLength; k++)
        {
            double s = random.NextNormal();
            for (int j = Math.Max(0, k - 2); j < k; j++) s -= FilterFactor(k, j) * theta[1 + j];
            theta[1 + k] = s / FilterFactor(k, k);
        }
    }

    /// <summary>ψ = Xθ, the log-odds of a spike in each bin.</summary>
    internal static void LogOdds(ReadOnlySpan<double> theta, Span<double> psi)
    {
        for (int t = 0; t < TimeBins; t++)
        {
            double s = 0;
            for (int k = 0; k < ParameterDim; k++) s += Design[t * ParameterDim + k] * theta[k];
            psi[t] = s;
        }
    }

    private static void Prior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, ParameterDim);
        for (int i = 0; i < ctx.Rows; i++) SamplePrior(ctx.Random, theta.AsSpan(i * ParameterDim, ParameterDim));
    }

    private static void Likelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, ObservationDim);
        Span<double> psi = stackalloc double[TimeBins];
        for (int i = 0; i < ctx.Rows; i++)
        {
            LogOdds(theta.AsSpan(i * ParameterDim, ParameterDim), psi);
            var row = x.AsSpan(i * ObservationDim, ObservationDim);
            for (int t = 0; t < TimeBins; t++)
            {
                double p = 1 / (1 + Math.Exp(-psi[t]));
                if (!(ctx.Random.NextDouble() < p)) continue;
                // x = Xᵀy: a spike in bin t adds row t of X.
                for (int k = 0; k < ObservationDim; k++) row[k] += Design[t * ParameterDim + k];
            }
        }
    }
}
