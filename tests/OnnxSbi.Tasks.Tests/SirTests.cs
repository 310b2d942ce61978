using OnnxSbi.Runtime.Simulators;
using OnnxSbi.Tasks.Distributions;
using OnnxSbi.Tasks.Ode;

namespace OnnxSbi.Tasks.Tests;

public sealed class SirTests
{
    [Fact]
    public void CreateSimulator_Sample_HasTheDeclaredVariablesAndCounts()
    {
        var simulator = Sir.CreateSimulator(seed: 1);
        Assert.Equal(["prior", "likelihood"], simulator.StepNames);
        var batch = simulator.Sample(20, seed: 1);
        Assert.Equal([2], batch.SampleShape(Sir.Parameters));
        Assert.Equal([10], batch.SampleShape(Sir.Observations));
        Assert.All(batch.Get(Sir.Parameters), v => Assert.True(v > 0));
        Assert.All(batch.Get(Sir.Observations), v => Assert.True(v >= 0 && v <= 1000 && v == Math.Floor(v), $"count {v}"));
    }

    [Fact]
    public void CreateSimulator_FixedSeed_ReproducesPinnedValues()
    {
        var batch = Sir.CreateSimulator(seed: 123).Sample(2, seed: 123);
        // θ comes from exp of a Box–Muller draw: 1e-12 relative allows a last-digit difference in a platform's libm.
        double[] theta = batch.Get(Sir.Parameters);
        double[] pinned = [0.5535533496413633, 0.12189510653375714, 0.5919182777442881, 0.1467943775522664];
        for (int i = 0; i < pinned.Length; i++) Assert.Equal(pinned[i], theta[i], pinned[i] * 1e-12);
        Assert.Equal([0, 8, 428, 125, 19, 0, 0, 0, 0, 0, 0, 2, 385, 83, 2, 0, 0, 0, 0, 0], batch.Get(Sir.Observations));
    }

    [Fact]
    public void Solve_NoiseFree_ConservesThePopulation()
    {
        var solver = new Rodas4Solver(3, Sir.SolverOptions);
        double[] times = Enumerable.Range(0, 161).Select(t => (double)t).ToArray();
        var states = new double[times.Length * 3];
        foreach (var (beta, gamma) in new[] { (0.4, 0.125), (1.5, 0.08), (0.15, 0.2) })
        {
            Assert.Equal(OdeStatus.Success, Sir.Solve(solver, beta, gamma, times, Sir.EndTime, states));
            for (int k = 0; k < times.Length; k++)
            {
                double total = states[3 * k] + states[3 * k + 1] + states[3 * k + 2];
                // The ODE keeps S + I + R = N exactly and RODAS4 with the exact Jacobian keeps linear invariants;
                // what remains is rounding, about 1e-16·N per step over ~10³ steps: 1e-6 of a person.
                Assert.Equal(Sir.Population, total, 1e-6);
            }
        }
    }

    [Fact]
    public void SirSystem_Jacobian_MatchesCentralDifferences()
    {
        // Central differences err by O(h²) ≈ 1e-12 relative plus rounding 1e-16/1e-6: 1e-7 is ample.
        Assert.True(OdeTaskChecks.JacobianMismatch(new SirSystem(0.4, 0.125), [6e5, 2.5e5, 1.5e5]) < 1e-7);
        Assert.True(OdeTaskChecks.JacobianMismatch(new SirSystem(1.3, 0.05), [999_999, 1, 0]) < 1e-7);
    }

    [Fact]
    public void NoiseFreeTrajectory_MatchesTheSolveAtTheObservationTimes()
    {
        double[] theta = [0.5, 0.11];
        var p = new double[10];
        Assert.True(Sir.NoiseFreeTrajectory(theta, p));
        Assert.Equal(1e-6, p[0]);
        var states = new double[30];
        var solver = new Rodas4Solver(3, Sir.SolverOptions);
        Assert.Equal(OdeStatus.Success, Sir.Solve(solver, 0.5, 0.11, Sir.ObservationTimes, Sir.EndTime, states));
        for (int k = 0; k < 10; k++) Assert.Equal(states[3 * k + 1] / Sir.Population, p[k]);

        // A finer tolerance moves the trajectory by far less than a Binomial(1000) standard deviation (≥ 1e-3 of p
        // wherever p > 1e-3): the default tolerance is accurate enough for the simulator and the likelihood.
        var fine = new Rodas4Solver(3, new OdeOptions(1e-11, 1e-11));
        Assert.Equal(OdeStatus.Success, Sir.Solve(fine, 0.5, 0.11, Sir.ObservationTimes, Sir.EndTime, states));
        for (int k = 0; k < 10; k++) Assert.Equal(states[3 * k + 1] / Sir.Population, p[k], 1e-6 * Math.Max(p[k], 1e-6));
    }

