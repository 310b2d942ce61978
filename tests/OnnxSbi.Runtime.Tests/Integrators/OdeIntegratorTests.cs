using OnnxSbi.Runtime.Compilation;
using OnnxSbi.Runtime.Execution;
using OnnxSbi.Runtime.Integrators;
using OnnxSbi.Runtime.Noise;
using OnnxSbi.Runtime.Samplers;
using Xunit.Abstractions;

using OnnxSbi.Runtime.Tests.Sampling;

namespace OnnxSbi.Runtime.Tests.Integrators;

public class OdeIntegratorTests(ITestOutputHelper output)
{
    private static readonly float[] InitialValues = [-2f, -0.5f, 0f, 0.75f, 3f];

    /// <summary>Max error over a batch of rows rotating at ω0·(1 + γ·t), integrated over [0, 1].</summary>
    private static (double Error, IntegrationStats Stats) RotationError(IntegratorOptions options, double omega0, double gamma = 1.0, int rows = 8)
    {
        var state = new float[2 * rows];
        for (int r = 0; r < rows; r++)
        {
            state[2 * r] = MathF.Cos(r);
            state[2 * r + 1] = 0.5f * MathF.Sin(r);
        }
        float[] initial = (float[])state.Clone();
        var system = new Rotation(omega0, gamma);
        var stats = new OdeIntegrator(options, rowWidth: 2).Integrate(system, state, 0f, 1f, CancellationToken.None);
        double maxError = 0;
        for (int r = 0; r < rows; r++)
        {
            var (a, b) = Rotation.Exact(initial[2 * r], initial[2 * r + 1], system.Angle(0, 1));
            maxError = Math.Max(maxError, Math.Max(Math.Abs(state[2 * r] - a), Math.Abs(state[2 * r + 1] - b)));
        }
        return (maxError, stats);
    }

    /// <summary>Least-squares slope of log(error) against log(h).</summary>
    private static double LogLogSlope(double[] h, double[] error)
    {
        double[] x = h.Select(v => Math.Log(v)).ToArray(), y = error.Select(v => Math.Log(v)).ToArray();
        double mx = x.Average(), my = y.Average();
        return x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum() / x.Sum(a => (a - mx) * (a - mx));
    }

    [Theory]
    // The rotation speed grows with t (γ = 1), so the field is non-autonomous and the nodes c_i are
    // exercised. ω0 and the step counts keep the global errors (1e-1 … 1e-5) far above float32 round-off
    // (~5e-7 here), which would otherwise flatten the slope.
    [InlineData("euler", 2.0, new[] { 50, 100, 200, 400 })]
    [InlineData("rk4", 10.0, new[] { 28, 40, 56, 80, 112 })]
    public void FixedStep_RotationError_ShrinksAtTheoreticalOrder(string method, double omega0, int[] steps)
    {
        var kind = IntegratorKinds.Parse(method);
        int order = ButcherTableau.For(kind).Order;
        double[] errors = steps.Select(s => RotationError(new IntegratorOptions(kind, Steps: s), omega0).Error).ToArray();
        double slope = LogLogSlope(steps.Select(s => 1.0 / s).ToArray(), errors);
        output.WriteLine($"{method}: errors {string.Join(", ", errors.Select(e => e.ToString("E2")))}; slope {slope:F3}");
        // Tolerance ±0.25 on the slope: the asymptotic constant still drifts at the coarsest steps.
        Assert.InRange(slope, order - 0.25, order + 0.25);
    }

    [Theory]
    // Errors span 2e-3 … 3e-6 (ω0·h from 0.5 to 0.18), above the ~5e-7 float32 floor. Dormand–Prince is
    // in its asymptotic range there (slope 5 ± 0.3). Tsitouras chose his coefficients to make the
    // 5th-order error terms small (e.g. b·A⁵·1 misses 1/720 by 4e-5, against 3e-4 for Dormand–Prince), so
    // in every range float32 can resolve its 6th-order terms still dominate and the slope reads 5.5–6:
    // the test then asks for at least 5th order and no more than the 6 that such a pair can show.
    [InlineData("dopri5", 4.7, 5.3)]
    [InlineData("tsit5", 4.7, 6.4)]
    public void AdaptivePair_ForcedUniformSteps_ShrinksAtFifthOrder(string method, double minSlope, double maxSlope)
    {
        // A huge tolerance accepts every step and the factor clip (×5) pins h at its cap |t1−t0|/MinSteps,
        // so MinSteps becomes an exact uniform step count and exposes the propagated method's order.
        int[] steps = [20, 28, 40, 56];
        var kind = IntegratorKinds.Parse(method);
        var errors = new double[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            var options = new IntegratorOptions(kind, Atol: 1e6, Rtol: 0, MinSteps: steps[i]);
            var (error, stats) = RotationError(options, omega0: 10.0);
            errors[i] = error;
            Assert.Equal(new IntegrationStats(steps[i], 0, 1 + 6 * steps[i]), stats);
        }
        double slope = LogLogSlope(steps.Select(s => 1.0 / s).ToArray(), errors);
        output.WriteLine($"{method}: errors {string.Join(", ", errors.Select(e => e.ToString("E2")))}; slope {slope:F3}");
        Assert.InRange(slope, minSlope, maxSlope);
    }

