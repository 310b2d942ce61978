using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks.Tests;

public sealed class LotkaVolterraTests
{
    // The prior's median: every rate at exp of its log-mean.
    private static readonly double[] Median = [Math.Exp(-0.125), Math.Exp(-3), Math.Exp(-0.125), Math.Exp(-3)];

    [Fact]
    public void CreateSimulator_Sample_HasTheDeclaredVariables()
    {
        var simulator = LotkaVolterra.CreateSimulator(seed: 1);
        Assert.Equal(["prior", "likelihood"], simulator.StepNames);
        var batch = simulator.Sample(20, seed: 1);
        Assert.Equal([4], batch.SampleShape(LotkaVolterra.Parameters));
        Assert.Equal([20], batch.SampleShape(LotkaVolterra.Observations));
        Assert.All(batch.Get(LotkaVolterra.Parameters), v => Assert.True(v > 0));
        Assert.All(batch.Get(LotkaVolterra.Observations), v => Assert.True(v > 0 && double.IsFinite(v)));
    }

    [Fact]
    public void CreateSimulator_FixedSeed_ReproducesPinnedValues()
    {
        var batch = LotkaVolterra.CreateSimulator(seed: 123).Sample(2, seed: 123);
        double[] theta = batch.Get(LotkaVolterra.Parameters), x = batch.Get(LotkaVolterra.Observations);
        double[] pinnedTheta = [1.2212727911845767, 0.046752754169763086, 1.305915116731356, 0.0744072195588116];
        // x[0], x[9] (prey), x[10], x[19] (predator) of the first row and x[39] of the second.
        (int Index, double Value)[] pinnedX =
            [(0, 25.68080556273307), (9, 1.6693574845282906), (10, 1.0912020071020123), (19, 3.413694505083198), (39, 3.1748567062900834)];
        // 1e-9 relative: last-digit libm differences, amplified by an ODE solve at rtol 1e-8 whose step sequence
        // is itself fixed by the seed.
        for (int i = 0; i < 4; i++) Assert.Equal(pinnedTheta[i], theta[i], pinnedTheta[i] * 1e-12);
        foreach (var (index, value) in pinnedX) Assert.Equal(value, x[index], value * 1e-9);
    }

    [Fact]
    public void Solve_NoiseFree_ConservesTheFirstIntegral()
    {
        var solver = new Rodas4Solver(2, LotkaVolterra.SolverOptions);
        double[] times = Enumerable.Range(0, 201).Select(k => k / 10.0).ToArray();
        var states = new double[times.Length * 2];
        foreach (double[] theta in new[] { Median, [1.5, 0.02, 0.6, 0.08], [0.5, 0.1, 1.8, 0.03] })
        {
            Assert.Equal(OdeStatus.Success, LotkaVolterra.Solve(solver, theta, times, LotkaVolterra.EndTime, states));
            var system = new LotkaVolterraSystem(theta[0], theta[1], theta[2], theta[3]);
            double v0 = system.FirstIntegral(Math.Log(30), 0);
            for (int k = 0; k < times.Length; k++)
            {
                // V = δX − γ·log X + βY − α·log Y is constant; its drift follows the local errors in log X and log Y
                // (rtol = atol = 1e-8 on values of size ≤ 10) times |∂V/∂u|, |∂V/∂v| ≤ 10, summed over ~10³ steps.
                Assert.Equal(v0, system.FirstIntegral(states[2 * k], states[2 * k + 1]), 1e-5 * Math.Abs(v0));
            }
        }
    }

    [Fact]
    public void LotkaVolterraSystem_Jacobian_MatchesCentralDifferences()
    {
        // Central differences err by O(h²)·e^u ≈ 1e-12 relative: 1e-7 is ample.
        Assert.True(OdeTaskChecks.JacobianMismatch(new LotkaVolterraSystem(0.9, 0.05, 0.8, 0.04), [Math.Log(30), 0]) < 1e-7);
        Assert.True(OdeTaskChecks.JacobianMismatch(new LotkaVolterraSystem(1.2, 0.02, 0.6, 0.09), [-3, 4]) < 1e-7);
    }

