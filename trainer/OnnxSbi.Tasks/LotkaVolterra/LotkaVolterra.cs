using OnnxSbi.Runtime;
using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;
using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks;

/// <summary>
/// The Lotka–Volterra benchmark of sbibm (Lueckmann et al. 2021, task "lotka_volterra"): the four rates of a
/// predator–prey system, seen through ten log-normally perturbed samples of each population.
/// <list type="bullet">
/// <item>Prior "prior": log α ~ N(−0.125, 0.5²), log β ~ N(−3, 0.5²), log γ ~ N(−0.125, 0.5²),
/// log δ ~ N(−3, 0.5²), independent; output <see cref="Parameters"/> = (α, β, γ, δ), shape [4].</item>
/// <item>Likelihood "likelihood": the ODE of <see cref="LotkaVolterraSystem"/> from (X, Y) = (30, 1) over
/// t ∈ [0, 20], solved in log X, log Y by <see cref="Rodas4Solver"/> with rtol = atol = 10⁻⁸;
/// c = clamp(population, 10⁻¹⁰, 10⁴) at t_k = 2.1·k, k = 0…9; x = c·exp(0.1·ε), ε ~ N(0, 1) independently;
/// output <see cref="Observations"/> = [X(t_0…t_9), Y(t_0…t_9)], shape [20].</item>
/// </list>
/// A solve that fails (10⁵ step attempts, or a step below the time resolution) gives a row of NaN and draws no
/// noise, as sbibm does. Rows are solved in parallel; the noise is drawn afterwards in row order, so results depend
/// on the seed only.
/// </summary>
public static class LotkaVolterra
{
    /// <summary>The parameter output, "theta": (α, β, γ, δ), shape [4].</summary>
    public const string Parameters = "theta";

    /// <summary>The observation output, "x": ten prey values then ten predator values, shape [20].</summary>
    public const string Observations = "x";

    /// <summary>The length of θ.</summary>
    public const int ParameterDim = 4;

    /// <summary>The length of x.</summary>
    public const int ObservationDim = 20;

    /// <summary>The standard deviation of log x around log c.</summary>
    public const double NoiseStd = 0.1;

    /// <summary>The lower clamp of the noise-free populations.</summary>
    public const double MinPopulation = 1e-10;

    /// <summary>The upper clamp of the noise-free populations.</summary>
    public const double MaxPopulation = 1e4;

    /// <summary>The number of fixed test observations, <see cref="TestObservations"/>'s rows.</summary>
    public const int NumTestObservations = 10;

    /// <summary>The first seed tried for the test observations (see <see cref="TestObservations"/>).</summary>
    public const ulong TestSeedBase = 40_000;

    private const int Times = 10;

    /// <summary>The observation times t_k = 2.1·k, k = 0…9 (every 21st point of sbibm's grid 0, 0.1, …, 20).</summary>
    internal static readonly double[] ObservationTimes = MakeTimes();

    /// <summary>The end of sbibm's integration; a failure after the last observation still fails the row.</summary>
    internal const double EndTime = 20;

    internal static readonly OdeOptions SolverOptions = new(RelativeTolerance: 1e-8, AbsoluteTolerance: 1e-8, MaxSteps: 100_000);

    private static readonly double LogNormalConstant = Math.Log(NoiseStd * Math.Sqrt(2 * Math.PI));

    private static readonly LogNormalPrior Prior = new([-0.125, -3, -0.125, -3], [0.5, 0.5, 0.5, 0.5]);

    [ThreadStatic] private static Rodas4Solver? t_solver;
    [ThreadStatic] private static double[]? t_populations;

    private static Rodas4Solver ThreadSolver => t_solver ??= new Rodas4Solver(2, SolverOptions);

    private static Rodas4Solver SolverFor(OdeOptions options) => ReferenceEquals(options, SolverOptions) ? ThreadSolver : new Rodas4Solver(2, options);

    private static double[] MakeTimes()
    {
        var t = new double[Times];
        for (int k = 0; k < Times; k++) t[k] = 21 * k / 10.0;
        return t;
    }