    [Theory]
    [InlineData("euler", 400, 1e-2)]
    [InlineData("rk4", 20, 1e-5)]
    [InlineData("dopri5", 0, 1e-4)]
    [InlineData("tsit5", 0, 1e-4)]
    public void Integrate_BatchOfInitialConditionsWithTimeForcing_MatchesExactSolution(string method, int steps, double tolerance)
    {
        // Tolerances: Euler's classical bound (h·M/2L)(e^{LT} − 1) with L = 1, M = max|y''| ≤ 4.2 (y0 = 3)
        // gives 9e-3 at h = 1/400;
        // RK4's is ≈ 1e-6 at h = 1/20 (ceiling 1e-5 covers float32 round-off over 20 steps); the adaptive
        // pairs run with defaults (rtol 1e-4, atol 1e-6) and |y| ≤ 3, so 1e-4 is a small multiple of the request.
        var kind = IntegratorKinds.Parse(method);
        var options = steps > 0 ? new IntegratorOptions(kind, Steps: steps) : new IntegratorOptions(kind);
        float[] state = (float[])InitialValues.Clone();
        var system = new DecayWithForcing();
        new OdeIntegrator(options).Integrate(system, state, 0f, 1f, CancellationToken.None);
        for (int i = 0; i < state.Length; i++)
            Assert.Equal(DecayWithForcing.Exact(InitialValues[i], 0, 1), state[i], tolerance);
        // Stages never step past t1, and every method but Euler evaluates exactly at t1 in its last step.
        Assert.Equal(0f, system.MinTime);
        Assert.Equal(kind == IntegratorKind.Euler ? (float)(1.0 - 1.0 / steps) : 1f, system.MaxTime);
    }

    [Theory]
    [InlineData("rk4")]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Integrate_BackwardInTime_MatchesExactSolution(string method)
    {
        var kind = IntegratorKinds.Parse(method);
        float[] state = (float[])InitialValues.Clone();
        var system = new DecayWithForcing();
        new OdeIntegrator(new IntegratorOptions(kind)).Integrate(system, state, 1f, 0.25f, CancellationToken.None);
        for (int i = 0; i < state.Length; i++)
        {
            // Tolerance 1e-4: backward integration grows the solution by e^{0.75} ≈ 2.1; all methods run
            // at their defaults (100 RK4 steps, or rtol 1e-4), so the error stays near 1e-5 relative.
            Assert.Equal(DecayWithForcing.Exact(InitialValues[i], 1, 0.25), state[i], 1e-4);
        }
        Assert.Equal(0.25f, system.MinTime);
        Assert.Equal(1f, system.MaxTime);
    }

    [Theory]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Adaptive_TighterTolerances_MoreStepsAndErrorWithinTolerance(string method)
    {
        // MinSteps 1 leaves the step size to the controller; ω = 20 makes 3 full turns, so the error
        // control, not the step cap, sets the step count.
        const double omega = 20.0;
        var kind = IntegratorKinds.Parse(method);
        double[] rtols = [1e-3, 1e-4, 1e-5];
        int previousSteps = 0;
        foreach (double rtol in rtols)
        {
            var options = new IntegratorOptions(kind, Atol: rtol / 100, Rtol: rtol, MinSteps: 1);
            var (error, stats) = RotationError(options, omega, gamma: 0.0);
            output.WriteLine($"{method} rtol {rtol:E0}: error {error:E2}, {stats}");
            // Tolerance: the controller bounds the local error of the embedded 4th-order solution per step,
            // the propagated 5th-order one is more accurate, and the ~20–100 steps accumulate; 10× the
            // requested tolerance (|y| ≤ 1) is the usual tolerance-proportionality margin for such pairs.
            Assert.True(error <= 10 * (rtol + rtol / 100), $"rtol {rtol}: global error {error:E3}");
            Assert.True(stats.Steps > previousSteps, $"rtol {rtol}: {stats.Steps} steps, not more than {previousSteps}");
            Assert.Equal(1 + 6 * (stats.Steps + stats.RejectedSteps), stats.FunctionEvaluations);
            previousSteps = stats.Steps;
        }
    }

    [Theory]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Adaptive_SmoothProblem_TakesAtLeastMinSteps(string method)
    {
        var kind = IntegratorKinds.Parse(method);
        var system = new DecayWithForcing();
        float[] state = (float[])InitialValues.Clone();
        var stats = new OdeIntegrator(new IntegratorOptions(kind, MinSteps: 50)).Integrate(system, state, 0f, 1f, CancellationToken.None);
        // This problem needs only a handful of steps at rtol 1e-4; the cap h ≤ 1/50 must force 50.
        Assert.Equal(50, stats.Steps);
        Assert.Equal(0, stats.RejectedSteps);
    }

