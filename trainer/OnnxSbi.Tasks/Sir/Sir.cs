using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;
using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks;

/// <summary>
/// The SIR epidemic benchmark of sbibm (Lueckmann et al. 2021, task "sir"): the contact rate β and the recovery
/// rate γ of an epidemic in a population of N = 10⁶, seen through ten Binomial(1000) samples of the infected
/// fraction.
/// <list type="bullet">
/// <item>Prior "prior": log β ~ N(log 0.4, 0.5²), log γ ~ N(log 0.125, 0.2²), independent; output
/// <see cref="Parameters"/> = (β, γ), shape [2].</item>
/// <item>Likelihood "likelihood": the ODE of <see cref="SirSystem"/> from (S, I, R) = (N − 1, 1, 0) over
/// t ∈ [0, 160] days, solved by <see cref="Rodas4Solver"/> with rtol = atol = 10⁻⁸ (sbibm's tolerances, in
/// counts); p_k = clamp(I(t_k)/N, 0, 1) at t_k = 0, 17, …, 153; x_k ~ Binomial(1000, p_k) independently; output
/// <see cref="Observations"/>, shape [10], counts stored as doubles.</item>
/// </list>
/// A solve that fails (10⁵ step attempts, or a step below the time resolution) gives a row of NaN and draws no
/// noise, as sbibm does. Rows are solved in parallel; the noise is drawn afterwards in row order, so results depend
/// on the seed only.
/// </summary>
public static class Sir
{
    /// <summary>The parameter output, "theta": (β, γ), shape [2].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x": ten counts out of <see cref="Trials"/>, shape [10].</summary>
    public const string Observations = "x";

    /// <summary>The length of θ.</summary>
    public const int ParameterDim = 2;

    /// <summary>The length of x.</summary>
    public const int ObservationDim = 10;

    /// <summary>The population N.</summary>
    public const double Population = 1e6;

    /// <summary>The number of Binomial trials per observation.</summary>
    public const int Trials = 1000;

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public const int NumTestObservations = 10;

    /// <summary>The first seed tried for the test observations (see <see cref="TestObservations"/>).</summary>
    public const ulong TestSeedBase = 30_000;

    /// <summary>The observation times t_k = 17·k days, k = 0…9 (every 17th point of sbibm's daily grid).</summary>
    internal static readonly double[] ObservationTimes = [0, 17, 34, 51, 68, 85, 102, 119, 136, 153];

    /// <summary>The end of sbibm's integration; a failure after the last observation still fails the row.</summary>
    internal const double EndTime = 160;

    internal static readonly OdeOptions SolverOptions = new(RelativeTolerance: 1e-8, AbsoluteTolerance: 1e-8, MaxSteps: 100_000);

    private static readonly LogNormalPrior Prior = new([Math.Log(0.4), Math.Log(0.125)], [0.5, 0.2]);

    [ThreadStatic] private static Rodas4Solver? t_solver;
    [ThreadStatic] private static double[]? t_probabilities;

    private static Rodas4Solver ThreadSolver => t_solver ??= new Rodas4Solver(3, SolverOptions);

    private static Rodas4Solver SolverFor(OdeOptions options) => ReferenceEquals(options, SolverOptions) ? ThreadSolver : new Rodas4Solver(3, options);

    /// <summary>The mean of log θ under the prior: (log 0.4, log 0.125).</summary>
    public static ReadOnlySpan<double> PriorLogMean => Prior.LogMean;

    /// <summary>The standard deviation of log θ under the prior: (0.5, 0.2).</summary>
    public static ReadOnlySpan<double> PriorLogStd => Prior.LogStd;

    /// <summary>The composed sir simulator ("prior", then "likelihood"), reproducible from <paramref name="seed"/>.</summary>
    /// <remarks>
    /// The runtime's <see cref="Simulator"/> refuses outputs holding NaN, so a batch with a failed solve raises a
    /// <see cref="NonFiniteValueException"/>; <see cref="SimulateObservations(ReadOnlySpan{double}, Span{double}, SimulationRandom)"/> returns such rows as NaN instead.
    /// </remarks>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", SamplePrior).Add("likelihood", SampleLikelihood);