    /// <summary>The mean of log θ under the prior: (−0.125, −3, −0.125, −3).</summary>
    public static ReadOnlySpan<double> PriorLogMean => Prior.LogMean;

    /// <summary>The standard deviation of log θ under the prior: 0.5 for every rate.</summary>
    public static ReadOnlySpan<double> PriorLogStd => Prior.LogStd;

    /// <summary>The composed lotka_volterra simulator ("prior", then "likelihood"), reproducible from <paramref name="seed"/>.</summary>
    /// <remarks>
    /// The runtime's <see cref="Simulator"/> refuses outputs holding NaN, so a batch with a failed solve raises a
    /// <see cref="NonFiniteValueException"/>; <see cref="SimulateObservations(ReadOnlySpan{double}, Span{double}, SimulationRandom)"/> returns such rows as NaN instead.
    /// </remarks>
    public static Simulator CreateSimulator(ulong seed) => Simulator.Create(seed).Add("prior", SamplePrior).Add("likelihood", SampleLikelihood);

    /// <summary>
    /// The likelihood step on its own: for each row of <paramref name="theta"/> [rows × 4] writes a draw of x into
    /// <paramref name="x"/> [rows × 20], or a row of NaN where the solve fails (then no noise is drawn for it).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public static void SimulateObservations(ReadOnlySpan<double> theta, Span<double> x, SimulationRandom random) =>
        SimulateObservations(theta, x, random, SolverOptions);

    /// <summary>As the public overload, with solver settings <paramref name="options"/> (tests force failures with a small step cap).</summary>
    internal static void SimulateObservations(ReadOnlySpan<double> theta, Span<double> x, SimulationRandom random, OdeOptions options)
    {
        ArgumentNullException.ThrowIfNull(random);
        int rows = OdeRows.CheckBatch(theta.Length, ParameterDim, x.Length, ObservationDim, "lotka_volterra");
        double[] thetaRows = theta.ToArray();
        var populations = new double[rows * ObservationDim];
        OdeRows.ForEachRow(rows, i => NoiseFreeTrajectory(SolverFor(options), thetaRows.AsSpan(i * ParameterDim, ParameterDim), populations.AsSpan(i * ObservationDim, ObservationDim)));
        for (int i = 0; i < rows; i++)
        {
            Span<double> row = x.Slice(i * ObservationDim, ObservationDim);
            ReadOnlySpan<double> c = populations.AsSpan(i * ObservationDim, ObservationDim);
            if (double.IsNaN(c[0]))
            {
                row.Fill(double.NaN);
                continue;
            }
            for (int k = 0; k < ObservationDim; k++) row[k] = c[k] * Math.Exp(NoiseStd * random.NextNormal());
        }
    }

    /// <summary>
    /// The noise-free observation model at <paramref name="theta"/> = (α, β, γ, δ): writes the clamped populations
    /// c = [X(t_0…t_9), Y(t_0…t_9)], the medians of x, into <paramref name="populations"/> [20]. Returns false, and
    /// writes NaN, when the solve fails or θ is not finite.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public static bool NoiseFreeTrajectory(ReadOnlySpan<double> theta, Span<double> populations) => NoiseFreeTrajectory(ThreadSolver, theta, populations);

    internal static bool NoiseFreeTrajectory(Rodas4Solver solver, ReadOnlySpan<double> theta, Span<double> populations)
    {
        OdeRows.CheckLength(theta.Length, ParameterDim, "theta", "lotka_volterra");
        OdeRows.CheckLength(populations.Length, ObservationDim, "populations", "lotka_volterra");
        Span<double> states = stackalloc double[Times * 2];
        bool finite = double.IsFinite(theta[0]) && double.IsFinite(theta[1]) && double.IsFinite(theta[2]) && double.IsFinite(theta[3]);
        if (!finite || Solve(solver, theta, ObservationTimes, EndTime, states) != OdeStatus.Success)
        {
            populations.Fill(double.NaN);
            return false;
        }
        for (int k = 0; k < Times; k++)
        {
            populations[k] = Math.Clamp(Math.Exp(states[2 * k]), MinPopulation, MaxPopulation);
            populations[Times + k] = Math.Clamp(Math.Exp(states[2 * k + 1]), MinPopulation, MaxPopulation);
        }
        return true;
    }