    [Fact]
    public void SimulateObservations_CountsAroundTheTrajectory_HaveBinomialMoments()
    {
        // 1,000 rows of one θ: each standardised count (x − 1000p)/√(1000p(1−p)) has mean 0 and variance 1.
        const int rows = 1000;
        double[] theta = [0.6, 0.15];
        var p = new double[10];
        Assert.True(Sir.NoiseFreeTrajectory(theta, p));
        var thetaRows = new double[rows * 2];
        for (int i = 0; i < rows; i++) theta.CopyTo(thetaRows, 2 * i);
        var x = new double[rows * 10];
        Sir.SimulateObservations(thetaRows, x, new SimulationRandom(3));
        for (int k = 1; k < 10; k++)
        {
            double mean = 1000 * p[k], sd = Math.Sqrt(1000 * p[k] * (1 - p[k]));
            if (sd < 1) continue; // near-degenerate counts carry no moment information
            double sum = 0, sumSq = 0;
            for (int i = 0; i < rows; i++)
            {
                double z = (x[i * 10 + k] - mean) / sd;
                sum += z;
                sumSq += z * z;
            }
            // 5 standard errors of a mean (1/√1000) and of a variance (√(2/1000)).
            Assert.InRange(sum / rows, -5 / Math.Sqrt(rows), 5 / Math.Sqrt(rows));
            Assert.InRange(sumSq / rows - Math.Pow(sum / rows, 2), 1 - 5 * Math.Sqrt(2.0 / rows), 1 + 5 * Math.Sqrt(2.0 / rows));
        }
    }

    [Fact]
    public void LogLikelihood_IsTheSumOfBinomialLogPmfs()
    {
        double[] theta = [0.45, 0.13], x = [0, 3, 90, 180, 120, 40, 10, 2, 0, 0];
        var p = new double[10];
        Assert.True(Sir.NoiseFreeTrajectory(theta, p));
        double expected = 0;
        for (int k = 0; k < 10; k++) expected += Binomial.LogProbability(x[k], 1000, p[k]);
        Assert.Equal(expected, Sir.LogLikelihood(theta, x));
        // Summed over the values of one count, the likelihood of the other counts factors out:
        // Σ_j exp(ℓ(x with x_3 = j) − ℓ(x)) = 1/P(x_3 = 180). The sum runs over 1000·p_3 ± 8 sd, outside which the
        // Binomial mass is below 1e-14; each term costs an ODE solve.
        double mean = 1000 * p[3], sd = Math.Sqrt(1000 * p[3] * (1 - p[3]));
        double reference = Sir.LogLikelihood(theta, x), total = 0;
        for (int j = (int)Math.Max(0, mean - 8 * sd); j <= (int)Math.Min(1000, mean + 8 * sd); j++)
        {
            double[] y = (double[])x.Clone();
            y[3] = j;
            total += Math.Exp(Sir.LogLikelihood(theta, y) - reference);
        }
        // Rounding of differences of ~10² in log scale: 1e-10 relative.
        Assert.Equal(1 / Math.Exp(Binomial.LogProbability(180, 1000, p[3])), total, total * 1e-10);
    }

    [Fact]
    public void LogLikelihood_AtTheNoiseFreeCounts_PeaksAtTheTrueParameters()
    {
        double[] theta0 = [0.5, 0.12];
        var p = new double[10];
        Assert.True(Sir.NoiseFreeTrajectory(theta0, p));
        double[] x = p.Select(v => Math.Round(1000 * v)).ToArray();
        // A 21 × 21 grid over ±10% in each rate, 1% apart: the maximum must be θ0's cell or a neighbour (rounding
        // the counts moves the maximum by much less than 1%, as 10 counts of ~10² pin the rates to ~0.5%).
        double best = double.NegativeInfinity;
        int bestI = 0, bestJ = 0;
        for (int i = -10; i <= 10; i++)
            for (int j = -10; j <= 10; j++)
            {
                double ll = Sir.LogLikelihood([theta0[0] * (1 + 0.01 * i), theta0[1] * (1 + 0.01 * j)], x);
                if (ll > best) (best, bestI, bestJ) = (ll, i, j);
            }
        Assert.InRange(bestI, -1, 1);
        Assert.InRange(bestJ, -1, 1);
    }

    [Fact]
    public void LogLikelihood_OutsideTheSupportOrForNonCounts_IsNegativeInfinity()
    {
        double[] x = [0, 3, 90, 180, 120, 40, 10, 2, 0, 0];
        Assert.Equal(double.NegativeInfinity, Sir.LogLikelihood([-0.4, 0.1], x));
        Assert.Equal(double.NegativeInfinity, Sir.LogLikelihood([0.4, 0.1], [0, 3, 90.5, 180, 120, 40, 10, 2, 0, 0]));
        Assert.Equal(double.NegativeInfinity, Sir.LogLikelihood([0.4, 0.1], [0, 3, 90, 1001, 120, 40, 10, 2, 0, 0]));
        Assert.Throws<ArgumentException>(() => Sir.LogLikelihood([0.4, 0.1], [1.0, 2.0]));
    }