    /// <summary>
    /// The likelihood step on its own: for each row of <paramref name="theta"/> [rows × 2] writes a draw of x into
    /// <paramref name="x"/> [rows × 10], or a row of NaN where the solve fails (then no noise is drawn for it).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public static void SimulateObservations(ReadOnlySpan<double> theta, Span<double> x, SimulationRandom random) =>
        SimulateObservations(theta, x, random, SolverOptions);

    /// <summary>As the public overload, with solver settings <paramref name="options"/> (tests force failures with a small step cap).</summary>
    internal static void SimulateObservations(ReadOnlySpan<double> theta, Span<double> x, SimulationRandom random, OdeOptions options)
    {
        ArgumentNullException.ThrowIfNull(random);
        int rows = OdeRows.CheckBatch(theta.Length, ParameterDim, x.Length, ObservationDim, "sir");
        double[] thetaRows = theta.ToArray();
        var probabilities = new double[rows * ObservationDim];
        OdeRows.ForEachRow(rows, i => NoiseFreeTrajectory(SolverFor(options), thetaRows.AsSpan(i * ParameterDim, ParameterDim), probabilities.AsSpan(i * ObservationDim, ObservationDim)));
        for (int i = 0; i < rows; i++)
        {
            Span<double> row = x.Slice(i * ObservationDim, ObservationDim);
            ReadOnlySpan<double> p = probabilities.AsSpan(i * ObservationDim, ObservationDim);
            if (double.IsNaN(p[0]))
            {
                row.Fill(double.NaN);
                continue;
            }
            for (int k = 0; k < ObservationDim; k++) row[k] = Binomial.Sample(random, Trials, p[k]);
        }
    }

    /// <summary>
    /// The noise-free observation model at <paramref name="theta"/> = (β, γ): writes p_k = clamp(I(t_k)/N, 0, 1),
    /// the success probabilities of the ten Binomials (x's mean is 1000·p), into <paramref name="probabilities"/>
    /// [10]. Returns false, and writes NaN, when the solve fails or θ is not finite.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public static bool NoiseFreeTrajectory(ReadOnlySpan<double> theta, Span<double> probabilities) => NoiseFreeTrajectory(ThreadSolver, theta, probabilities);

    internal static bool NoiseFreeTrajectory(Rodas4Solver solver, ReadOnlySpan<double> theta, Span<double> probabilities)
    {
        OdeRows.CheckLength(theta.Length, ParameterDim, "theta", "sir");
        OdeRows.CheckLength(probabilities.Length, ObservationDim, "probabilities", "sir");
        Span<double> states = stackalloc double[ObservationDim * 3];
        if (!double.IsFinite(theta[0]) || !double.IsFinite(theta[1])
            || Solve(solver, theta[0], theta[1], ObservationTimes, EndTime, states) != OdeStatus.Success)
        {
            probabilities.Fill(double.NaN);
            return false;
        }
        for (int k = 0; k < ObservationDim; k++) probabilities[k] = Math.Clamp(states[3 * k + 1] / Population, 0, 1);
        return true;
    }

    /// <summary>
    /// Solves the SIR ODE at (β, γ) and writes (S, I, R) at each of <paramref name="times"/> into
    /// <paramref name="states"/> [times × 3].
    /// </summary>
    internal static OdeStatus Solve(Rodas4Solver solver, double beta, double gamma, ReadOnlySpan<double> times, double endTime, Span<double> states) =>
        solver.Solve(new SirSystem(beta, gamma), [Population - 1, 1, 0], 0, times, states, endTime);