    /// <summary>
    /// Solves the ODE at θ and writes (log X, log Y) at each of <paramref name="times"/> into <paramref name="states"/>
    /// [times × 2].
    /// </summary>
    internal static OdeStatus Solve(Rodas4Solver solver, ReadOnlySpan<double> theta, ReadOnlySpan<double> times, double endTime, Span<double> states) =>
        solver.Solve(new LotkaVolterraSystem(theta[0], theta[1], theta[2], theta[3]), [Math.Log(30), 0], 0, times, states, endTime);

    /// <summary>
    /// The exact log likelihood log p(x | θ) = Σ_i [−log x_i − log(0.1·√(2π)) − (log x_i − log c_i)²/(2·0.1²)], one
    /// ODE solve. −∞ when θ is outside the prior's support, the solve fails, or an x_i is not positive.
    /// </summary>
    /// <exception cref="ArgumentException">θ does not have length 4 or x length 20.</exception>
    public static double LogLikelihood(ReadOnlySpan<double> theta, ReadOnlySpan<double> x)
    {
        OdeRows.CheckLength(theta.Length, ParameterDim, "theta", "lotka_volterra");
        OdeRows.CheckLength(x.Length, ObservationDim, "x", "lotka_volterra");
        if (!Prior.InSupport(theta)) return double.NegativeInfinity;
        double[] c = t_populations ??= new double[ObservationDim];
        if (!NoiseFreeTrajectory(theta, c)) return double.NegativeInfinity;
        double sum = 0;
        for (int i = 0; i < ObservationDim; i++)
        {
            if (!(x[i] > 0) || double.IsPositiveInfinity(x[i])) return double.NegativeInfinity;
            double logX = Math.Log(x[i]);
            double z = (logX - Math.Log(c[i])) / NoiseStd;
            sum += -logX - LogNormalConstant - 0.5 * z * z;
        }
        return sum;
    }

    /// <summary>The log prior density log p(θ) in θ (log-normal coordinates); −∞ outside the support θ &gt; 0.</summary>
    public static double LogPrior(ReadOnlySpan<double> theta) => Prior.LogDensity(theta);

    /// <summary>Writes one prior draw into <paramref name="theta"/>, as the simulator's "prior" step does for each row.</summary>
    internal static void SamplePrior(SimulationRandom random, Span<double> theta) => Prior.Sample(random, theta);

    /// <summary>True when θ has length 4 and every rate is positive and finite: the prior's support.</summary>
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
    /// The ten fixed test observations, row-major [10 × 20]. Observation j is the one-row draw
    /// <c>CreateSimulator(s).Sample(1, seed: s)</c> for the j-th seed s = <see cref="TestSeedBase"/>, +1, +2, … that
    /// passes the rule: the solve succeeded and no noise-free population reaches a clamp (10⁻¹⁰ or 10⁴), where the
    /// likelihood turns flat and the posterior degenerate.
    /// </summary>
    public static double[] TestObservations() => (double[])Tests.Value.Observations.Clone();

    /// <summary>The θ* behind <see cref="TestObservations"/>, row-major [10 × 4].</summary>
    public static double[] TrueParameters() => (double[])Tests.Value.Parameters.Clone();

    /// <summary>The seeds behind <see cref="TestObservations"/>, in order.</summary>
    internal static ulong[] TestSeeds() => (ulong[])Tests.Value.Seeds.Clone();

    internal static bool IsInformative(double[] theta, double[] x)
    {
        if (double.IsNaN(x[0])) return false;
        Span<double> c = stackalloc double[ObservationDim];
        if (!NoiseFreeTrajectory(theta, c)) return false;
        foreach (double value in c)
            if (value <= MinPopulation || value >= MaxPopulation) return false;
        return true;
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