    [Fact]
    public void LogPrior_IntegratesToOneAndMatchesTheLogNormals()
    {
        // In log coordinates the density is exp(LogPrior(θ))·β·γ; midpoint rule over ±7 sd, 400² cells.
        const int cells = 400;
        double total = 0;
        double w0 = 14 * 0.5 / cells, w1 = 14 * 0.2 / cells;
        for (int i = 0; i < cells; i++)
            for (int j = 0; j < cells; j++)
            {
                double l0 = Math.Log(0.4) - 7 * 0.5 + (i + 0.5) * w0, l1 = Math.Log(0.125) - 7 * 0.2 + (j + 0.5) * w1;
                total += Math.Exp(Sir.LogPrior([Math.Exp(l0), Math.Exp(l1)]) + l0 + l1) * w0 * w1;
            }
        // The midpoint rule is spectrally accurate for a Gaussian on a wide grid; the ±7 sd tails miss 3e-12.
        Assert.Equal(1.0, total, 1e-9);
        double expected = -0.5 * Math.Pow((Math.Log(0.3) - Math.Log(0.4)) / 0.5, 2) - Math.Log(0.5 * Math.Sqrt(2 * Math.PI)) - Math.Log(0.3)
                          - 0.5 * Math.Pow((Math.Log(0.1) - Math.Log(0.125)) / 0.2, 2) - Math.Log(0.2 * Math.Sqrt(2 * Math.PI)) - Math.Log(0.1);
        Assert.Equal(expected, Sir.LogPrior([0.3, 0.1]), 1e-12);
        Assert.Equal(double.NegativeInfinity, Sir.LogPrior([0.3, 0]));
        Assert.False(Sir.InSupport([0.3, -1]));
        Assert.True(Sir.InSupport([0.3, 1]));
    }

    [Fact]
    public void SimulateObservations_FailedSolve_GivesANaNRowAndDrawsNoNoise()
    {
        // Two rows, the second needing more steps than the first; a step cap between them fails only the second.
        double[] easy = [0.3, 0.2], hard = [2.0, 0.05];
        var solver = new Rodas4Solver(3, Sir.SolverOptions);
        var states = new double[30];
        Assert.Equal(OdeStatus.Success, Sir.Solve(solver, easy[0], easy[1], Sir.ObservationTimes, Sir.EndTime, states));
        int easySteps = solver.AcceptedSteps + solver.RejectedSteps;
        Assert.Equal(OdeStatus.Success, Sir.Solve(solver, hard[0], hard[1], Sir.ObservationTimes, Sir.EndTime, states));
        int hardSteps = solver.AcceptedSteps + solver.RejectedSteps;
        Assert.True(easySteps < hardSteps, $"{easySteps} vs {hardSteps} steps");
        var capped = new OdeOptions(1e-8, 1e-8, MaxSteps: (easySteps + hardSteps) / 2);

        var random = new SimulationRandom(9);
        var x = new double[20];
        Sir.SimulateObservations([.. hard, .. easy], x, random, capped);
        Assert.All(x[..10], v => Assert.True(double.IsNaN(v)));
        Assert.All(x[10..], v => Assert.True(double.IsFinite(v)));

        // The finite row got the same noise as when simulated alone, and the stream advanced by its draws only.
        var alone = new SimulationRandom(9);
        var y = new double[10];
        Sir.SimulateObservations(easy, y, alone, capped);
        Assert.Equal(y, x[10..]);
        Assert.Equal(alone.NextUInt64(), random.NextUInt64());

        // A non-finite θ fails its row too.
        Sir.SimulateObservations([double.PositiveInfinity, 0.1], y, new SimulationRandom(1));
        Assert.All(y, v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void TestObservations_FollowTheDocumentedSeedRule()
    {
        double[] observations = Sir.TestObservations(), parameters = Sir.TrueParameters();
        ulong[] seeds = Sir.TestSeeds();
        Assert.Equal(10 * 10, observations.Length);
        Assert.Equal(10 * 2, parameters.Length);
        // Pinned: the rule skips seeds 30001 and 30007, whose epidemics show in fewer than three counts.
        Assert.Equal([30000UL, 30002, 30003, 30004, 30005, 30006, 30008, 30009, 30010, 30011], seeds);
        for (int j = 0; j < 10; j++)
        {
            var batch = Sir.CreateSimulator(seeds[j]).Sample(1, seed: seeds[j]);
            Assert.Equal(batch.Get(Sir.Parameters), parameters[(2 * j)..(2 * j + 2)]);
            Assert.Equal(batch.Get(Sir.Observations), observations[(10 * j)..(10 * j + 10)]);
            Assert.True(Sir.IsInformative(parameters[(2 * j)..(2 * j + 2)], observations[(10 * j)..(10 * j + 10)]));
        }
        foreach (ulong skipped in new ulong[] { 30001, 30007 })
        {
            var batch = Sir.CreateSimulator(skipped).Sample(1, seed: skipped);
            Assert.False(Sir.IsInformative(batch.Get(Sir.Parameters), batch.Get(Sir.Observations)));
        }
        Assert.Equal([0, 11, 437, 79, 15, 1, 0, 0, 0, 0], observations[..10]);
    }
}