    /// <summary>
    /// The exact log likelihood log p(x | θ) = Σ_k log Binomial(x_k; 1000, p_k(θ)), one ODE solve. −∞ when θ is
    /// outside the prior's support, the solve fails, an x_k is not an integer in [0, 1000], or p_k = 0 with x_k &gt; 0.
    /// </summary>
    /// <exception cref="ArgumentException">θ does not have length 2 or x length 10.</exception>
    public static double LogLikelihood(ReadOnlySpan<double> theta, ReadOnlySpan<double> x)
    {
        OdeRows.CheckLength(theta.Length, ParameterDim, "theta", "sir");
        OdeRows.CheckLength(x.Length, ObservationDim, "x", "sir");
        if (!Prior.InSupport(theta)) return double.NegativeInfinity;
        double[] p = t_probabilities ??= new double[ObservationDim];
        if (!NoiseFreeTrajectory(theta, p)) return double.NegativeInfinity;
        double sum = 0;
        for (int k = 0; k < ObservationDim; k++) sum += Binomial.LogProbability(x[k], Trials, p[k]);
        return sum;
    }

    /// <summary>The log prior density log p(θ) in θ (log-normal coordinates); −∞ outside the support θ &gt; 0.</summary>
    public static double LogPrior(ReadOnlySpan<double> theta) => Prior.LogDensity(theta);

    /// <summary>Writes one prior draw into <paramref name="theta"/>, as the simulator's "prior" step does for each row.</summary>
    internal static void SamplePrior(SimulationRandom random, Span<double> theta) => Prior.Sample(random, theta);

    /// <summary>True when θ has length 2 and both rates are positive and finite: the prior's support.</summary>
    public static bool InSupport(ReadOnlySpan<double> theta) => Prior.InSupport(theta);

    private static readonly Lazy<OdeTestSet> Tests = new(() => OdeTestSet.Build(ParameterDim, ObservationDim, TestSeedBase, DrawOne, IsInformative));

    // The same draws as CreateSimulator(seed).Sample(1, seed), without the runtime's refusal of NaN rows.
    private static (double[] Theta, double[] X) DrawOne(ulong seed)
    {
        var random = new SimulationRandom(seed);
        var theta = new double[ParameterDim];
        var x = new double[ObservationDim];
        Prior.Sample(random, theta);
        SimulateObservations(theta, x, random);
        return (theta, x);
    }

    /// <summary>
    /// The ten fixed test observations, row-major [10 × 10]. Observation j is the one-row draw
    /// <c>CreateSimulator(s).Sample(1, seed: s)</c> for the j-th seed s = <see cref="TestSeedBase"/>, +1, +2, … that
    /// passes the rule: the solve succeeded and at least three of the ten counts are nonzero (an epidemic that
    /// never shows in the samples leaves a posterior that is unbounded along the ridge β − γ ≈ constant, which
    /// sbibm also avoided).
    /// </summary>
    public static double[] TestObservations() => (double[])Tests.Value.Observations.Clone();

    /// <summary>The θ* behind <see cref="TestObservations"/>, row-major [10 × 2].</summary>
    public static double[] TrueParameters() => (double[])Tests.Value.Parameters.Clone();

    /// <summary>The seeds behind <see cref="TestObservations"/>, in order.</summary>
    internal static ulong[] TestSeeds() => (ulong[])Tests.Value.Seeds.Clone();

    internal static bool IsInformative(double[] theta, double[] x)
    {
        int nonzero = 0;
        foreach (double count in x)
        {
            if (double.IsNaN(count)) return false;
            if (count > 0) nonzero++;
        }
        return nonzero >= 3;
    }

    private static void SamplePrior(SimulationContext ctx)
    {
        double[] theta = ctx.Output(Parameters, ParameterDim);
        for (int i = 0; i < ctx.Rows; i++) Prior.Sample(ctx.Random, theta.AsSpan(i * ParameterDim, ParameterDim));
    }

    private static void SampleLikelihood(SimulationContext ctx)
    {
        double[] theta = ctx.Get(Parameters);
        double[] x = ctx.Output(Observations, ObservationDim);
        SimulateObservations(theta, x, ctx.Random);
    }
}