    [Theory]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Adaptive_ExceedsMaxSteps_ThrowsNamingStepCount(string method)
    {
        var kind = IntegratorKinds.Parse(method);
        var options = new IntegratorOptions(kind, Atol: 1e-6, Rtol: 1e-6, MinSteps: 50, MaxSteps: 60);
        var ex = Assert.Throws<StepLimitExceededException>(() => RotationError(options, 1000.0));
        Assert.Equal(60, ex.MaxSteps);
        Assert.Contains("MaxSteps=60", ex.Message);
        Assert.IsAssignableFrom<OnnxSbiException>(ex);
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("rk4")]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Integrate_SecondCallSameLength_AllocatesNothing(string method)
    {
        var integrator = new OdeIntegrator(new IntegratorOptions(IntegratorKinds.Parse(method), MinSteps: 5), rowWidth: 2);
        var system = new Rotation(3.0);
        var state = new float[2 * 1000];
        state.AsSpan().Fill(0.5f);
        integrator.Integrate(system, state, 0f, 1f, CancellationToken.None); // sizes the workspace, JITs
        integrator.Integrate(system, state, 0f, 1f, CancellationToken.None);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var stats = integrator.Integrate(system, state, 1f, 0f, CancellationToken.None);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(stats.Steps >= 5);
        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData("euler")]
    [InlineData("rk4")]
    [InlineData("dopri5")]
    [InlineData("tsit5")]
    public void Integrate_CancelledMidway_StopsWithinOneStep(string method)
    {
        var kind = IntegratorKinds.Parse(method);
        int perStep = ButcherTableau.For(kind).Stages;
        using var cts = new CancellationTokenSource();
        var system = new CancelAfter(new DecayWithForcing(), 20, cts);
        float[] state = (float[])InitialValues.Clone();
        Assert.ThrowsAny<OperationCanceledException>(
            () => new OdeIntegrator(new IntegratorOptions(kind)).Integrate(system, state, 0f, 1f, cts.Token));
        // The token is checked before every step, so at most the rest of the current step runs.
        Assert.InRange(system.Evaluations, 20, 20 + perStep);
    }

    [Fact]
    public void Integrate_AlreadyCancelled_EvaluatesNothing()
    {
        var system = new DecayWithForcing();
        float[] state = (float[])InitialValues.Clone();
        Assert.ThrowsAny<OperationCanceledException>(
            () => new OdeIntegrator(new IntegratorOptions(IntegratorKind.Tsit5)).Integrate(system, state, 0f, 1f, new CancellationToken(true)));
        Assert.Equal(0, system.Evaluations);
    }

    [Theory]
    [InlineData("euler", 100, 100)]
    [InlineData("rk4", 25, 100)]
    public void FixedStep_EvaluationCount_IsStagesTimesSteps(string method, int steps, int expectedEvaluations)
    {
        var system = new DecayWithForcing();
        float[] state = (float[])InitialValues.Clone();
        var stats = new OdeIntegrator(new IntegratorOptions(IntegratorKinds.Parse(method), Steps: steps)).Integrate(system, state, 0f, 1f, CancellationToken.None);
        Assert.Equal(new IntegrationStats(steps, 0, expectedEvaluations), stats);
        Assert.Equal(expectedEvaluations, system.Evaluations);
    }

    [Fact]
    public void Integrate_StateNotMultipleOfRowWidth_ThrowsShapeMismatch()
    {
        var integrator = new OdeIntegrator(new IntegratorOptions(IntegratorKind.Rk4), rowWidth: 2);
        var ex = Assert.Throws<ShapeMismatchException>(() => integrator.Integrate(new Rotation(1), new float[5], 0f, 1f, CancellationToken.None));
        Assert.Equal("state", ex.VariableName);
    }

    [Fact]
    public void Adaptive_VelocityProducesNaN_ThrowsNamingRow()
    {
        var integrator = new OdeIntegrator(new IntegratorOptions(IntegratorKind.Tsit5), rowWidth: 2);
        var state = new float[] { 1, 0, 0, 1, 2, 2 };
        var ex = Assert.Throws<NonFiniteValueException>(() => integrator.Integrate(new NaNInRow(2), state, 0f, 1f, CancellationToken.None));
        Assert.Equal(2, ex.Row);
    }

    [Fact]
    public void Integrate_EqualTimes_LeavesStateAndEvaluatesNothing()
    {
        var system = new DecayWithForcing();
        float[] state = (float[])InitialValues.Clone();
        var stats = new OdeIntegrator(new IntegratorOptions(IntegratorKind.Dopri5)).Integrate(system, state, 0.5f, 0.5f, CancellationToken.None);
        Assert.Equal(default, stats);
        Assert.Equal(InitialValues, state);
    }

    private sealed class NaNInRow(int row) : IOdeSystem
    {
        public void Evaluate(float t, ReadOnlySpan<float> state, Span<float> derivative)
        {
            derivative.Clear();
            if (t > 0.3f) derivative[2 * row + 1] = float.NaN;
        }
    }
}