    [Fact]
    public void NoiseFreeTrajectory_StartsAtTheInitialStateAndOrdersPreyBeforePredators()
    {
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(Median, c));
        Assert.Equal(30, c[0], 1e-12);
        Assert.Equal(1, c[10], 1e-12);
        var states = new double[20];
        var solver = new Rodas4Solver(2, LotkaVolterra.SolverOptions);
        Assert.Equal(OdeStatus.Success, LotkaVolterra.Solve(solver, Median, LotkaVolterra.ObservationTimes, LotkaVolterra.EndTime, states));
        for (int k = 0; k < 10; k++)
        {
            Assert.Equal(Math.Exp(states[2 * k]), c[k]);
            Assert.Equal(Math.Exp(states[2 * k + 1]), c[10 + k]);
        }
        Assert.Equal(2.1 * 9, LotkaVolterra.ObservationTimes[9], 1e-12);
    }

    [Fact]
    public void NoiseFreeTrajectory_ExtremePopulations_AreClamped()
    {
        // Fast prey growth against slow predator death: X falls to about 1e-19 (V conserved gives
        // log X_min ≈ −(V − α + α·log(α/β))/γ ≈ −43) and stays below 1e-10 for t ∈ [2.1, 12.6].
        double[] theta = [3.0, 0.01, 0.5, 0.3];
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(theta, c));
        Assert.All(c, v => Assert.InRange(v, LotkaVolterra.MinPopulation, LotkaVolterra.MaxPopulation));
        Assert.Contains(c, v => v == LotkaVolterra.MinPopulation || v == LotkaVolterra.MaxPopulation);
    }

    [Fact]
    public void SimulateObservations_LogResiduals_AreStandardNormalWithSd01()
    {
        // 500 rows of one θ: z = (log x − log c)/0.1 are 10,000 iid N(0, 1) draws.
        const int rows = 500;
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(Median, c));
        var thetaRows = new double[rows * 4];
        for (int i = 0; i < rows; i++) Median.CopyTo(thetaRows, 4 * i);
        var x = new double[rows * 20];
        LotkaVolterra.SimulateObservations(thetaRows, x, new SimulationRandom(4));
        double sum = 0, sumSq = 0, sumFourth = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double z = (Math.Log(x[i]) - Math.Log(c[i % 20])) / 0.1;
            sum += z;
            sumSq += z * z;
            sumFourth += z * z * z * z;
        }
        int n = x.Length;
        // 5 standard errors: mean 1/√n, variance √(2/n), fourth moment (3) √(96/n).
        Assert.InRange(sum / n, -5 / Math.Sqrt(n), 5 / Math.Sqrt(n));
        Assert.InRange(sumSq / n, 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        Assert.InRange(sumFourth / n, 3 - 5 * Math.Sqrt(96.0 / n), 3 + 5 * Math.Sqrt(96.0 / n));
    }

    [Fact]
    public void LogLikelihood_OneEntry_MatchesTheDerivativeOfTheLogNormalCdf()
    {
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(Median, c));
        double[] x = c.Select(v => v * 1.05).ToArray();
        double reference = LotkaVolterra.LogLikelihood(Median, x);
        // Only entry 13 varies, so ℓ(x with x_13 = a) − ℓ(x) = log f(a) − log f(x_13) for the log-normal density f,
        // which must equal the slope of its CDF F(a) = Φ((log a − log c)/0.1), taken by central differences.
        double Cdf(double a) => NormalCdf((Math.Log(a) - Math.Log(c[13])) / 0.1);
        double h = 1e-3 * c[13];
        double fReference = (Cdf(x[13] + h) - Cdf(x[13] - h)) / (2 * h);
        foreach (double factor in new[] { 0.8, 0.95, 1.0, 1.1, 1.3 })
        {
            double a = c[13] * factor;
            double[] y = (double[])x.Clone();
            y[13] = a;
            double fd = (Cdf(a + h) - Cdf(a - h)) / (2 * h);
            // The central difference's relative truncation is h_z²/6·|f″/f| with h_z = h/(0.1·a) ≈ 0.01 in the
            // standardised variable, below 1e-4; the series' rounding adds 1e-12/(2h·f) ≈ 1e-9.
            Assert.Equal(Math.Log(fd / fReference), LotkaVolterra.LogLikelihood(Median, y) - reference, 2e-4);
        }
        // The absolute level: at x = c the density of one entry is 1/(c·0.1·√(2π)).
        double atMedian = LotkaVolterra.LogLikelihood(Median, c);
        double expected = c.Sum(v => -Math.Log(v * 0.1 * Math.Sqrt(2 * Math.PI)));
        Assert.Equal(expected, atMedian, 1e-10 * Math.Abs(expected));
    }

    [Fact]
    public void LogLikelihood_AtTheNoiseFreeTrajectory_PeaksAtTheTrueParameters()
    {
        // With x = c(θ0) every squared residual vanishes at θ0, so no θ can do better; 2% steps along each axis
        // and in random directions must all lose.
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(Median, c));
        double best = LotkaVolterra.LogLikelihood(Median, c);
        var random = new Random(7);
        for (int trial = 0; trial < 24; trial++)
        {
            var theta = (double[])Median.Clone();
            if (trial < 8) theta[trial / 2] *= trial % 2 == 0 ? 1.02 : 0.98;
            else for (int j = 0; j < 4; j++) theta[j] *= Math.Exp(0.02 * (2 * random.NextDouble() - 1));
            Assert.True(LotkaVolterra.LogLikelihood(theta, c) < best);
        }
    }

    [Fact]
    public void LogLikelihood_OutsideTheSupportOrForNonPositiveX_IsNegativeInfinity()
    {
        var c = new double[20];
        Assert.True(LotkaVolterra.NoiseFreeTrajectory(Median, c));
        Assert.Equal(double.NegativeInfinity, LotkaVolterra.LogLikelihood([0.9, -0.05, 0.9, 0.05], c));
        c[4] = 0;
        Assert.Equal(double.NegativeInfinity, LotkaVolterra.LogLikelihood(Median, c));
        Assert.Throws<ArgumentException>(() => LotkaVolterra.LogLikelihood(Median, [1.0, 2.0]));
    }

    [Fact]
    public void LogPrior_IsTheSumOfLogNormalDensities()
    {
        double[] theta = [0.7, 0.06, 1.1, 0.04];
        double[] mu = [-0.125, -3, -0.125, -3];
        double expected = 0;
        for (int i = 0; i < 4; i++)
        {
            double z = (Math.Log(theta[i]) - mu[i]) / 0.5;
            expected += -0.5 * z * z - Math.Log(0.5 * Math.Sqrt(2 * Math.PI)) - Math.Log(theta[i]);
        }
        Assert.Equal(expected, LotkaVolterra.LogPrior(theta), 1e-12);
        Assert.Equal(mu, LotkaVolterra.PriorLogMean.ToArray());
        Assert.Equal(double.NegativeInfinity, LotkaVolterra.LogPrior([0.7, 0.06, 0, 0.04]));
        Assert.False(LotkaVolterra.InSupport([0.7, 0.06, double.NaN, 0.04]));
    }

    [Fact]
    public void SimulateObservations_FailedSolve_GivesANaNRowAndDrawsNoNoise()
    {
        // A fast prey rate needs many more steps than the median; a step cap between the two fails only it.
        double[] hard = [4.0, 0.05, 4.0, 0.05];
        var solver = new Rodas4Solver(2, LotkaVolterra.SolverOptions);
        var states = new double[20];
        Assert.Equal(OdeStatus.Success, LotkaVolterra.Solve(solver, Median, LotkaVolterra.ObservationTimes, LotkaVolterra.EndTime, states));
        int easySteps = solver.AcceptedSteps + solver.RejectedSteps;
        Assert.Equal(OdeStatus.Success, LotkaVolterra.Solve(solver, hard, LotkaVolterra.ObservationTimes, LotkaVolterra.EndTime, states));
        int hardSteps = solver.AcceptedSteps + solver.RejectedSteps;
        Assert.True(easySteps < hardSteps, $"{easySteps} vs {hardSteps} steps");
        var capped = new OdeOptions(1e-8, 1e-8, MaxSteps: (easySteps + hardSteps) / 2);

        var random = new SimulationRandom(9);
        var x = new double[40];
        LotkaVolterra.SimulateObservations([.. Median, .. hard], x, random, capped);
        Assert.All(x[..20], v => Assert.True(double.IsFinite(v)));
        Assert.All(x[20..], v => Assert.True(double.IsNaN(v)));

        var alone = new SimulationRandom(9);
        var y = new double[20];
        LotkaVolterra.SimulateObservations(Median, y, alone, capped);
        Assert.Equal(y, x[..20]);
        Assert.Equal(alone.NextUInt64(), random.NextUInt64());
    }

    [Fact]
    public void TestObservations_FollowTheDocumentedSeedRule()
    {
        double[] observations = LotkaVolterra.TestObservations(), parameters = LotkaVolterra.TrueParameters();
        ulong[] seeds = LotkaVolterra.TestSeeds();
        Assert.Equal(10 * 20, observations.Length);
        Assert.Equal(10 * 4, parameters.Length);
        // Pinned: the rule skips seed 40007, whose noise-free trajectory reaches a clamp.
        Assert.Equal([40000UL, 40001, 40002, 40003, 40004, 40005, 40006, 40008, 40009, 40010], seeds);
        for (int j = 0; j < 10; j++)
        {
            var batch = LotkaVolterra.CreateSimulator(seeds[j]).Sample(1, seed: seeds[j]);
            Assert.Equal(batch.Get(LotkaVolterra.Parameters), parameters[(4 * j)..(4 * j + 4)]);
            Assert.Equal(batch.Get(LotkaVolterra.Observations), observations[(20 * j)..(20 * j + 20)]);
        }
        var skipped = LotkaVolterra.CreateSimulator(40007).Sample(1, seed: 40007);
        Assert.False(LotkaVolterra.IsInformative(skipped.Get(LotkaVolterra.Parameters), skipped.Get(LotkaVolterra.Observations)));
    }

    // Φ(z) = ½(1 + erf(z/√2)) with erf from its Maclaurin series 2/√π·Σ (−1)ⁿx²ⁿ⁺¹/(n!(2n+1)) (Abramowitz & Stegun
    // 7.1.5); for |z| ≤ 4 the alternating terms cancel by at most 10⁴, leaving about 1e-12 absolute error.
    private static double NormalCdf(double z)
    {
        Assert.InRange(z, -4, 4);
        double x = z / Math.Sqrt(2), term = x, sum = x;
        for (int n = 1; Math.Abs(term) > 1e-18; n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 0.5 * (1 + 2 / Math.Sqrt(Math.PI) * sum);
    }
}
